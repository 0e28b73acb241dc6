"""`bindledger vault rotate` re-wraps the data keys of a database with the current vault key."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app
from ledger.privacy.keys import KeyRing, key_scope, new_data_key, unwrap, wrap
from ledger.store.base import WrappedKey
from ledger.store.sqlite import SqliteStore

K1 = "k1:" + "11" * 32
K2 = "k2:" + "22" * 32
PLATFORM = "0x" + "33" * 20


def test_vault_rotate_rewraps_with_the_current_key(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite3"
    subject, data_key = os.urandom(32), new_data_key()
    store = SqliteStore(database)
    old = KeyRing.parse(K1).current
    store.add_vault_key(WrappedKey(PLATFORM, subject, "k1",
                                   wrap(old, data_key, key_scope(PLATFORM, subject))))
    store.close()
    env = {k: None for k in os.environ if k.startswith("BINDLEDGER_")}
    env.update(BINDLEDGER_DATABASE=str(database), BINDLEDGER_VAULT_KEY=K2,
               BINDLEDGER_VAULT_RETIRED_KEYS=K1)
    result = CliRunner(env=env).invoke(app, ["vault", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-wrapped 1 data key(s) with vault key k2" in result.stdout
    store = SqliteStore(database)
    stored = store.vault_key(PLATFORM, subject)
    store.close()
    assert stored is not None and stored.kek_id == "k2"
    new = KeyRing.parse(K2).current
    assert unwrap(new, stored.wrapped, key_scope(PLATFORM, subject)) == data_key
    assert "22" * 32 not in result.output and "11" * 32 not in result.output
