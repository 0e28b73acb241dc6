"""One borrower's loan story, told on a ledger: bound with two factors, a loan created, its
disbursement refused under R3 (no lending consent), consent given, then disbursed and repaid in
part; all anchored. Tests of refusals and loan timelines share it, in process and served."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from eth_utils.crypto import keccak

from api.main import create_app
from ledger.chain.client import EmbeddedChain
from ledger.config import Settings
from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Disbursement,
    LoanCreation,
    Purpose,
    Repayment,
    VerificationMethod,
    factor_mask,
)
from ledger.rules import RuleRefusedError, RulesClient, rules_for
from ledger.runtime import open_ledger
from ledger.service import Accepted, Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.server import serving

SUBJECT = keccak(text="borrower")
LOAN = keccak(text="loan-1")


@dataclass
class Story:
    ledger: Ledger
    rules: RulesClient
    refused: RuleRefusedError
    loan_id: bytes  # the creation record's hash


def tell_story(ledger: Ledger) -> Story:
    """Bound with two factors and a loan created; the disbursement is refused under R3 (no
    lending consent); consent is given; then disbursed and repaid in part; all anchored."""
    rules = rules_for(ledger)
    platform = next(iter(ledger.platforms.values()))
    now = ledger.now()
    base = {"platform": platform.address, "subject": SUBJECT, "timestamp": now}

    def submit(build: object) -> Accepted:
        return rules.sign_and_submit(platform, SUBJECT, build).accepted  # type: ignore[arg-type]

    submit(lambda prev: Binding(**base, prev=prev, action=BindingAction.BIND, phone=SUBJECT,
                                account=SUBJECT, factors=factor_mask(
                                    [VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])))
    created = submit(lambda prev: LoanCreation(
        **base, prev=prev, loan=LOAN, due_times=(now + 30 * 86400, now + 60 * 86400),
        amounts=(500, 500)))
    with pytest.raises(RuleRefusedError) as refused:
        submit(lambda prev: Disbursement(**base, prev=prev, loan=LOAN, amount=1000))
    submit(lambda prev: Consent(**base, prev=prev, action=ConsentAction.GIVEN,
                                purpose=Purpose.LENDING, policy_hash=SUBJECT,
                                expires_at=now + 365 * 86400))
    submit(lambda prev: Disbursement(**base, prev=prev, loan=LOAN, amount=1000))
    submit(lambda prev: Repayment(**base, prev=prev, loan=LOAN, amount=500))
    ledger.seal_and_anchor()
    return Story(ledger, rules, refused.value, created.row.record_hash)


@contextmanager
def served_loan_story() -> Iterator[tuple[str, bytes]]:
    """The story on an embedded chain, served over HTTP; yields the URL and the loan's id."""
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=SqliteStore())
    story = tell_story(ledger)
    with serving(create_app(Settings(), ledger, run_worker=False)) as url:
        yield url, story.loan_id
