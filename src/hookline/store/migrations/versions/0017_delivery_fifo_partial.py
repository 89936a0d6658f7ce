"""the FIFO queues' index holds only deliveries in a FIFO queue

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_QUEUE = sa.text("fifo_key IS NOT NULL")
_COLUMNS = ["endpoint_id", "fifo_key", "fifo_seq"]


def upgrade() -> None:
    op.drop_index("ix_delivery_fifo", table_name="delivery")
    op.create_index("ix_delivery_fifo", "delivery", _COLUMNS, sqlite_where=_IN_QUEUE, postgresql_where=_IN_QUEUE)


def downgrade() -> None:
    op.drop_index("ix_delivery_fifo", table_name="delivery")
    op.create_index("ix_delivery_fifo", "delivery", _COLUMNS)
