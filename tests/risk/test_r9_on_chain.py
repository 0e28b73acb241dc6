"""Rule R9 end to end, on eth-tester and on anvil: a warning BindLedger writes is relayed to the
contract, which then refuses the subject's disbursement (RiskRulesRiskWarning); the refusal is
logged as a Refusal record under R9, and the subject's timeline (the warning in its chain, the
refusal beside it) verifies, the refusal replayed on the node. After a passed liveness check and
a passed SIM-swap check the disbursement is made."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils.crypto import keccak

from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Disbursement,
    LoanCreation,
    Purpose,
    Record,
    Refusal,
    RiskWarning,
    Verification,
    VerificationMethod,
    factor_mask,
)
from ledger.core.timeline import Timeline
from ledger.core.verdict import CheckName, Outcome
from ledger.risk.evaluate import dataset
from ledger.risk.model import RiskModel, fit
from ledger.risk.warnings import assess, release_model, warning_open
from ledger.rules import RuleRefusedError, rules_for
from ledger.service import Ledger
from ledger.timeline import export_timeline, verify_timeline
from tests.spec import independent as spec

SUBJECT = keccak(text="warned borrower")
PHONE = keccak(text="warned phone")
LOAN = keccak(text="warned loan")


@pytest.fixture(scope="module")
def model() -> RiskModel:
    data = dataset(800, seed=31)
    return fit(data.rows, data.labels, seed=31)


def submit(ledger: Ledger, build: Callable[[bytes], Record]) -> None:
    platform = next(iter(ledger.platforms.values()))
    rules_for(ledger).sign_and_submit(platform, SUBJECT, build)


def base(ledger: Ledger) -> dict[str, object]:
    platform = next(iter(ledger.platforms.values()))
    return {"platform": platform.address, "subject": SUBJECT, "timestamp": ledger.now()}


def verification(ledger: Ledger, method: VerificationMethod, passed: bool) -> None:
    submit(ledger, lambda prev: Verification(**base(ledger), prev=prev, method=method,  # type: ignore[arg-type]
                                             passed=passed, phone=PHONE))


def disbursement(ledger: Ledger) -> None:
    submit(ledger, lambda prev: Disbursement(**base(ledger), prev=prev, loan=LOAN,  # type: ignore[arg-type]
                                             amount=1_000))


def test_a_warned_subject_is_refused_under_r9_and_the_refusal_is_in_its_timeline(
        ledger_: Ledger, model: RiskModel) -> None:
    ledger = ledger_
    platform = next(iter(ledger.platforms.values()))
    now = ledger.now()
    release_model(ledger, platform, model)
    submit(ledger, lambda prev: Binding(**base(ledger), prev=prev, action=BindingAction.BIND,  # type: ignore[arg-type]
                                        phone=PHONE, account=SUBJECT, factors=factor_mask(
                                            [VerificationMethod.SMS_OTP,
                                             VerificationMethod.LIVENESS])))
    submit(ledger, lambda prev: Consent(**base(ledger), prev=prev, action=ConsentAction.GIVEN,  # type: ignore[arg-type]
                                        purpose=Purpose.LENDING, policy_hash=SUBJECT,
                                        expires_at=now + 365 * 86400))
    submit(ledger, lambda prev: LoanCreation(**base(ledger), prev=prev, loan=LOAN,  # type: ignore[arg-type]
                                             due_times=(now + 30 * 86400, now + 60 * 86400),
                                             amounts=(500, 500)))
    # The checks passed before the warning do not count for it.
    verification(ledger, VerificationMethod.LIVENESS, True)
    verification(ledger, VerificationMethod.SIM_SWAP_CHECK, True)
    # Someone else fails the liveness check twice: the model warns.
    verification(ledger, VerificationMethod.LIVENESS, False)
    verification(ledger, VerificationMethod.LIVENESS, False)
    assessed = assess(ledger, platform, SUBJECT, model)
    assert assessed.warning is not None
    warning = assessed.warning.record.record
    assert isinstance(warning, RiskWarning)

    with pytest.raises(RuleRefusedError) as refused:
        disbursement(ledger)
    assert (refused.value.rule, refused.value.error) == ("R9", "RiskRulesRiskWarning")
    assert refused.value.facts == {"subject": "0x" + SUBJECT.hex(),
                                   "warnedAt": warning.timestamp}
    recorded = refused.value.recorded
    assert recorded is not None
    refusal = recorded.record.record
    assert isinstance(refusal, Refusal) and refusal.rule == 9
    # Judged on the warning: the warning is the subject's head.
    assert refusal.prev == assessed.warning.row.record_hash

    # A failed check and one passed check do not lift it.
    verification(ledger, VerificationMethod.SIM_SWAP_CHECK, True)
    verification(ledger, VerificationMethod.LIVENESS, False)
    with pytest.raises(RuleRefusedError, match="R9"):
        disbursement(ledger)
    assert warning_open(ledger, platform.address, SUBJECT) is True
    assert rules_for(ledger).warning_state(platform.address, SUBJECT).open is True
    verification(ledger, VerificationMethod.LIVENESS, True)
    assert warning_open(ledger, platform.address, SUBJECT) is False
    assert rules_for(ledger).warning_state(platform.address, SUBJECT).open is False
    disbursement(ledger)

    ledger.seal_and_anchor()
    if ledger.store.unfinished_heads():  # a timeline holds final anchors only
        ledger.anchorer.settle(60.0)
    exported = export_timeline(ledger, platform.address, SUBJECT)
    timeline = Timeline.loads(exported.dumps())
    kinds = [e.record.record.TYPE_NAME for e in timeline.entries]
    assert kinds[-7:] == ["RiskWarning", "Refusal", "Verification", "Verification", "Refusal",
                          "Verification", "Disbursement"]
    verdict = verify_timeline(timeline, ledger.chain)
    assert verdict.verified, verdict.reason()
    assert "and 2 refusals beside the chain" in verdict.completeness.detail
    replay = {c.name: c for c in verdict.entries[kinds.index("Refusal")][2].checks}
    assert replay[CheckName.REFUSAL].outcome is Outcome.PASSED
    assert "refused under R9" in replay[CheckName.REFUSAL].detail
    # The specification's own verifier reads the warning in the chain, up to the head.
    # and the two refusals as the contract attested them (its refusal chain).
    head = ledger.subject_head(platform.address, SUBJECT)
    attested = rules_for(ledger).refusal_state(platform.address, SUBJECT)
    assert attested.count == 2
    spec.completeness(spec.read_timeline(spec.parse_document(exported.dumps())), head,
                      (attested.head, attested.count))
