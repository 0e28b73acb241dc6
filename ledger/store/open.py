"""From a database setting to a store: a `postgresql://` URL opens PostgreSQL, anything else is
a SQLite file (or `:memory:`)."""

from __future__ import annotations

from ledger.store.base import Store
from ledger.store.sqlite import SqliteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | None) -> bool:
    return bool(location) and str(location).startswith(POSTGRES_SCHEMES)


def open_store(location: str, read_only: bool = False) -> Store:
    """The store at `location`. Raises DatabaseInUseError (a SQLite file another process
    writes), SchemaOutdatedError (a PostgreSQL database to `bindledger db upgrade`) or
    SchemaTooNewError. `read_only` opens a SQLite file beside its writer (PostgreSQL has
    readers and writers in every process already)."""
    if is_postgres(location):
        from ledger.store.postgres import PostgresStore  # psycopg only where it is used

        return PostgresStore(location)
    return SqliteStore(location, read_only=read_only)


def upgrade_database(location: str) -> list[str]:
    """Apply the migrations the database lacks; returns their names ("0002_anchor_life_cycle").
    A SQLite file is upgraded by opening it; PostgreSQL only this way (ledger/store/postgres.py
    says why)."""
    if is_postgres(location):
        from ledger.store.postgres import upgrade

        applied = upgrade(location)
    else:
        store = SqliteStore(location)
        applied = store.applied_migrations
        store.close()
    return [f"{m.version:04d}_{m.name}" for m in applied]
