"""durable background jobs: parameters, a cursor and a lease, so any process can resume a job

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tasks that were running in a process's memory cannot resume (no params): the
    # job runner marks them failed when it finds them.
    with op.batch_alter_table("background_task") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cursor", sa.Text(), nullable=True))
        batch.add_column(sa.Column("locked_until", sa.BigInteger(), nullable=True))
        batch.create_index("ix_background_task_due", ["status", "locked_until"])
    # A job reads an endpoint's failed deliveries in message order, a batch after its
    # cursor: with msg_id in the index each batch is a short range scan, not a sort of them all.
    with op.batch_alter_table("delivery") as batch:
        batch.drop_index("ix_delivery_status")
        batch.create_index("ix_delivery_status", ["status", "endpoint_id", "msg_id"])


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_index("ix_delivery_status")
        batch.create_index("ix_delivery_status", ["status", "endpoint_id"])
    with op.batch_alter_table("background_task") as batch:
        batch.drop_index("ix_background_task_due")
        batch.drop_column("locked_until")
        batch.drop_column("cursor")
        batch.drop_column("params")
