"""delivery policies: endpoint filters, transformations and FIFO order, event schema validation

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoint") as batch:
        batch.add_column(sa.Column("filter", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("transformation_code", sa.Text(), nullable=True))
        batch.add_column(sa.Column("transformation_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("fifo", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("fifo_on_exhausted", sa.String(length=8), nullable=False, server_default="skip"))
        batch.add_column(sa.Column("fifo_next", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("event_type") as batch:
        batch.add_column(sa.Column("schema_validation", sa.String(length=8), nullable=False, server_default="off"))
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("schema_version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("schema_warning", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ordering_key", sa.String(length=256), nullable=True))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("fifo_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fifo_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_delivery_fifo", "delivery", ["endpoint_id", "fifo_key", "fifo_seq"])
    with op.batch_alter_table("attempt") as batch:
        batch.add_column(sa.Column("request", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_delivery_fifo", table_name="delivery")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("fifo_seq")
        batch.drop_column("fifo_key")
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("request")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("ordering_key")
        batch.drop_column("schema_warning")
        batch.drop_column("schema_version")
    with op.batch_alter_table("event_type") as batch:
        batch.drop_column("schema_validation")
    with op.batch_alter_table("endpoint") as batch:
        batch.drop_column("fifo_next")
        batch.drop_column("fifo_on_exhausted")
        batch.drop_column("fifo")
        batch.drop_column("transformation_enabled")
        batch.drop_column("transformation_code")
        batch.drop_column("filter")
