"""PostgreSQL for the tests: the server named by BINDLEDGER_TEST_DATABASE_URL (`make test` finds
or starts one, see scripts/test_database.sh), a throwaway database per session and a fresh
schema per test, so that parallel runs and tests never see each other's rows."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from ledger.store.postgres import upgrade

ENV = "BINDLEDGER_TEST_DATABASE_URL"
HOW = (
    f"the PostgreSQL tests need a server: run them through `make test` (which starts one, "
    f"installing Debian's postgresql package when needed: sudo apt-get install -y postgresql), "
    f"or set {ENV}=postgresql://USER@HOST:PORT/DATABASE (a role that may create databases)"
)


def server_url() -> str:
    """The server's URL; fails the test (never skips it) when there is none."""
    url = os.environ.get(ENV)
    if not url:
        pytest.fail(f"{ENV} is not set: {HOW}", pytrace=False)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"cannot connect to {ENV} ({exc}): {HOW}", pytrace=False)
    return url


def with_database(url: str, database: str, schema: str | None = None) -> str:
    """`url` naming another database and, optionally, a schema to work in (search_path)."""
    parts = urlsplit(url)
    query = parts.query
    if schema is not None:
        option = "options=" + quote(f"-csearch_path={schema}")
        query = f"{query}&{option}" if query else option
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, query, ""))


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on the server, dropped at the end."""
    name = f"bl_test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def fresh_schema(database: str, migrate: bool = True) -> Iterator[str]:
    """A new schema in `database`, with the store's tables unless `migrate` is False; the URL
    returned works in it. Dropped at the end."""
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    parts = urlsplit(database)
    url = with_database(database, parts.path.lstrip("/"), schema=name)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
