"""token lifetimes: expiry, revocation, origin, and portal grants (read-only, capabilities, session)

Revision ID: 0005
Revises: 0004
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="cli"))
        batch.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("read_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("capabilities", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("session_id", sa.String(length=256), nullable=True))
        batch.create_index("ix_api_token_app", ["app_id", "session_id"])
    # Earlier versions named their tokens by how they were made: that names their origin.
    token = sa.table(
        "api_token",
        sa.column("name", sa.Text),
        sa.column("app_id"),
        sa.column("origin", sa.String),
        sa.column("expires_at", sa.BigInteger),
    )
    op.execute(
        token.update()
        .where(token.c.name == "admin (generated at first start)", token.c.app_id.is_(None))
        .values(origin="generated")
    )
    # Portal tokens used to live forever: give the existing ones Svix's 7 days from now.
    week_from_now = int(time.time() * 1000) + 7 * 24 * 3600 * 1000
    op.execute(
        token.update().where(token.c.name == "app portal access").values(origin="portal", expires_at=week_from_now)
    )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_index("ix_api_token_app")
        for column in ("session_id", "capabilities", "read_only", "revoked_at", "expires_at", "origin"):
            batch.drop_column(column)
