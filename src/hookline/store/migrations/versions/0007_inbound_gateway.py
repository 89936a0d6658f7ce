"""inbound gateway: sources, received requests, the dedup window; raw message bodies

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("content_type", sa.Text(), nullable=True))
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=True))
    op.create_table(
        "ingest_source",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("uid", sa.String(length=256), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("old_token_hash", sa.String(length=64), nullable=True),
        sa.Column("old_token_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
        sa.UniqueConstraint("app_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_ingest_source_old_token_hash", "ingest_source", ["old_token_hash"])
    op.create_table(
        "ingest_request",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.String(length=300), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("msg_id", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ingest_request_source", "ingest_request", ["source_id", "id"])
    op.create_table(
        "ingest_dedup",
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "dedup_key"),
    )


def downgrade() -> None:
    op.drop_table("ingest_dedup")
    op.drop_index("ix_ingest_request_source", table_name="ingest_request")
    op.drop_table("ingest_request")
    op.drop_index("ix_ingest_source_old_token_hash", table_name="ingest_source")
    op.drop_table("ingest_source")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("headers")
        batch.drop_column("content_type")
