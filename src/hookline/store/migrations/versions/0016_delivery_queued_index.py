"""indexes of the deliveries queued or leased only: by due time, and by endpoint and due time

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = sa.text("next_attempt_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_delivery_due", table_name="delivery")
    op.create_index("ix_delivery_due", "delivery", ["next_attempt_at"], sqlite_where=_QUEUED, postgresql_where=_QUEUED)
    op.create_index(
        "ix_delivery_queued",
        "delivery",
        ["endpoint_id", "next_attempt_at"],
        sqlite_where=_QUEUED,
        postgresql_where=_QUEUED,
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_queued", table_name="delivery")
    op.drop_index("ix_delivery_due", table_name="delivery")
    op.create_index("ix_delivery_due", "delivery", ["next_attempt_at"])
