"""The database tables, as SQLAlchemy Core metadata (migrations in ``migrations/`` create them).

One row per upload. ``store`` holds the byte store's own progress (an S3
multipart upload id, its parts' ETags, the tail object's key), written in the
same statement as the offset it covers, so offset and bytes never disagree.
Timestamps are Unix seconds. The feature-flag, analytics and audit tables of
later issues join this metadata.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("case_ref", String(128)),
    Column("length", BigInteger),
    Column("offset", BigInteger, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("concat", String(8)),
    Column("parts", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("store", JSON, nullable=False),
    Column("concatenated_into", String(32)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_uploads_state_updated_at", "state", "updated_at"),
    Index("ix_uploads_owner_created_at", "owner", "created_at"),
    Index("ix_uploads_concatenated_into", "concatenated_into"),
)

# One row: this deployment's random id. The storage carries it too (a marker object or
# file), so a registry pointed at someone else's storage never treats their bytes as orphans.
deployment = Table(
    "deployment",
    metadata,
    Column("singleton", Integer, primary_key=True),
    Column("id", String(32), nullable=False),
)

# Append-only: every bypass (an original sent on a clinician's say-so, or an emergency). No file
# name, no metadata value: who, which upload, why (a code), how big, when.
audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("principal", String(80), nullable=False),
    Column("upload_id", String(32), nullable=False),
    Column("reason", String(24), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("size", BigInteger),
    Index("ix_audit_at", "at"),
)

# One row: the feature-flag state in force (Unleash client-features JSON, validated), shared by
# every instance; ``origin`` says where it came from: "file", "api" or "unleash".
flags = Table(
    "flags",
    metadata,
    Column("singleton", Integer, primary_key=True),
    Column("state", Text, nullable=False),
    Column("etag", String(40), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Analytics: one row per event, as the strict decoder accepted it (enumerations, numbers and
# anonymous ids only: client.core.events). Deleted after the retention period.
analytics_events = Table(
    "analytics_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("type", String(32), nullable=False),
    Column("event", JSON, nullable=False),
    Index("ix_analytics_events_received_at", "received_at"),
)
