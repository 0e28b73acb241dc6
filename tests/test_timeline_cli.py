"""`bindledger timeline`, `verify` of a timeline and `report`, against anvil."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.cli import app
from ledger.config import Settings
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from tests.support.loan_story import tell_story
from tests.test_anchoring import write_bindings
from tests.test_cli import CLEAN_ENV


@pytest.fixture
def deployment(tmp_path: Path, anvil_url: str) -> dict[str, str]:
    """A ledger on anvil with a file database; its settings as environment variables."""
    database = str(tmp_path / "ledger.sqlite3")
    store = SqliteStore(database)
    ledger = open_ledger(Settings(chain=anvil_url, database=database), store=store)
    write_bindings(ledger, 3, "borrower")  # subjects borrower-0 .. borrower-2, one record each
    platform = next(iter(ledger.platforms.values()))
    subject = ledger.refs.subject("borrower-1")
    from ledger.core.records import Verification, VerificationMethod

    for passed in (True, False):
        ledger.sign_and_submit(
            platform,
            subject,
            lambda prev, p=passed: Verification(
                platform=platform.address,
                subject=subject,
                prev=prev,
                timestamp=ledger.now(),
                method=VerificationMethod.LIVENESS,
                passed=p,
                phone=bytes(32),
            ),
        )
    ledger.seal_and_anchor()
    store.close()
    return {
        **{k: v for k, v in CLEAN_ENV.items() if v is not None},
        "BINDLEDGER_CHAIN": anvil_url,
        "BINDLEDGER_DATABASE": database,
        "BINDLEDGER_CONTRACT": ledger.contract.address,
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env={**CLEAN_ENV, **env}).invoke(app, list(args))


def test_a_timeline_is_exported_verified_and_reported(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "timeline.json"
    exported = run(deployment, "timeline", "borrower-1", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "wrote 3 records" in exported.stdout
    doc = json.loads(out.read_text())
    assert doc["format"] == "bindledger.timeline/1" and len(doc["entries"]) == 3

    verified = run(deployment, "verify", str(out), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["verified"] is True

    report, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    rendered = run(deployment, "report", str(out), "--out", str(report), "--pdf", str(pdf))
    assert rendered.exit_code == 0, rendered.output
    html = report.read_text()
    assert "VERIFIED: every record is signed" in html and "<svg" in html
    assert "LIVENESS FAILED" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # nothing fetched from outside
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_a_timeline_with_a_record_removed_fails_naming_the_gap(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "timeline.json"
    assert run(deployment, "timeline", "borrower-1", "--out", str(out)).exit_code == 0
    doc = json.loads(out.read_text())
    del doc["entries"][1]
    out.write_text(json.dumps(doc))
    result = run(deployment, "verify", str(out))
    assert result.exit_code == 1
    assert "entry 1 does not follow entry 0" in " ".join(result.stdout.split())


def test_an_unreadable_timeline_exits_2(deployment: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "bindledger.timeline/1", "entries": 3}')
    result = run(deployment, "verify", str(bad))
    assert result.exit_code == 2
    assert "is not a timeline" in " ".join(result.stderr.split())


@pytest.fixture
def loan_deployment(tmp_path: Path, anvil_url: str) -> tuple[dict[str, str], str]:
    """A ledger on anvil holding the refused-then-disbursed loan story; its settings as
    environment variables, and the loan's id."""
    database = str(tmp_path / "loans.sqlite3")
    store = SqliteStore(database)
    ledger = open_ledger(Settings(chain=anvil_url, database=database), store=store)
    story = tell_story(ledger)
    store.close()
    env = {
        **{k: v for k, v in CLEAN_ENV.items() if v is not None},
        "BINDLEDGER_CHAIN": anvil_url,
        "BINDLEDGER_DATABASE": database,
        "BINDLEDGER_CONTRACT": ledger.contract.address,
    }
    return env, "0x" + story.loan_id.hex()


def test_a_loans_timeline_shows_its_refusal_and_repayment_status(
    loan_deployment: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, loan_id = loan_deployment
    out = tmp_path / "loan.json"
    exported = run(env, "timeline", loan_id, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    doc = json.loads(out.read_text())
    assert "loan" in doc and len(doc["entries"]) == 6

    verified = run(env, "verify", str(out), "--json")
    assert verified.exit_code == 0, verified.output
    verdict = json.loads(verified.stdout)
    assert verdict["loan"]["outcome"] == "passed"
    assert [c["outcome"] for c in verdict["entries"][2]["checks"]][-1] == "passed"

    report = tmp_path / "loan.html"
    rendered = run(env, "report", str(out), "--out", str(report))
    assert rendered.exit_code == 0, rendered.output
    html = report.read_text()
    assert f"Timeline of loan <code>{doc['loan']}</code>" in html
    assert "Disbursement refused under R3: RiskRulesNoConsent(" in html
    assert "disbursed: 500 of 1000 repaid" in html
    assert "Loan: passed" in html


def test_a_loans_timeline_with_its_refusal_dropped_fails_naming_the_missing_refusal(
    loan_deployment: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, loan_id = loan_deployment
    out = tmp_path / "loan.json"
    assert run(env, "timeline", loan_id, "--out", str(out)).exit_code == 0
    doc = json.loads(out.read_text())
    doc["entries"] = [e for e in doc["entries"] if e["record"]["type"] != "Refusal"]
    out.write_text(json.dumps(doc))
    result = run(env, "verify", str(out))
    assert result.exit_code == 1
    said = " ".join(result.stdout.split())
    assert "the contract attested 1 refusal of this subject, the timeline holds 0" in said
    assert "1 refusal is missing" in said
