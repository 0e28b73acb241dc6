"""The demo shows the rules at work: one disbursement refused (R3, no lending consent, with the
contract's facts, logged as a record) and one made; then a number takeover detected at one lender
stops the disbursement at another (R4), and the borrower's timeline there shows the refusal."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from ledger.config import Settings
from ledger.core.refs import normalize_phone, subject_ref
from ledger.demo import BORROWERS, UNCONSENTED, run_demo


def test_the_demo_shows_one_refusal_and_one_disbursement(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    run_demo(Settings(chain="embedded"), tmp_path / "out", console)
    text = " ".join(console.export_text().split())
    assert "refused by R3 — RiskRulesNoConsent(subject=0x" in text
    assert re.search(r"purpose=LENDING\), logged as record \d+", text)
    assert text.count("disbursed — tx ") == 1
    assert re.search(r"demo-lender\W+SIM-swap check\W+swap detected", text)
    assert re.search(r"demo-lender-b\W+disburse 3 000\W+refused by R4 — "
                     r"RiskRulesCoolingPeriod\(subject=0x", text)
    assert re.search(r"timeline at demo-lender-b: \d+ records, 1 refusal \(R4\)", text)
    # The bundles written are those of the onboarding records, as before the rules.
    assert len(list((tmp_path / "out").glob("record-*.proof.json"))) == 12


def test_the_demo_names_borrowers_by_reference_never_by_raw_identifier(tmp_path: Path) -> None:
    settings = Settings(chain="embedded")
    console = Console(record=True, width=200)
    run_demo(settings, tmp_path / "out", console)
    text = console.export_text()
    for subject_id, phone, account in [*BORROWERS, UNCONSENTED]:
        for raw in (subject_id, subject_id[:4] + "…", "…" + subject_id[-2:], account,
                    normalize_phone(phone), phone):
            assert raw not in text
    for subject_id in (UNCONSENTED[0], BORROWERS[0][0]):
        ref = subject_ref(settings.ref_secret.encode(), subject_id)
        assert f"0x{ref.hex()[:8]}…" in text
