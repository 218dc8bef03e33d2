"""The upload registry.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("case_ref", sa.String(128)),
        sa.Column("length", sa.BigInteger),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("concat", sa.String(8)),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("store", sa.JSON, nullable=False),
        sa.Column("concatenated_into", sa.String(32)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_uploads_state_updated_at", "uploads", ["state", "updated_at"])
    op.create_index("ix_uploads_owner_created_at", "uploads", ["owner", "created_at"])
    op.create_index("ix_uploads_concatenated_into", "uploads", ["concatenated_into"])


def downgrade() -> None:
    op.drop_table("uploads")
