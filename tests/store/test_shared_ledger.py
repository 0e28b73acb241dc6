"""Two ledgers on one PostgreSQL database, as two processes: each sees the other's records
when it seals a head or builds a proof, and neither trusts what it remembers of a subject's
chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.core.merkle import leaf_hash, verify_inclusion
from ledger.core.records import Consent, ConsentAction, Purpose
from ledger.service import ChainBreakError, Ledger
from ledger.store.postgres import PostgresStore
from tests.support.log_trials import ledger_on


@pytest.fixture
def ledgers(postgres_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    stores = [PostgresStore(postgres_url) for _ in range(2)]
    yield ledger_on(stores[0]), ledger_on(stores[1])
    for store in stores:
        store.close()


def consent(ledger: Ledger, subject: bytes, prev: bytes) -> Consent:
    platform = next(iter(ledger.platforms))
    return Consent(platform=platform, subject=subject, prev=prev, timestamp=ledger.now(),
                   action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
                   policy_hash=bytes(32), expires_at=0)


def write(ledger: Ledger, subject: bytes) -> int:
    platform = next(iter(ledger.platforms.values()))
    accepted = ledger.sign_and_submit(platform, subject, lambda p: consent(ledger, subject, p))
    return accepted.row.id


def test_a_head_sealed_in_one_process_covers_records_of_the_other(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    a, b = ledgers
    platform = next(iter(a.platforms))
    write(a, a.refs.subject("s-1"))
    assert b.seal(platform) is not None  # b wrote nothing, yet its log caught up
    ids = [write(a, a.refs.subject("s-2")), write(b, a.refs.subject("s-3"))]
    head = a.seal(platform)
    assert head is not None and head.tree_size == 3
    a.store.mark_sent(platform, 3, 31337, "0x" + "ab" * 20, bytes(32), b"raw", nonce=0)
    a.store.mark_included(platform, 3, bytes(32), 7, b"\x01" * 32, 1700)
    assert a.store.mark_final(platform, 3, b"\x01" * 32)
    for ledger in (a, b):
        for record_id in ids:
            bundle = ledger.proof_bundle(record_id)
            verify_inclusion(leaf_hash(bundle.record_hash), bundle.leaf_index, bundle.tree_size,
                             bundle.inclusion_path, head.root_hash)


def test_a_subjects_chain_is_read_from_the_store_not_remembered(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    a, b = ledgers
    subject = a.refs.subject("s-1")
    write(a, subject)
    write(b, subject)  # extends the chain behind a's back
    write(a, subject)  # a builds on b's record, not on the one it wrote
    platform = next(iter(a.platforms))
    chain = a.store.records_of_subject(platform, subject)
    prevs = [a.read(row).record.record.prev for row in chain]
    assert prevs == [bytes(32), chain[0].record_hash, chain[1].record_hash]


def test_a_record_on_a_stale_head_is_refused_as_a_chain_break(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    a, b = ledgers
    subject = a.refs.subject("s-1")
    write(a, subject)
    platform = next(iter(a.platforms.values()))
    stale = a.subject_head(platform.address, subject)
    write(b, subject)
    with pytest.raises(ChainBreakError) as refused:
        a.sign_and_submit(platform, subject, lambda _p: consent(a, subject, stale))
    assert refused.value.actual == stale and refused.value.index == 0  # type: ignore[attr-defined]
