"""inspector: capture URLs (bins) and the requests they captured

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspect_bin",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("max_requests", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("verify_provider", sa.String(length=64), nullable=True),
        sa.Column("verify_secret", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_inspect_bin_app", "inspect_bin", ["app_id", "id"])
    op.create_index("ix_inspect_bin_expires", "inspect_bin", ["expires_at"])
    op.create_table(
        "inspect_request",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bin_id", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=True),
        sa.Column("response_status", sa.SmallInteger(), nullable=True),
        sa.Column("forwarded_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspect_request_bin", "inspect_request", ["bin_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_inspect_request_bin", table_name="inspect_request")
    op.drop_table("inspect_request")
    op.drop_index("ix_inspect_bin_expires", table_name="inspect_bin")
    op.drop_index("ix_inspect_bin_app", table_name="inspect_bin")
    op.drop_table("inspect_bin")
