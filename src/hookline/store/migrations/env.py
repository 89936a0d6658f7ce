"""Alembic environment: hookline runs migrations on a connection it hands in."""

from alembic import context

from hookline.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
