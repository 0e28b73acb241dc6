"""What only PostgreSQL has: several stores (processes) appending to one log, and a schema
that is upgraded on purpose, never behind the back of other processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ledger.store.base import ChainConflictError
from ledger.store.migrations import SchemaOutdatedError, latest_version
from ledger.store.postgres import PostgresStore, upgrade
from tests.support.postgres import fresh_schema

P1, P2 = "0x" + "11" * 20, "0x" + "22" * 20


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def stores(postgres_url: str) -> Iterator[list[PostgresStore]]:
    """Three stores on one database, each with its own connections, as three processes."""
    opened = [PostgresStore(postgres_url) for _ in range(3)]
    yield opened
    for store in opened:
        store.close()


def test_several_writers_share_one_gapless_log_per_platform(
    stores: list[PostgresStore],
) -> None:
    def write(store: PostgresStore, base: int) -> None:
        for i in range(40):
            platform = (P1, P2)[i % 2]
            batch = [(platform, h(base + 2 * i + k), h(base), "Binding", "{}") for k in (0, 1)]
            _rows, ticket = store.stage_records(batch)
            store.wait_durable(ticket)

    threads = [
        threading.Thread(target=write, args=(store, 1000 * (2 * n + t + 1)))
        for n, store in enumerate(stores)
        for t in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for platform in (P1, P2):
        hashes = stores[0].record_hashes(platform)
        assert len(hashes) == len(set(hashes)) == 6 * 40
        indexes = [stores[0].get_record_by_hash(x).leaf_index for x in hashes]  # type: ignore[union-attr]
        assert indexes == list(range(6 * 40))


def test_racing_writers_cannot_fork_a_subjects_chain(stores: list[PostgresStore]) -> None:
    """Each writer reads the subject's head and appends on top of it; a writer that lost the
    race is refused and reads again, so the chain stays one line."""
    subject = h(9)
    refused = []

    def extend(store: PostgresStore, base: int) -> None:
        for i in range(30):
            while True:
                last = store.last_record_of_subject(P1, subject)
                prev = last.record_hash if last else bytes(32)
                try:
                    _rows, ticket = store.stage_records(
                        [(P1, h(base + i), subject, "Consent", prev.hex())], prevs=[prev]
                    )
                    store.wait_durable(ticket)
                    break
                except ChainConflictError:
                    refused.append(base)

    threads = [
        threading.Thread(target=extend, args=(store, 1000 * (n + 1)))
        for n, store in enumerate(stores)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = stores[0].records_of_subject(P1, subject)
    assert len(chain) == 90
    prevs = [bytes(32)] + [row.record_hash for row in chain[:-1]]
    assert [bytes.fromhex(row.body) for row in chain] == prevs
    assert refused, "the writers raced at least once"


def test_an_old_schema_is_refused_until_upgraded(postgres_database: str) -> None:
    with fresh_schema(postgres_database, migrate=False) as url:
        with pytest.raises(SchemaOutdatedError, match="bindledger db upgrade"):
            PostgresStore(url)
        applied = upgrade(url)
        assert [m.version for m in applied] == list(range(1, latest_version("postgres") + 1))
        assert upgrade(url) == []  # a second upgrade finds nothing to do
        PostgresStore(url).close()


def test_an_error_names_the_database_but_never_its_password(postgres_database: str) -> None:
    with fresh_schema(postgres_database, migrate=False) as url:
        user, _, rest = url.removeprefix("postgresql://").partition("@")
        secret_url = f"postgresql://{user}:hunter2-secret@{rest}"  # trust auth ignores it
        with pytest.raises(SchemaOutdatedError) as refused:
            PostgresStore(secret_url)
        assert "hunter2" not in str(refused.value)


def test_bindledger_db_upgrade_applies_what_is_missing_once(postgres_database: str) -> None:
    from typer.testing import CliRunner

    from ledger.cli import app

    with fresh_schema(postgres_database, migrate=False) as url:
        first = CliRunner().invoke(app, ["db", "upgrade", "--database", url])
        assert first.exit_code == 0 and "applied 0001_initial, 0002_anchor_life_cycle" in first.stdout
        again = CliRunner().invoke(app, ["db", "upgrade", "--database", url])
        assert again.exit_code == 0 and "up to date" in again.stdout
        PostgresStore(url).close()
