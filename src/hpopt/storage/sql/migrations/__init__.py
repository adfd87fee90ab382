"""Alembic migrations of the SQL storage schema (run by ``hpopt.storage.sql.upgrade_storage``)."""
