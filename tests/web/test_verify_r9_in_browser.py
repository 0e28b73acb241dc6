"""The in-browser verifier reads a timeline where rule R9 acted: the RiskWarning in the
subject's chain (the contract holds it) and the disbursement it stopped, a Refusal beside the
chain, replayed against the node. Made by the real product on anvil; the page's checks are
those ledger.verify reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils.crypto import keccak
from selenium import webdriver
from selenium.webdriver.common.by import By

from ledger.config import Settings
from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Disbursement,
    LoanCreation,
    Purpose,
    Record,
    RiskWarning,
    VerificationMethod,
    factor_mask,
)
from ledger.risk.features import feature_list_hash
from ledger.rules import RuleRefusedError, rules_for
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_timeline
from tests.support.anvil import running_anvil
from tests.support.requires import require_anvil
from tests.web.test_verify_in_browser import STANDALONE, python_rows, verify_in_browser
from tests.web.test_verify_page import browser  # noqa: F401 - the shared Chromium

SUBJECT = keccak(text="warned borrower")
LOAN = keccak(text="warned loan")


@dataclass
class Warned:
    node: str
    timeline: str


@pytest.fixture(scope="module")
def warned() -> Iterator[Warned]:
    """Bound, consented, a loan created, warned; the disbursement refused under R9; anchored."""
    require_anvil()
    with running_anvil() as node:
        store = SqliteStore()
        ledger = open_ledger(Settings(chain=node, confirmations=0), store=store)
        rules = rules_for(ledger)
        platform = next(iter(ledger.platforms.values()))
        now = ledger.now()
        base = {"platform": platform.address, "subject": SUBJECT, "timestamp": now}
        builds: list[object] = [
            lambda prev: Binding(**base, prev=prev, action=BindingAction.BIND, phone=SUBJECT,
                                 account=SUBJECT, factors=factor_mask(
                                     [VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])),
            lambda prev: Consent(**base, prev=prev, action=ConsentAction.GIVEN,
                                 purpose=Purpose.LENDING, policy_hash=SUBJECT,
                                 expires_at=now + 365 * 86400),
            lambda prev: LoanCreation(**base, prev=prev, loan=LOAN,
                                      due_times=(now + 30 * 86400,), amounts=(1_000,)),
            lambda prev: RiskWarning(**base, prev=prev, model=keccak(text="model"),
                                     features=feature_list_hash(), score=9_000,
                                     threshold=4_500, top=(6, 9, 8)),
        ]
        for build in builds:
            rules.sign_and_submit(platform, SUBJECT, build)  # type: ignore[arg-type]

        def disbursement(prev: bytes) -> Record:
            return Disbursement(**base, prev=prev, loan=LOAN, amount=1_000)  # type: ignore[arg-type]

        with pytest.raises(RuleRefusedError, match="R9"):
            rules.sign_and_submit(platform, SUBJECT, disbursement)
        ledger.seal_and_anchor()
        timeline = export_timeline(ledger, platform.address, SUBJECT).dumps()
        store.close()
        yield Warned(node, timeline)


def test_a_timeline_with_a_warning_and_its_r9_refusal_is_verified_in_the_browser(
        browser: webdriver.Chrome, warned: Warned) -> None:  # noqa: F811
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, warned.timeline, warned.node)
    assert (verdict, reason) == ("VERIFIED", "all checks passed")
    assert rows[0] == ("completeness", "passed")
    completeness = browser.find_element(By.CSS_SELECTOR, "tr[data-check='completeness']").text
    # Four records chained, the warning among them; the refusal beside the chain.
    assert "4 records chained" in completeness and "1 refusal beside the chain" in completeness
    refusal = browser.find_element(By.CSS_SELECTOR, "tr[data-check='refusal']").text
    assert "Disbursement refused under R9" in refusal and "RiskRulesRiskWarning" in refusal
    assert rows == python_rows(warned.timeline, warned.node)
