"""ingest forwards keep the path below the ingest URL and the query; destinations may opt out

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("forward_path", sa.Text(), nullable=True))
    with op.batch_alter_table("endpoint") as batch:
        batch.add_column(sa.Column("path_forwarding_disabled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("endpoint") as batch:
        batch.drop_column("path_forwarding_disabled")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("forward_path")
