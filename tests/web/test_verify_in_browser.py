"""The verifier that trusts no server: the /verify page checks evidence in the browser against a
JSON-RPC node the user names, with BindLedger's server stopped.

The evidence is made by the real product on anvil (a loan story with a refused disbursement),
then the ledger is closed and no BindLedger server runs: the page is opened from disk (the
standalone file) or from a plain static file server, and asks only the node. Its verdict must
agree, check by check, with `ledger.verify` on the same documents.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.main import create_app
from ledger.chain.client import EmbeddedChain, RpcChain
from ledger.config import Settings
from ledger.core.bundle import BundleDecodeError, ProofBundle
from ledger.core.timeline import Timeline
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_loan_timeline, verify_timeline
from ledger.verify import verify_bundle
from tests.support.anvil import free_port, running_anvil
from tests.support.loan_story import SUBJECT, tell_story
from tests.support.requires import require_anvil
from tests.support.server import serving
from tests.test_anchoring import write_bindings
from tests.web.test_verify_page import WAIT, browser  # noqa: F401 - the shared Chromium

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
STANDALONE = (STATIC / "verify-standalone.html").as_uri()
VERDICTS = ("VERIFIED", "NOT VERIFIED", "CANNOT CHECK", "Cannot be read")
SPEC_PROOF = Path(__file__).resolve().parents[2] / "docs" / "spec" / "examples" / "proof.json"

Rows = list[tuple[str, str]]


@dataclass
class Evidence:
    node: str  # the anvil node's JSON-RPC URL
    bundles: dict[str, str]  # by record type: each record's proof bundle, as served
    timeline: str  # the loan's timeline
    latest_size: int  # the platform's latest head on chain, later than the evidence's


@pytest.fixture(scope="module")
def evidence() -> Iterator[Evidence]:
    """The loan story on anvil, exported; the ledger is closed before any test runs, so only
    the node is left to answer."""
    require_anvil()
    with running_anvil() as node:
        store = SqliteStore()
        ledger = open_ledger(Settings(chain=node, confirmations=0), store=store)
        story = tell_story(ledger)
        platform = next(iter(ledger.platforms.values())).address
        rows = ledger.store.records_of_subject(platform, SUBJECT)
        bundles = {ledger.read(row).record.record.TYPE_NAME: ledger.proof_bundle(row.id).dumps()
                   for row in rows}
        timeline = export_loan_timeline(ledger, story.loan_id).dumps()
        # Another subject's record, anchored after: the evidence is under an earlier head than
        # the platform's latest, as most evidence is.
        write_bindings(ledger, 1, "later")
        ledger.seal_and_anchor()
        latest = ledger.contract.latest_head(platform).size
        store.close()
        yield Evidence(node, bundles, timeline, latest)


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    """api/ served by `python -m http.server`: the page and its files, and nothing else."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1"], cwd=STATIC.parent, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(url + "/static/verify.html", timeout=1)
                break
            except requests.RequestException:
                proc.wait(0.1) if proc.poll() is not None else None
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def rpc(node: str, method: str, *params: Any) -> Any:
    answer = requests.post(node, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                       "params": list(params)}, timeout=10).json()
    assert "error" not in answer, answer
    return answer["result"]


def python_rows(text: str, node: str) -> Rows:
    """The checks `ledger.verify` reports for the document, in the page's order."""
    chain = RpcChain(node)
    doc = json.loads(text)
    if doc["format"] == "bindledger.timeline/1":
        verdict = verify_timeline(Timeline.loads(text), chain).to_json()
        rows = [(verdict["completeness"]["check"], verdict["completeness"]["outcome"])]
        if "loan" in verdict:
            rows.append((verdict["loan"]["check"], verdict["loan"]["outcome"]))
        return rows + [(c["check"], c["outcome"]) for e in verdict["entries"] for c in e["checks"]]
    return [(c["check"], c["outcome"])
            for c in verify_bundle(ProofBundle.loads(text), chain).to_json()["checks"]]


def verify_in_browser(driver: webdriver.Chrome, page: str, text: str,
                      node: str) -> tuple[str, str, Rows]:
    """Open the page, choose "against my node", paste the document and verify; returns the
    verdict, its reason and each check with its outcome."""
    driver.get(page)
    mode = driver.find_elements(By.CSS_SELECTOR, "input[name=mode][value=node]")
    if mode and mode[0].is_displayed():
        mode[0].click()
    driver.find_element(By.ID, "rpc-url").send_keys(node)
    area = driver.find_element(By.ID, "document")
    driver.execute_script("arguments[0].value = arguments[1];", area, text)  # a paste
    driver.find_element(By.ID, "verify").click()
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "verdict").text in VERDICTS)
    rows = driver.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    return (driver.find_element(By.ID, "verdict").text,
            driver.find_element(By.ID, "reason").text,
            [(r.get_attribute("data-check") or "", r.get_attribute("data-outcome") or "")
             for r in rows])


def tampered(text: str, change: Any) -> str:
    doc = json.loads(text)
    change(doc)
    return json.dumps(doc)


def test_a_valid_bundle_under_an_earlier_head_is_verified_from_disk_against_the_node_alone(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = evidence.bundles["Repayment"]
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert (verdict, reason) == ("VERIFIED", "all checks passed")
    assert rows == [("record hash", "passed"), ("signature", "passed"), ("inclusion", "passed"),
                    ("head on chain", "passed"), ("anchor transaction", "passed")]
    assert rows == python_rows(text, evidence.node)
    assert json.loads(text)["head"]["treeSize"] < evidence.latest_size
    # Confirmations count the anchor's own block as the first: tip - block + 1.
    block = json.loads(text)["anchor"]["blockNumber"]
    confirmations = int(rpc(evidence.node, "eth_blockNumber"), 16) - block + 1
    detail = browser.find_element(By.CSS_SELECTOR, "tr[data-check='anchor transaction']").text
    assert f"anchored in block {block} ({confirmations} confirmation" in detail


@pytest.mark.parametrize(("what", "change", "failing"), [
    ("a record field", lambda d: d["record"].update(amount=d["record"]["amount"] + 1),
     "record hash: the record's EIP-712 hash under the anchor's domain differs from recordHash"),
    ("a path node", lambda d: d["inclusionPath"].__setitem__(0, "0x" + "00" * 32),
     "inclusion: the inclusion path does not lead to the head's root"),
    ("the head's root", lambda d: d["head"].update(rootHash="0x" + "cd" * 32),
     "inclusion: the inclusion path does not lead to the head's root"),
    ("the anchor's contract", lambda d: d["anchor"].update(contract=d["record"]["platform"]),
     "record hash: the record's EIP-712 hash under the anchor's domain differs from recordHash"),
    ("the anchor's block hash", lambda d: d["anchor"].update(blockHash="0x" + "ab" * 32),
     "anchor transaction: the block hash differs (reorganised chain or altered bundle)"),
])
def test_a_tampered_bundle_is_not_verified_and_names_the_failing_check(
        browser: webdriver.Chrome, evidence: Evidence,  # noqa: F811
        what: str, change: Any, failing: str) -> None:
    text = tampered(evidence.bundles["Repayment"], change)
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert verdict == "NOT VERIFIED", what
    assert reason.startswith(failing)
    assert rows == python_rows(text, evidence.node)


def test_a_contract_whose_code_is_no_known_release_fails_the_head_on_chain_check(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = evidence.bundles["Repayment"]
    contract = json.loads(text)["anchor"]["contract"]
    code = rpc(evidence.node, "eth_getCode", contract, "latest")
    snapshot = rpc(evidence.node, "evm_snapshot")
    try:  # one byte of the dispatcher changed, the length kept: another program
        rpc(evidence.node, "anvil_setCode", contract, code[:4] + ("00" if code[4:6] != "00"
                                                                   else "01") + code[6:])
        verdict, reason, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
        python = python_rows(text, evidence.node)
    finally:
        assert rpc(evidence.node, "evm_revert", snapshot) is True
    assert verdict == "NOT VERIFIED"
    assert reason.startswith(f"head on chain: the contract at {contract} on chain 31337 is not "
                             "a released BindLedger version")
    assert rows[3:] == [("head on chain", "failed"), ("anchor transaction", "skipped")]
    assert rows == python


def test_a_loan_timeline_is_verified_with_its_completeness_loan_and_refusal(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, evidence.timeline,
                                              evidence.node)
    assert (verdict, reason) == ("VERIFIED", "all checks passed")
    assert rows[:2] == [("completeness", "passed"), ("loan", "passed")]
    assert ("refusal", "passed") in rows
    assert rows == python_rows(evidence.timeline, evidence.node)


def test_a_timeline_missing_a_record_fails_completeness_where_it_breaks(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = tampered(evidence.timeline, lambda d: d["entries"].pop(1))
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert verdict == "NOT VERIFIED"
    assert reason.startswith("completeness: entry 1 does not follow entry 0")
    assert rows == python_rows(text, evidence.node)


def test_a_timeline_with_its_refusal_dropped_fails_completeness_on_the_attested_refusals(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = tampered(evidence.timeline, lambda d: d.update(entries=[
        e for e in d["entries"] if e["record"]["type"] != "Refusal"]))
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert verdict == "NOT VERIFIED"
    assert reason.startswith("completeness: the contract attested 1 refusal of this subject, "
                             "the timeline holds 0: 1 refusal is missing")
    assert rows[0] == ("completeness", "failed")
    assert rows == python_rows(text, evidence.node)
    verdict_json = verify_timeline(Timeline.loads(text), RpcChain(evidence.node)).to_json()
    shown = browser.find_element(By.CSS_SELECTOR, "tr[data-check='completeness']").text
    assert verdict_json["completeness"]["detail"] in " ".join(shown.split())


def test_a_refused_records_bundle_is_verified_by_replaying_the_refused_call(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = evidence.bundles["Refusal"]
    verdict, _, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert verdict == "VERIFIED"
    assert rows[-1] == ("refusal", "passed")
    detail = browser.find_element(By.CSS_SELECTOR, "tr[data-check='refusal']").text
    assert "Disbursement refused under R3" in detail and "RiskRulesNoConsent" in detail
    assert rows == python_rows(text, evidence.node)


def test_a_refusal_whose_revert_is_not_its_rules_error_fails_the_refusal_check(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    # Re-signing is not needed to see the check: the record hash and signature fail too, and
    # the refusal check still runs and names the rule.
    text = tampered(evidence.bundles["Refusal"], lambda d: d["record"].update(rule=1))
    verdict, _, rows = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert verdict == "NOT VERIFIED"
    assert rows[-1] == ("refusal", "failed")
    assert rows == python_rows(text, evidence.node)


class NoLogsNode(BaseHTTPRequestHandler):
    """A JSON-RPC provider in front of anvil that refuses every eth_getLogs, as providers do
    for ranges they find too wide (and allows any origin, as they do)."""

    node = ""

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:  # the CORS preflight
        self._send(204, b"")

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["method"] == "eth_getLogs":
            answer = {"jsonrpc": "2.0", "id": request["id"],
                      "error": {"code": -32005, "message": "query exceeds max block range"}}
            self._send(200, json.dumps(answer).encode())
            return
        self._send(200, requests.post(self.node, json=request, timeout=10).content)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def no_logs(evidence: Evidence) -> Iterator[str]:
    handler = type("Handler", (NoLogsNode,), {"node": evidence.node})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_heads_are_proven_by_receipts_without_scanning_the_chain_for_logs(
        browser: webdriver.Chrome, evidence: Evidence, no_logs: str) -> None:  # noqa: F811
    verdict, _, rows = verify_in_browser(browser, STANDALONE, evidence.timeline, no_logs)
    assert verdict == "VERIFIED"
    assert rows == python_rows(evidence.timeline, evidence.node)


def test_an_unreachable_node_is_cannot_check_never_invalid(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    dead = f"http://127.0.0.1:{free_port()}"
    verdict, reason, rows = verify_in_browser(browser, STANDALONE, evidence.bundles["Binding"],
                                              dead)
    assert verdict == "CANNOT CHECK"
    assert reason.startswith("cannot check: the node does not answer")
    assert dead not in reason  # a node's URL may carry its provider's key
    assert rows == []


def test_integers_beyond_2_53_are_hashed_exactly(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    # The specification's example: amounts of 12000000000000001, made-up chain facts.
    verdict, _, rows = verify_in_browser(browser, STANDALONE, SPEC_PROOF.read_text(),
                                         evidence.node)
    assert verdict == "NOT VERIFIED"
    assert rows[:3] == [("record hash", "passed"), ("signature", "passed"),
                        ("inclusion", "passed")]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["record"].update(amount=str(d["record"]["amount"])),
     "record.amount must be an integer in [0, 2^128)"),
    (lambda d: d.update(extra=1), "unknown member(s) extra"),
    (lambda d: d["anchor"].pop("txHash"), "missing member anchor.txHash"),
    (lambda d: d["record"].update(signature=d["record"]["signature"][:-2]),
     "record.signature must be 0x and 130 hex digits (65 bytes)"),
    (lambda d: d["record"].update(platform=d["record"]["platform"].upper().replace("0X", "0x")),
     "record.platform is neither EIP-55 checksummed nor all lowercase"),
    (lambda d: d.update(format="bindledger.proof/2"),
     "format must be bindledger.proof/1, got bindledger.proof/2"),
])
def test_a_malformed_document_cannot_be_read(
        browser: webdriver.Chrome, evidence: Evidence,  # noqa: F811
        change: Any, reason: str) -> None:
    text = tampered(evidence.bundles["Repayment"], change)
    assert verify_in_browser(browser, STANDALONE, text, evidence.node)[:2] == (
        "Cannot be read", reason)
    with pytest.raises(BundleDecodeError):  # and `bindledger verify` cannot read it either
        ProofBundle.loads(text)


def test_a_member_named_twice_cannot_be_read(
        browser: webdriver.Chrome, evidence: Evidence) -> None:  # noqa: F811
    text = evidence.bundles["Binding"].replace('"leafIndex": ', '"leafIndex": 0, "leafIndex": ', 1)
    verdict, reason, _ = verify_in_browser(browser, STANDALONE, text, evidence.node)
    assert (verdict, reason) == ("Cannot be read", 'member "leafIndex" appears twice')
    with pytest.raises(BundleDecodeError):
        ProofBundle.loads(text)


def test_the_page_from_a_plain_static_server_verifies_against_the_node(
        browser: webdriver.Chrome, evidence: Evidence, static_site: str) -> None:  # noqa: F811
    page = static_site + "/static/verify.html"
    verdict, _, rows = verify_in_browser(browser, page, evidence.timeline, evidence.node)
    assert verdict == "VERIFIED"
    assert rows == python_rows(evidence.timeline, evidence.node)
    sources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert sources and all(s.startswith((static_site, evidence.node)) for s in sources)


@pytest.fixture(scope="module")
def bindledger_site() -> Iterator[str]:
    """BindLedger's own server (on its embedded chain, which holds none of the evidence)."""
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=SqliteStore())
    with serving(create_app(Settings(), ledger, run_worker=False)) as url:
        yield url


def test_the_served_page_verifies_against_the_users_node_under_its_csp(
        browser: webdriver.Chrome, evidence: Evidence, bindledger_site: str) -> None:  # noqa: F811
    # The server's chain knows nothing of the evidence: "verified" can only come from the node.
    text = evidence.bundles["Refusal"]
    verdict, _, rows = verify_in_browser(browser, bindledger_site + "/verify", text,
                                         evidence.node)
    assert verdict == "VERIFIED"
    assert rows == python_rows(text, evidence.node)
    sources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(s.startswith((bindledger_site, evidence.node)) for s in sources)
    assert any(s.startswith(evidence.node) for s in sources)
    assert not any(s.startswith(bindledger_site + "/v1/verify") for s in sources)


def test_the_standalone_page_offers_only_the_node_and_loads_nothing(
        browser: webdriver.Chrome) -> None:  # noqa: F811
    browser.get(STANDALONE)
    assert not browser.find_element(By.ID, "mode").is_displayed()
    assert not browser.find_element(By.ID, "lookup").is_displayed()
    assert browser.find_element(By.ID, "rpc-url").is_displayed()
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').length") == 0
