"""The deployment's id, which the storage is marked with (so the orphan pass never removes
bytes that another registry knows).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("singleton", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment")
