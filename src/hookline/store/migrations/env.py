"""Alembic environment: hookline runs migrations on a connection it hands in.

On PostgreSQL that connection is outside any transaction, and each migration runs in one of
its own, so that a migration may step outside it to build an index without blocking writes
(migrations/indexes.py). On SQLite the whole upgrade is one transaction, under the write lock.
"""

from alembic import context

from hookline.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
