"""The features of a subject at a time: only records strictly before it count, and each
feature reads what its name says."""

from __future__ import annotations

from dataclasses import replace

from ledger.core.records import (
    ZERO_HASH,
    Binding,
    BindingAction,
    ChannelChange,
    Record,
    Verification,
    VerificationMethod,
)
from ledger.risk.features import FEATURE_NAMES, PhoneIndex, feature_list_hash, features_at
from ledger.risk.population import DAY, HOUR, Kind
from ledger.risk.simulate import simulate

F = {name: i for i, name in enumerate(FEATURE_NAMES)}


def test_a_record_at_or_after_the_scoring_time_does_not_change_the_features() -> None:
    population = simulate(300, seed=11)
    phones = PhoneIndex.of(population.all_records())
    history = next(h for h in population.histories if h.kind is Kind.SIM_SWAP_TAKEOVER)
    at = history.decided_at
    before = features_at(history.records, phones, at)
    template = history.records[0]
    assert isinstance(template, Binding)
    later: list[Record] = [
        Verification(template.platform, template.subject, ZERO_HASH, t,
                     VerificationMethod.SIM_SWAP_CHECK, False, template.phone)
        for t in (at, at + 1, at + DAY)
    ]
    later.append(replace(template, timestamp=at, action=BindingAction.REBIND,
                         phone=b"\x01" * 32))
    later.append(ChannelChange(template.platform, template.subject, ZERO_HASH, at + HOUR,
                               b"\x02" * 32, b"\x03" * 32))
    # Another subject bound to the phone at the scoring time is in the future too.
    phones_after = PhoneIndex.of([*population.all_records(),
                                  replace(template, subject=b"\x09" * 32, timestamp=at)])
    assert features_at([*history.records, *later], phones_after, at) == before
    # ... and the same records one second earlier do count: the test can fail.
    assert features_at([*history.records, *later], phones_after, at + DAY + 1) != before


def test_every_history_in_the_population_is_scored_on_its_past_only() -> None:
    population = simulate(200, seed=12)
    phones = PhoneIndex.of(population.all_records())
    for history in population.histories:
        at = history.decided_at
        past = [r for r in history.records if r.timestamp < at]
        assert features_at(history.records, phones, at) == features_at(past, phones, at)


def test_signals_of_a_takeover_are_read_from_its_records() -> None:
    platform = "0x" + "11" * 20
    subject, phone, other = b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 32
    t0 = 1_767_225_600

    def binding(t: int, who: bytes, action: BindingAction) -> Binding:
        return Binding(platform, who, ZERO_HASH, t, action, phone, b"\x00" * 32, 3)

    records: list[Record] = [
        binding(t0, subject, BindingAction.BIND),
        Verification(platform, subject, ZERO_HASH, t0 + 40 * DAY,
                     VerificationMethod.SIM_SWAP_CHECK, False, phone),
        Verification(platform, subject, ZERO_HASH, t0 + 40 * DAY + 60,
                     VerificationMethod.LIVENESS, False, phone),
        binding(t0 + 40 * DAY + 120, subject, BindingAction.REBIND),
    ]
    phones = PhoneIndex.of([*records, binding(t0 + 10 * DAY, other, BindingAction.BIND)])
    row = features_at(records, phones, t0 + 41 * DAY)
    assert row[F["sim_swaps_3d"]] == row[F["sim_swaps_30d"]] == 1
    assert row[F["failed_liveness_30d"]] == 1
    assert row[F["rebinds_7d"]] == row[F["rebinds_30d"]] == row[F["rebinds_365d"]] == 1
    assert row[F["phone_other_subjects"]] == row[F["phone_other_subjects_180d"]] == 1
    assert row[F["phone_platforms"]] == 1
    assert 3.0 < row[F["log_hours_since_binding"]] < 3.3  # log1p of about 24 hours
    assert len(row) == len(FEATURE_NAMES)


def test_the_feature_list_hash_is_sha256_of_the_names_one_per_line() -> None:
    import hashlib

    assert feature_list_hash() == hashlib.sha256("\n".join(FEATURE_NAMES).encode()).digest()
    assert feature_list_hash(FEATURE_NAMES[:-1]) != feature_list_hash()
