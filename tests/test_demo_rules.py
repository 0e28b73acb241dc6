"""The demo shows the rules at work: one disbursement refused (R3, no lending consent, with the
contract's facts, logged as a record) and one made; then a number takeover is stopped at a
second lender before the SIM swap is known, by the risk model's warning (R9), and after it, when
the first lender detects the swap (R4); the borrower's timeline there shows the warning and both
refusals."""

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
    # Before the SIM swap is reported: failed liveness checks, the model's warning, R9.
    warned = re.search(r"demo-lender-b\W+risk model\W+warned: score (\d+) bp ≥ (\d+) bp "
                       r"\(([a-z_0-9, ]+)\)", text)
    assert warned is not None and int(warned[1]) >= int(warned[2])
    assert "failed_liveness_30d" in warned[3]
    r9 = re.search(r"demo-lender-b\W+disburse 3 000\W+refused by R9 — "
                   r"RiskRulesRiskWarning\(subject=0x[0-9a-f]{8}…, warnedAt=\d+\), logged as "
                   r"record \d+", text)
    assert r9 is not None
    r4 = re.search(r"demo-lender\W+SIM-swap check\W+swap detected.*demo-lender-b\W+disburse "
                   r"3 000\W+refused by R4 — RiskRulesCoolingPeriod\(subject=0x", text)
    assert r4 is not None and r9.start() < r4.start()
    assert re.search(r"timeline at demo-lender-b: \d+ records, 1 risk warning and 2 refusals "
                     r"\(R9, R4\)", text)
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
