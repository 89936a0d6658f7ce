"""the FIFO queues' index holds only deliveries in a FIFO queue

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

from hookline.store.migrations.indexes import replace_index

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["endpoint_id", "fifo_key", "fifo_seq"]


def upgrade() -> None:
    replace_index("ix_delivery_fifo", "delivery", _COLUMNS, where="fifo_key IS NOT NULL")


def downgrade() -> None:
    replace_index("ix_delivery_fifo", "delivery", _COLUMNS)
