"""Subjects: their binding state under the rules, and the rule records about them (binding,
verification, consent), which the contract must accept before they are stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, status

from api.access import ReadsDep
from api.auth import Caller, PlatformDep, ReaderDep, Role, caller_in
from api.deps import BYTES32, LedgerDep, PlatformQuery, platform_read_by
from api.models import CHAIN_UNREACHABLE
from api.problems import problems
from api.purposes import ConsentsDep
from api.rule_models import (
    PhoneSignals,
    RiskWarningView,
    RuleRecordCreated,
    SubjectBinding,
)
from api.rules import RulesDep, RulesRoute
from ledger.core.encoding import from_hex
from ledger.core.records import SignedRecord
from ledger.core.reference_guard import check_references
from ledger.drafts import RecordDraft, prepare
from ledger.risk.warnings import warnings_of

HEX32 = BYTES32
SubjectRef = Annotated[str, Path(pattern=HEX32, description="the subject's keyed reference")]
PhoneRef = Annotated[str, Path(pattern=HEX32, description="the phone's keyed reference")]
# The consortium's phone signals are for its members and its regulators.
MemberOrRegulatorDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.REGULATOR))]
REFUSALS: dict[int | str, dict[str, Any]] = {
    **problems(403, 404, 409, 422, d422="refused by a rule (R1-R8) or malformed",
               d409="does not fit the contract's state",
               d404="no such loan or dispute of this platform"),
    **CHAIN_UNREACHABLE,
}

router = APIRouter(prefix="/v1/subjects", tags=["rules"], route_class=RulesRoute)
phones = APIRouter(prefix="/v1/phones", tags=["rules"], route_class=RulesRoute)


@router.get("/{ref}/binding", response_model=SubjectBinding, response_model_by_alias=True,
            responses=problems(403))
def get_binding(
    ref: SubjectRef, ledger: LedgerDep, rules: RulesDep, caller: ReaderDep, reads: ReadsDep,
    consents: ConsentsDep, platform_address: PlatformQuery = None,
) -> SubjectBinding:
    """The subject's binding at a platform as the contract holds it: factors, cooling period
    (R4), consent (R3), and the head of its hash chain; with the risk model's warnings about
    the subject there, from the log, and whether the latest still holds disbursement (R9, as
    the contract enforces it). A
    platform's key reads its own; a regulator's or an admin's any platform's, named by
    `?platform=`."""
    platform = platform_read_by(caller, ledger, platform_address)
    subject = from_hex(ref, length=32, what="subject")
    consents.check(platform.address, subject)
    state = rules.subject_state(platform.address, subject)
    reads.of_subject(platform.address, subject)
    binding = SubjectBinding.of(subject, platform.address, state,
                                rules.parameters().min_factors,
                                rules.is_platform_frozen(platform.address))
    warnings = warnings_of(ledger, platform.address, subject)
    binding.risk_warnings = [RiskWarningView.of(w) for w in warnings]
    r9 = rules.warning_state(platform.address, subject)
    binding.risk_warning_open = r9.open
    binding.risk_warned_at = r9.warned_at
    return binding


@router.post(
    "/records",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRecordCreated,
    response_model_by_alias=True,
    responses=REFUSALS,
)
def create_rule_record(
    draft: RecordDraft, ledger: LedgerDep, rules: RulesDep, platform: PlatformDep,
    consents: ConsentsDep,
) -> RuleRecordCreated:
    """Write a binding, verification or consent draft through the rules: BindLedger computes the
    keyed references and signs it as the platform, the contract checks it, and only then is it
    stored in the log."""
    prepared = prepare(draft, platform.address, ledger.refs, ledger.now())
    consents.check(platform.address, prepared.subject, draft.type)
    return RuleRecordCreated.of(rules.sign_and_submit(platform, prepared.subject, prepared.build))


@router.post(
    "/records/signed",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRecordCreated,
    response_model_by_alias=True,
    responses=REFUSALS,
)
def relay_rule_record(
    rules: RulesDep, platform: PlatformDep, consents: ConsentsDep,
    document: Annotated[dict[str, Any], Body()],
) -> RuleRecordCreated:
    """Relay a rule record of any kind that the platform signed itself: the contract checks
    it, then it is stored. Its `prev` must be the subject's head (409 otherwise)."""
    signed = SignedRecord.from_json(document)
    if signed.record.platform != platform.address:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the record names another platform than this API key's"
        )
    check_references(signed.record)  # 422 for a raw value in a reference member
    consents.check(platform.address, signed.record.subject, signed.record.TYPE_NAME)
    return RuleRecordCreated.of(rules.relay(signed))


@phones.get("/{ref}/signals", response_model=PhoneSignals, response_model_by_alias=True,
            responses=problems(403))
def get_phone_signals(
    ref: PhoneRef, rules: RulesDep, caller: MemberOrRegulatorDep, consents: ConsentsDep
) -> PhoneSignals:
    """A phone's signals across the consortium, as the contract holds them: the subject last
    bound to it at any platform, its cooling period (a SIM swap detected at any platform), and
    the holder's cooling, number reuse flag and open loans. For platforms and regulators: the
    phone reference is the same at every platform, and so is what it signals."""
    phone = from_hex(ref, length=32, what="phone")
    state = rules.phone_state(phone)
    if caller.platform is not None and state.holder != bytes(32):
        # The holder's withdrawal of risk sharing at the asking platform stops its reads.
        consents.check(caller.platform.address, state.holder)
    holder = None if state.holder == bytes(32) else rules.borrower_state(state.holder)
    return PhoneSignals.of(phone, state, holder)
