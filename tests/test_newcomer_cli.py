"""The commands a newcomer runs first do what the README says, and say what to do next.

Every command that reads the ledger takes the chain, the contract and the database as options;
one that is given a database but no contract uses the contract the database anchors in, rather
than deploying a stray one; nothing overwrites evidence; a missing tool is named with the command
that installs it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from ledger import report
from ledger.cli import app
from ledger.config import Settings
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from tests.test_anchoring import write_bindings
from tests.test_cli import CLEAN_ENV


def run(*args: str) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(app, list(args))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def database(tmp_path: Path, anvil_url: str) -> tuple[str, str]:
    """A file database on anvil holding anchored records of borrower-0 and borrower-1; the
    database's path and its contract's address."""
    path = str(tmp_path / "ledger.sqlite3")
    store = SqliteStore(path)
    ledger = open_ledger(Settings(chain=anvil_url, database=path, confirmations=0), store=store)
    write_bindings(ledger, 2, "borrower")
    ledger.seal_and_anchor()
    store.close()
    return path, ledger.contract.address


def test_timeline_takes_the_chain_the_contract_and_the_database_as_options(
        database: tuple[str, str], anvil_url: str, tmp_path: Path) -> None:
    path, contract = database
    out = tmp_path / "timeline.json"

    result = run("timeline", "borrower-1", "--out", str(out), "--chain", anvil_url,
                 "--contract", contract, "--database", path)

    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["entries"][0]["anchor"]["contract"] == contract


def test_timeline_without_a_contract_uses_the_one_its_database_anchors_in(
        database: tuple[str, str], anvil_url: str, tmp_path: Path) -> None:
    path, contract = database
    out = tmp_path / "timeline.json"

    result = run("timeline", "borrower-0", "--out", str(out), "--chain", anvil_url,
                 "--database", path)

    assert result.exit_code == 0, result.output
    assert f"contract {contract} (from {path})" in flat(result.stderr)
    assert json.loads(out.read_text())["entries"][0]["anchor"]["contract"] == contract


def test_timeline_on_the_embedded_chain_says_which_chain_to_give(tmp_path: Path) -> None:
    result = run("timeline", "borrower-0", "--out", str(tmp_path / "t.json"))

    assert result.exit_code == 2
    assert "give the chain the ledger anchors in: --chain URL" in flat(result.stderr)


def test_timeline_of_a_database_that_does_not_exist_is_refused(
        anvil_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"

    result = run("timeline", "borrower-0", "--out", str(tmp_path / "t.json"), "--chain",
                 anvil_url, "--database", str(missing))

    assert result.exit_code == 2
    assert f"no database at {missing}" in flat(result.stderr)
    assert not missing.exists()


def test_demo_refuses_to_overwrite_a_bundle_already_in_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "bundles"
    out.mkdir()
    earlier = out / "record-1.proof.json"
    earlier.write_text("evidence from an earlier run\n")

    result = run("demo", "--out", str(out))

    assert result.exit_code == 1
    assert f"{out} already holds proof bundles (record-1.proof.json)" in flat(result.stderr)
    assert earlier.read_text() == "evidence from an earlier run\n"


def test_deploy_prints_the_address_alone_and_what_to_do_next(anvil_url: str) -> None:
    result = run("deploy", "--chain", anvil_url)

    assert result.exit_code == 0, result.output
    address = result.stdout.strip()
    assert address.startswith("0x") and len(address) == 42  # scripts read stdout
    hint = flat(result.stderr)
    assert f"bindledger serve --chain {anvil_url} --contract {address}" in hint
    assert f"BINDLEDGER_CONTRACT={address}" in hint


def test_report_pdf_without_chromium_names_the_command_that_installs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "PDF_RENDERERS", ("no-such-browser",))
    timeline = Path(__file__).parents[1] / "docs" / "spec" / "examples" / "timeline.json"

    result = run("report", str(timeline), "--out", str(tmp_path / "r.html"), "--pdf",
                 str(tmp_path / "r.pdf"))

    assert result.exit_code == 1
    assert "sudo apt-get install -y chromium" in flat(result.stderr)
    assert (tmp_path / "r.html").exists()  # the HTML report is written all the same


def test_the_report_names_the_platforms_it_knows(tmp_path: Path) -> None:
    timeline = Path(__file__).parents[1] / "docs" / "spec" / "examples" / "timeline.json"
    platforms = json.dumps([{"name": "Example Lender", "apiKey": "k",
                             "key": json.loads((Path(__file__).parent / "vectors" /
                                                "records_eip712.json").read_text())[
                                 "platformKey"]}])

    result = CliRunner(env={**CLEAN_ENV, "BINDLEDGER_PLATFORMS": platforms}).invoke(
        app, ["report", str(timeline), "--out", str(tmp_path / "r.html")])

    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    assert "Platform Example Lender (<code>0x70997970C51812dc3A010C7d01b50e0d17dc79C8</code>)" \
        in flat(html)


@pytest.mark.parametrize(("command", "options"), [
    ("timeline", ["--chain", "--contract", "--database", "--platform", "--out"]),
    ("serve", ["--chain", "--contract", "--database"]),
])
def test_the_commands_that_read_the_ledger_list_where_it_is(command: str,
                                                            options: list[str]) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    for option in options:
        assert option in result.stdout


def test_make_demo_says_what_it_is_doing_while_it_installs() -> None:
    root = Path(__file__).parents[1]
    plan = subprocess.run(["make", "--dry-run", "--always-make", "demo"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    steps = [line for line in plan.splitlines() if line.startswith('echo "==>')]
    assert len(steps) >= 3, plan  # creating the venv, installing, running the demo
    assert "--quiet" not in plan  # pip shows each package it installs


def test_serve_without_a_contract_goes_on_with_the_one_its_database_anchors_in(
        database: tuple[str, str], anvil_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path, contract = database
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))

    result = run("serve", "--chain", anvil_url, "--database", path)

    assert result.exit_code == 0, result.output
    assert f"using contract {contract} (from {path})" in flat(result.stderr)
    assert f"BindLedger contract {contract}" in flat(result.stdout)  # not a new deployment
    assert len(served) == 1
