"""indexes of the deliveries queued or leased only: by due time, and by endpoint and due time

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from hookline.store.migrations.indexes import drop_index, replace_index

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = "next_attempt_at IS NOT NULL"


def upgrade() -> None:
    replace_index("ix_delivery_due", "delivery", ["next_attempt_at"], where=_QUEUED)
    replace_index("ix_delivery_queued", "delivery", ["endpoint_id", "next_attempt_at"], where=_QUEUED)


def downgrade() -> None:
    drop_index("ix_delivery_queued", "delivery")
    replace_index("ix_delivery_due", "delivery", ["next_attempt_at"])
