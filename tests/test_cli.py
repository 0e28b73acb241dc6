"""The `bindledger` command line: verify (exit 0 verified, 1 not verified, 2 unreadable),
demo, deploy and the help of every command.

The bundle under test is produced the way a platform gets one: the API served against anvil,
records written, anchored and the proof fetched over HTTP. Commands run through typer's
CliRunner with every BINDLEDGER_* variable cleared, and once as the installed console script.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result
from web3 import Web3

from api.main import create_app
from ledger.anchors import AnchorContract
from ledger.artifacts import load_release_artifact
from ledger.chain.client import RpcChain
from ledger.cli import app
from ledger.config import Settings
from ledger.core.bundle import MAX_BUNDLE_BYTES
from ledger.runtime import open_ledger
from tests.support.anvil import free_port, mining, running_anvil
from tests.support.api import BINDING, CONSENT, VERIFICATION, client
from tests.support.server import serving

CLEAN_ENV: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BINDLEDGER_")}
CHECKS = ["record hash", "signature", "inclusion", "head on chain", "anchor transaction"]


def run(*args: str) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(app, list(args))


@pytest.fixture(scope="module")
def bundle_doc(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> dict[str, Any]:
    """A proof bundle fetched from the API served against anvil."""
    folder = tmp_path_factory.mktemp("ledger")
    settings = Settings(chain=anvil_url, database=str(folder / "ledger.sqlite3"))
    ledger = open_ledger(settings)
    with serving(create_app(settings, ledger, run_worker=False)) as url:
        platform = settings.platform_list[0]
        with client(url, platform.api_key) as c:
            ids = [c.post("/v1/records", json=d).json()["id"] for d in (VERIFICATION, BINDING,
                                                                         CONSENT)]
            assert c.post("/v1/anchor").status_code == 200
            response = c.get(f"/v1/records/{ids[0]}/proof")
    ledger.store.close()
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def write(folder: Path, doc: Any, name: str = "bundle.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture
def bundle_file(tmp_path: Path, bundle_doc: dict[str, Any]) -> Path:
    return write(tmp_path, bundle_doc)


def _flip_last_digit(value: str) -> str:
    return value[:-1] + format(int(value[-1], 16) ^ 1, "x")


# -- verify -------------------------------------------------------------------------------


def test_verify_exits_0_for_a_genuine_bundle(bundle_file: Path, anvil_url: str) -> None:
    result = run("verify", str(bundle_file), "--chain", anvil_url)

    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.stdout and "NOT VERIFIED" not in result.stdout
    for check in CHECKS:
        assert check in result.stdout


def test_verify_json_prints_the_verdict_as_json(bundle_file: Path, anvil_url: str) -> None:
    result = run("verify", str(bundle_file), "--chain", anvil_url, "--json")

    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert (verdict["verified"], verdict["reason"]) == (True, "all checks passed")
    assert [(c["check"], c["outcome"]) for c in verdict["checks"]] == [
        (name, "passed") for name in CHECKS]


TAMPERINGS = [
    pytest.param(("record", "timestamp"), lambda v: v + 1, "record hash", id="record.timestamp"),
    pytest.param(("record", "phone"), _flip_last_digit, "record hash", id="record.phone"),
    pytest.param(("record", "signature"), lambda v: v[:40] + _flip_last_digit(v[40]) + v[41:],
                 "signature", id="record.signature"),
    pytest.param(("recordHash",), _flip_last_digit, "record hash", id="recordHash"),
    pytest.param(("leafIndex",), lambda v: v + 1, "inclusion", id="leafIndex"),
    pytest.param(("inclusionPath", 0), _flip_last_digit, "inclusion", id="inclusionPath[0]"),
    pytest.param(("head", "rootHash"), _flip_last_digit, "inclusion", id="head.rootHash"),
    pytest.param(("anchor", "chainId"), lambda v: v + 1, "record hash", id="anchor.chainId"),
    pytest.param(("anchor", "txHash"), _flip_last_digit, "head on chain",
                 id="anchor.txHash"),
    pytest.param(("anchor", "blockTime"), lambda v: v + 1, "anchor transaction",
                 id="anchor.blockTime"),
]


@pytest.mark.parametrize(("path", "change", "check"), TAMPERINGS)
def test_verify_exits_1_and_prints_the_reason_when_one_field_changed(
        tmp_path: Path, bundle_doc: dict[str, Any], anvil_url: str, path: tuple[Any, ...],
        change: Any, check: str) -> None:
    doc = copy.deepcopy(bundle_doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = change(target[path[-1]])
    bundle = write(tmp_path, doc)

    table = run("verify", str(bundle), "--chain", anvil_url)
    as_json = run("verify", str(bundle), "--chain", anvil_url, "--json")

    assert table.exit_code == 1, table.output
    assert f"NOT VERIFIED — {check}:" in table.stdout
    assert as_json.exit_code == 1
    verdict = json.loads(as_json.stdout)
    assert verdict["verified"] is False
    assert verdict["reason"].startswith(f"{check}: ")
    first_failed = next(c for c in verdict["checks"] if c["outcome"] == "failed")
    assert first_failed["check"] == check


def test_verify_exits_2_for_a_missing_file(tmp_path: Path) -> None:
    result = run("verify", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory" in \
        " ".join(result.stderr.split())


def test_verify_exits_2_for_a_folder(tmp_path: Path) -> None:
    result = run("verify", str(tmp_path))
    assert result.exit_code == 2
    assert "error: cannot read" in result.stderr


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "not JSON: Expecting value"),
    (b"not json", "not JSON: Expecting value"),
    (b"{\"format\":", "not JSON: Expecting value"),
    (b"\xff\xfe\xfa", "not JSON"),
    (b"[]", "a proof bundle must be a JSON object"),
    (b"42", "a proof bundle must be a JSON object"),
    (b"{}", "format must be 'bindledger.proof/1', got None"),
    (b"{\"format\": \"bindledger.proof/1\"}", "missing member record"),
    (b" " * (MAX_BUNDLE_BYTES + 1), f"document is larger than {MAX_BUNDLE_BYTES} bytes"),
])
def test_verify_exits_2_for_a_file_that_is_not_a_bundle(tmp_path: Path, content: bytes,
                                                        reason: str) -> None:
    path = tmp_path / "file.json"
    path.write_bytes(content)

    result = run("verify", str(path))

    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert message.startswith(f"error: {path} is not a proof bundle: {reason}"), message


def test_verify_exits_2_for_a_bundle_with_a_malformed_member(
        tmp_path: Path, bundle_doc: dict[str, Any]) -> None:
    bundle = write(tmp_path, {**bundle_doc, "recordHash": "0x1234"})
    result = run("verify", str(bundle))
    assert result.exit_code == 2
    assert "is not a proof bundle: recordHash must be 32 bytes, got 2" in \
        " ".join(result.stderr.split())


def test_verify_exits_2_for_a_record_type_that_is_an_array(
        tmp_path: Path, bundle_doc: dict[str, Any]) -> None:
    bundle = write(tmp_path, {**bundle_doc, "record": {**bundle_doc["record"], "type": []}})
    result = run("verify", str(bundle))
    assert result.exit_code == 2, result.output


def test_verify_against_another_chain_exits_1_naming_the_chain(bundle_file: Path) -> None:
    with running_anvil("--chain-id", "1337") as other_chain:
        result = run("verify", str(bundle_file), "--chain", other_chain, "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert verdict["reason"] == (
        "head on chain: the bundle was anchored on another chain (expected 31337, got 1337)")
    assert verdict["checks"][-1] == {"check": "anchor transaction", "outcome": "skipped",
                                     "detail": "the head is not on this chain"}


def test_verify_refuses_the_embedded_chain_which_holds_no_anchors(bundle_file: Path) -> None:
    result = run("verify", str(bundle_file), "--chain", "embedded")
    assert result.exit_code == 2
    assert "give the chain that holds the anchor" in " ".join(result.stderr.split())


def test_verify_against_a_chain_that_does_not_answer_exits_3(bundle_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("verify", str(bundle_file), "--chain", url)
    assert result.exit_code == 3  # nothing was concluded about the evidence
    assert f"error: no Ethereum JSON-RPC node answers at {url}" in " ".join(result.stderr.split())


def test_the_installed_console_script_verifies_with_exit_0(bundle_file: Path,
                                                          anvil_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    script = Path(sys.executable).parent / "bindledger"
    done = subprocess.run([str(script), "verify", str(bundle_file), "--chain", anvil_url,
                           "--json"], check=False, env=env, capture_output=True, timeout=60,
                          cwd=bundle_file.parent)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["verified"] is True


# -- demo and deploy ----------------------------------------------------------------------


def test_demo_writes_bundles_and_shows_the_tampered_one_rejected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the demo must not need (or leave) anything in the cwd
    out = tmp_path / "out"

    result = run("demo", "--out", str(out))

    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"record-{i}.proof.json" for i in range(1, 13)]
                           + ["tampered.proof.json"])
    assert "wrote 12 proof bundles" in result.stdout
    text = " ".join(result.stdout.split())
    assert "tampered.proof.json │ Consent │ 3 │ rejected — record hash:" in text
    assert "record-4.proof.json │ Consent │ 3 │ verified" in text
    original = json.loads((out / "record-4.proof.json").read_text())
    tampered = json.loads((out / "tampered.proof.json").read_text())
    assert tampered["record"]["expiresAt"] == original["record"]["expiresAt"] + 365 * 24 * 3600
    assert {**tampered, "record": {**tampered["record"], "expiresAt": 0}} == {
        **original, "record": {**original["record"], "expiresAt": 0}}


def test_the_bundles_of_a_demo_on_anvil_verify_with_the_cli(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anvil_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    with mining(anvil_url):  # the demo waits for its anchor to be final at the default depth
        demo = run("demo", "--chain", anvil_url, "--out", str(out))
    assert demo.exit_code == 0, demo.output
    assert "waiting for 2 block(s) to follow the anchor's block" in demo.stdout

    genuine = run("verify", str(out / "record-1.proof.json"), "--chain", anvil_url)
    tampered = run("verify", str(out / "tampered.proof.json"), "--chain", anvil_url)

    assert genuine.exit_code == 0, genuine.output
    assert tampered.exit_code == 1
    assert "NOT VERIFIED — record hash:" in tampered.stdout


def test_the_demo_on_a_json_rpc_chain_can_run_twice_from_the_same_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anvil_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    first = run("demo", "--chain", anvil_url, "--out", str(tmp_path / "one"),
                "--confirmations", "0")
    assert first.exit_code == 0, first.output

    second = run("demo", "--chain", anvil_url, "--out", str(tmp_path / "two"),
                 "--confirmations", "0")

    assert second.exit_code == 0, second.output


def test_deploy_prints_the_address_of_a_new_bindledger_contract(anvil_url: str) -> None:
    result = run("deploy", "--chain", anvil_url)

    assert result.exit_code == 0, result.output
    address = result.stdout.strip()
    assert Web3.is_checksum_address(address), result.stdout
    chain = RpcChain(anvil_url)
    assert chain.code(address)  # code is there ...
    AnchorContract(chain, address).check_code()  # ... and it is BindLedger's


def test_deploy_with_a_predecessor_continues_its_logs(anvil_url: str) -> None:
    chain = RpcChain(anvil_url)
    admin = Settings().admin_account
    chain.fund(admin.address)
    v1 = chain.deploy(admin, load_release_artifact(1), admin.address)

    result = run("deploy", "--chain", anvil_url, "--predecessor", v1.lower())

    assert result.exit_code == 0, result.output
    successor = AnchorContract(chain, result.stdout.strip())
    assert successor.check_code().version == 2
    assert successor.predecessor() == Web3.to_checksum_address(v1)


@pytest.mark.parametrize(("predecessor", "exit_code", "message"), [
    ("0x1234", 2, "'0x1234' is not an address (0x and 40 hex digits)"),
    ("0x90F79bf6EB2c4f870365E785982E1f101E93b906", 1,
     "error: no contract at 0x90F79bf6EB2c4f870365E785982E1f101E93b906"),
])
def test_deploy_refuses_a_predecessor_that_is_not_a_bindledger(
        anvil_url: str, predecessor: str, exit_code: int, message: str) -> None:
    result = run("deploy", "--chain", anvil_url, "--predecessor", predecessor)
    assert result.exit_code == exit_code
    assert message in " ".join(result.stderr.replace("│", " ").split())  # unboxed
    assert "Traceback" not in result.output


def test_deploy_to_a_chain_that_does_not_answer_exits_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("deploy", "--chain", url)
    assert result.exit_code == 1
    assert f"error: no Ethereum JSON-RPC node answers at {url}" in " ".join(result.stderr.split())


# -- help ---------------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("demo", "serve", "deploy", "verify"):
        assert f"│ {command} " in result.stdout


def test_no_arguments_shows_the_help_and_exits_2() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Usage:" in result.output and "verify" in result.output


@pytest.mark.parametrize(("command", "options"), [
    ("verify", ["--chain", "--json", "bundle"]),
    ("demo", ["--chain", "--out"]),
    ("deploy", ["--chain", "--timelock-delay", "--proposer", "--executor", "--admin-direct"]),
    ("serve", ["--host", "--port", "--chain", "--contract", "--database"]),
])
def test_each_commands_help_lists_its_options(command: str, options: list[str]) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert result.stdout.lstrip().startswith(f"Usage: root {command} [OPTIONS]")
    for option in options:
        assert option in result.stdout
    assert "[env var: BINDLEDGER_CHAIN]" in result.stdout
