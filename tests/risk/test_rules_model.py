"""Rule R9 as Python reads it, and the model of R1-R8 the evaluation compares with."""

from __future__ import annotations

from ledger.core.records import (
    ZERO_HASH,
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Purpose,
    Record,
    RiskWarning,
    Verification,
    VerificationMethod,
    factor_mask,
)
from ledger.risk.features import PhoneIndex
from ledger.risk.population import DAY, HOUR
from ledger.risk.rules_model import r9_refuses, rules_refusal

PLATFORM = "0x" + "11" * 20
SUBJECT, PHONE = b"\xaa" * 32, b"\xbb" * 32
T0 = 1_767_225_600
TWO = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])


def check(t: int, method: VerificationMethod, passed: bool) -> Verification:
    return Verification(PLATFORM, SUBJECT, ZERO_HASH, t, method, passed, PHONE)


def warning(t: int) -> RiskWarning:
    return RiskWarning(PLATFORM, SUBJECT, ZERO_HASH, t, b"\x01" * 32, b"\x02" * 32, 9000, 4000,
                       (6, 4))


def test_r9_holds_a_warned_subject_until_liveness_and_sim_swap_checks_pass_after_it() -> None:
    records: list[Record] = [check(T0 - 10, VerificationMethod.LIVENESS, True),
                             check(T0 - 5, VerificationMethod.SIM_SWAP_CHECK, True),
                             warning(T0)]
    assert r9_refuses(records, T0 + 100) == warning(T0)  # checks before the warning count not
    assert r9_refuses(records, T0) is None  # nor a warning at or after the time asked about
    records.append(check(T0 + 10, VerificationMethod.LIVENESS, True))
    assert r9_refuses(records, T0 + 100) is not None  # one of the two
    records.append(check(T0 + 20, VerificationMethod.SIM_SWAP_CHECK, False))
    assert r9_refuses(records, T0 + 100) is not None  # a swap detected is no passed check
    records.append(check(T0 + 30, VerificationMethod.SIM_SWAP_CHECK, True))
    assert r9_refuses(records, T0 + 100) is None
    assert r9_refuses(records, T0 + 25) is not None  # not yet, at a time before the last check
    records.append(warning(T0 + 50))  # a new warning asks again
    assert r9_refuses(records, T0 + 100) == warning(T0 + 50)
    # Logged after the warning in the same second, the checks follow it.
    records += [check(T0 + 50, VerificationMethod.SIM_SWAP_CHECK, True),
                check(T0 + 50, VerificationMethod.LIVENESS, True)]
    assert r9_refuses(records, T0 + 100) is None


def test_r9_allows_a_subject_never_warned() -> None:
    assert r9_refuses([check(T0, VerificationMethod.LIVENESS, False)], T0 + 1) is None


def onboarded(t: int) -> list[Record]:
    return [
        Binding(PLATFORM, SUBJECT, ZERO_HASH, t, BindingAction.BIND, PHONE, ZERO_HASH, TWO),
        Consent(PLATFORM, SUBJECT, ZERO_HASH, t, ConsentAction.GIVEN, Purpose.LENDING,
                ZERO_HASH, t + 365 * DAY),
    ]


def test_the_rules_model_refuses_as_r1_to_r4_say() -> None:
    phones = PhoneIndex()
    assert rules_refusal([], phones, T0) == "R1"
    assert rules_refusal(onboarded(T0), phones, T0 + DAY) is None
    one_factor = Binding(PLATFORM, SUBJECT, ZERO_HASH, T0, BindingAction.BIND, PHONE, ZERO_HASH,
                         factor_mask([VerificationMethod.SMS_OTP]))
    assert rules_refusal([one_factor, onboarded(T0)[1]], phones, T0 + DAY) == "R2"
    assert rules_refusal(onboarded(T0)[:1], phones, T0 + DAY) == "R3"
    swapped = [*onboarded(T0), check(T0 + DAY, VerificationMethod.SIM_SWAP_CHECK, False)]
    assert rules_refusal(swapped, phones, T0 + DAY + 71 * HOUR) == "R4"
    assert rules_refusal(swapped, phones, T0 + DAY + 73 * HOUR) is None
