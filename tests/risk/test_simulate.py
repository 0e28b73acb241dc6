"""The synthetic population: seeded, made of real records, with the documented mix."""

from __future__ import annotations

from collections import Counter

import pytest

from ledger.core.records import Binding, Disbursement, Record, sign_record, verify_signature
from ledger.risk.population import ADVERSE, DEFAULT_POPULATION, Kind
from ledger.risk.simulate import simulate


def test_the_same_seed_gives_the_same_population_record_for_record() -> None:
    first, again = simulate(400, seed=5), simulate(400, seed=5)
    assert first == again
    assert simulate(400, seed=6).histories != first.histories


def test_a_history_is_one_subjects_records_in_time_order_ending_with_the_disbursement() -> None:
    for history in simulate(300, seed=7).histories:
        times = [r.timestamp for r in history.records]
        assert times == sorted(times)
        assert {r.subject for r in history.records} == {history.subject}
        assert isinstance(history.records[0], Binding)
        assert isinstance(history.records[-1], Disbursement)
        assert history.adverse == (history.kind in ADVERSE)


def test_the_records_are_real_records_that_sign_and_verify() -> None:
    from ledger.core.records import Domain

    domain = Domain(1, "0x" + "22" * 20)
    history = simulate(50, seed=8).histories[0]
    record: Record = history.records[0]
    # The simulated platforms have no keys; a record re-made for a known key signs and verifies.
    from eth_account import Account

    account = Account.create("risk test")
    mine = type(record)(**{**record.__dict__, "platform": account.address})
    assert verify_signature(sign_record(mine, domain, bytes(account.key)), domain)


def test_the_mix_of_kinds_is_the_documented_one() -> None:
    counts = Counter(h.kind for h in simulate(4000, seed=9).histories)
    for kind, share in DEFAULT_POPULATION.mix.items():
        assert counts[kind] / 4000 == pytest.approx(share, abs=0.02), kind
    # Recycled numbers bring earlier holders of the same phone into the ledger.
    population = simulate(400, seed=9)
    recycled = [h for h in population.histories if h.kind is Kind.RECYCLED_NUMBER]
    assert recycled and population.others
    held = {r.phone for r in population.others if isinstance(r, Binding)}
    assert any(isinstance(r, Binding) and r.phone in held for r in recycled[0].records)


def test_a_population_needs_a_history() -> None:
    with pytest.raises(ValueError, match="at least one history"):
        simulate(0, seed=1)
