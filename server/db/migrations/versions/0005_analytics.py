"""Analytics events (typed, free of patient data; client.core.events), kept for a retention period.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("event", sa.JSON, nullable=False),
    )
    op.create_index("ix_analytics_events_received_at", "analytics_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("analytics_events")
