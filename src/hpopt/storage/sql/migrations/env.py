"""Alembic environment: runs the migrations on the connection hpopt hands over.

hpopt calls alembic programmatically (``hpopt.storage.sql.migrate``) and passes an open
connection, already inside a transaction, in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from hpopt.storage.sql.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "hpopt's migrations run on a connection hpopt provides; "
        "use `hpopt storage upgrade URL` or hpopt.storage.sql.upgrade_storage(url)"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
