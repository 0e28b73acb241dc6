"""Processes that share a store each relay rule records from an account of their own, so two
never sign two transactions with one nonce."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.config import Settings
from ledger.relayers import NoFreeRelayerError, RelayerLease, relayer_lease_name
from ledger.store.sqlite import SqliteStore

ACCOUNTS = [Account.from_key(bytes([n]) * 32) for n in (1, 2)]


def test_each_process_takes_a_relayer_no_other_holds() -> None:
    store = SqliteStore()
    first = RelayerLease(store, ACCOUNTS, holder="process-1")
    second = RelayerLease(store, ACCOUNTS, holder="process-2")
    assert (first.account, second.account) == (ACCOUNTS[0], ACCOUNTS[1])
    with pytest.raises(NoFreeRelayerError, match="all 2 relayer account.*BINDLEDGER_RELAYER_KEYS"):
        RelayerLease(store, ACCOUNTS, holder="process-3")
    first.release()
    third = RelayerLease(store, ACCOUNTS, holder="process-3")
    assert third.account == ACCOUNTS[0]
    second.release()
    third.release()


def test_a_dead_process_s_relayer_is_free_once_its_lease_expires() -> None:
    store = SqliteStore()
    now = [1000.0]
    # What a process killed while holding the relayer leaves behind: its lease, never renewed.
    dead = store.acquire_lease(relayer_lease_name(ACCOUNTS[0]), "dead", 30, now[0])
    assert dead is not None
    with pytest.raises(NoFreeRelayerError):
        RelayerLease(store, ACCOUNTS[:1], ttl=30, clock=lambda: now[0], holder="new")
    now[0] += 31
    taken = RelayerLease(store, ACCOUNTS[:1], ttl=30, clock=lambda: now[0], holder="new")
    assert taken.account == ACCOUNTS[0] and taken.fence.token == dead.token + 1
    taken.release()


def test_the_relayers_are_the_relayer_key_and_the_further_ones_each_once() -> None:
    settings = Settings(relayer_keys=f'["{ACCOUNTS[0].key.hex()}", "{ACCOUNTS[0].key.hex()}"]')
    assert [a.address for a in settings.relayer_accounts] == [
        settings.relayer_account.address, ACCOUNTS[0].address]
