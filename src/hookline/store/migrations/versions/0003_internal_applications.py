"""internal applications: the operational application is marked by a column no API call can set

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No existing row is marked: an application called ``hookline-operational`` may be a tenant's
    # (that was the hole), so the next start creates a fresh internal one from the settings.
    with op.batch_alter_table("application") as batch:
        batch.add_column(sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("application") as batch:
        batch.drop_column("internal")
