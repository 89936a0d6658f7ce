"""portal links: the single-use magic links of app-portal-access, and the sessions they became

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_link",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_hash", name="uq_portal_link_link_hash"),
        sa.UniqueConstraint("session_hash", name="uq_portal_link_session_hash"),
    )


def downgrade() -> None:
    op.drop_table("portal_link")
