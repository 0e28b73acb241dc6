"""What only a SQLite file has: one writer process at a time, and old files upgraded in place
by numbered migrations when they are opened."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.store import AnchorState, SqliteStore
from ledger.store.migrations import latest_version, migrations

P1 = "0x" + "11" * 20

# Opens the file in another process, as a second `bindledger serve` would.
SECOND_PROCESS = """
import sys
from ledger.store import SqliteStore
from ledger.store.file_lock import DatabaseInUseError
try:
    SqliteStore(sys.argv[1]).close()
except DatabaseInUseError as exc:
    print(exc)
    sys.exit(17)
"""


def second_process(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_second_process_cannot_open_a_file_in_use(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    store = SqliteStore(path)
    refused = second_process(path)
    assert refused.returncode == 17, refused.stderr
    message = " ".join(refused.stdout.split())
    assert str(path) in message
    assert "one process per SQLite file" in message and "PostgreSQL" in message
    store.close()
    assert second_process(path).returncode == 0  # free again once closed


def test_stores_of_one_process_share_the_file(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "s.db")
    second = SqliteStore(tmp_path / "s.db")
    first.close()
    assert second_process(tmp_path / "s.db").returncode == 17  # still held by `second`
    second.close()


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_a_database_of_the_first_version_is_upgraded_when_opened(tmp_path: Path) -> None:
    """A file written before the anchor life cycle: no schema_version table, no nonce column,
    and heads anchored as 'ANCHORED'. Opened, it is at the latest version, and its anchored
    heads are INCLUDED (the watcher then counts their confirmations)."""
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(migrations("sqlite")[0].sql)
    old.execute(
        "INSERT INTO records (platform, leaf_index, record_hash, subject, record_type, body)"
        " VALUES (?, 0, ?, ?, 'Binding', '{}')", (P1, h(1), h(9)))
    old.execute(
        "INSERT INTO heads (platform, tree_size, root_hash, sealed_at, state, chain_id,"
        " contract, tx_hash, raw_tx, block_number, block_hash, block_time)"
        " VALUES (?, 1, ?, 100, 'ANCHORED', 31337, ?, ?, ?, 12, ?, 1700)",
        (P1, h(5), P1, h(77), b"raw", h(88)))
    old.commit()
    old.close()
    store = SqliteStore(path)
    (head,) = store.heads(P1)
    assert (head.state, head.tx_hash, head.nonce) == (AnchorState.INCLUDED, h(77), None)
    assert store.anchor_transactions(P1, 1) == [h(77)]
    assert store.record_hashes(P1) == [h(1)]
    store.close()
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchall()
    assert [v for (v,) in versions] == list(range(1, latest_version("sqlite") + 1))


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="schema version 999"):
        SqliteStore(path)
    SqliteStore(tmp_path / "other.sqlite3").close()  # the refused file's lock was let go
    assert second_process(path).returncode != 17


def test_a_reader_opens_the_file_beside_its_writer_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    writer = SqliteStore(path)
    writer.add_record("0x" + "11" * 20, b"\x01" * 32, b"\x02" * 32, "Binding", "{}")
    reader = SqliteStore(path, read_only=True)
    assert reader.record_hashes("0x" + "11" * 20) == [b"\x01" * 32]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.add_record("0x" + "11" * 20, b"\x03" * 32, b"\x02" * 32, "Binding", "{}")
    reader.close()
    writer.close()
