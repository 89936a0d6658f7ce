"""Index changes that leave a live queue writable.

A plain ``CREATE INDEX`` holds a lock that blocks every insert and update of its table until
the index is built, and ``DROP INDEX`` one that blocks reads too: on a PostgreSQL ``delivery``
table of millions of rows, publishing, claiming and recording would all stop while a new
version of hookline upgrades the schema under the running ones. On PostgreSQL these build
and drop ``CONCURRENTLY``, outside the migration's transaction; SQLite builds as usual (its
writers wait for the upgrade's write lock in any case, and its tables are smaller).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def replace_index(name: str, table: str, columns: Sequence[str], where: str | None = None) -> None:
    """Create index ``name`` (``WHERE where``, if given), replacing any index of that name.

    On PostgreSQL the new index is built under a temporary name and then takes the old one's
    place, so queries keep an index to use throughout. Each step may be run again: a build
    that failed half-way (the process stopped, a deadline passed) leaves an invalid index
    under the temporary name, which the next run drops before it builds.
    """
    predicate = sa.text(where) if where is not None else None
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table, if_exists=True)
        op.create_index(name, table, list(columns), sqlite_where=predicate)
        return
    building = f"{name}_building"
    with op.get_context().autocommit_block():
        op.drop_index(building, table_name=table, if_exists=True, postgresql_concurrently=True)
        op.create_index(building, table, list(columns), postgresql_where=predicate, postgresql_concurrently=True)
        op.drop_index(name, table_name=table, if_exists=True, postgresql_concurrently=True)
        op.execute(sa.text(f'ALTER INDEX "{building}" RENAME TO "{name}"'))


def drop_index(name: str, table: str) -> None:
    """Drop index ``name``; on PostgreSQL without blocking the table's readers and writers."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, if_exists=True, postgresql_concurrently=True)
