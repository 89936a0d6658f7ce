"""per-source IP allow-lists and rate limits; rate limits of inspector bins

Revision ID: 0014
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_source") as batch:
        batch.add_column(sa.Column("allowed_ips", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rate_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rate_tat", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("inspect_bin") as batch:
        batch.add_column(sa.Column("rate_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rate_tat", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspect_bin") as batch:
        batch.drop_column("rate_tat")
        batch.drop_column("rate_limit")
    with op.batch_alter_table("ingest_source") as batch:
        batch.drop_column("rate_tat")
        batch.drop_column("rate_limit")
        batch.drop_column("allowed_ips")
