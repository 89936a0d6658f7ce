"""svix parity: integrations, polling consumer cursors, background task results

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("feature_flags", sa.JSON(), nullable=False),
        sa.Column("token_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_integration_app", "integration", ["app_id", "id"])
    op.create_table(
        "poller_cursor",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("consumer_id", sa.String(length=256), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", "consumer_id"),
    )
    op.create_table(
        "background_task_result",
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )


def downgrade() -> None:
    op.drop_table("background_task_result")
    op.drop_table("poller_cursor")
    op.drop_index("ix_integration_app", table_name="integration")
    op.drop_table("integration")
