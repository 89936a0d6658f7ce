"""an index of attempts by application and id: the application's attempt log, newest first

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

from hookline.store.migrations.indexes import drop_index, replace_index

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Built concurrently on PostgreSQL: the attempt table takes a row per try, all the time.
    replace_index("ix_attempt_app", "attempt", ["app_id", "id"])


def downgrade() -> None:
    drop_index("ix_attempt_app", "attempt")
