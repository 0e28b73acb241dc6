"""Stores to test: SQLite in memory and in a file, and PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.store import SqliteStore, Store
from ledger.store.postgres import PostgresStore
from tests.support.postgres import fresh_database, fresh_schema, server_url

STORE_KINDS = ["sqlite-memory", "sqlite-file", "postgres"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database for this session's PostgreSQL tests."""
    with fresh_database(server_url()) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A fresh schema at the current version, for one test."""
    with fresh_schema(postgres_database) as url:
        yield url


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every test that takes `store` runs against each implementation."""
    s: Store
    if request.param == "postgres":
        s = PostgresStore(request.getfixturevalue("postgres_url"))
    else:
        s = SqliteStore(":memory:" if request.param == "sqlite-memory" else tmp_path / "s.db")
    yield s
    s.close()
