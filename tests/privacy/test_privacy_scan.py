"""No raw identifier survives anywhere the vault, the access log or a subject's copy could
leave one. Realistic evidence (a carrier's answer naming the phone and ID numbers) is attached
through the API, read back, exported and, for one borrower, erased; then the chain, every
table of the database file and its WAL, the logs, every response and every file of the copies
are scanned for the raw phone numbers, ID and account numbers and their plain SHA-256 and
keccak hashes (tests/test_privacy.py's scanner). Only the evidence itself, as answered to its
readers and copied for its subject before the erasure, holds them."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3

from api.main import create_app
from ledger.config import DEV_REGULATOR_API_KEY, Settings
from ledger.runtime import open_ledger
from tests.support.server import serving
from tests.test_privacy import (
    BORROWERS,
    POLICY_HASH,
    all_needles,
    blob_texts,
    database_texts,
    debug_logs,  # noqa: F401 - a fixture
    find,
    log_texts,
)


def transaction_texts(web3: Web3) -> list[tuple[str, str]]:
    """Every transaction's calldata on the chain (eth-tester names it `data`, nodes `input`)."""
    texts = []
    for number in range(web3.eth.block_number + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            data = tx.get("input", tx.get("data", b""))  # type: ignore[union-attr]
            data = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
            texts += blob_texts(f"tx in block {number}", data)
    return texts


def carrier_answer(subject_id: str, phone: str) -> bytes:
    return json.dumps({"carrier": "CMCC", "msisdn": phone, "holderId": subject_id,
                       "simSwappedWithin72h": False}).encode()


def copy_texts(label: str, archive: bytes, with_evidence: bool) -> list[tuple[str, str]]:
    texts = []
    with zipfile.ZipFile(io.BytesIO(archive)) as copy:
        for name in copy.namelist():
            if name.startswith("evidence/") and not with_evidence:
                continue
            texts.append((f"{label} {name}", copy.read(name).decode("latin-1")))
    return texts


def test_vault_access_log_and_copies_leave_no_raw_identifier(
        tmp_path: Path, debug_logs: pytest.LogCaptureFixture) -> None:  # noqa: F811
    database = tmp_path / "ledger.sqlite3"
    settings = Settings(chain="embedded", database=str(database),
                        ref_secret="privacy-test-reference-secret-0123456789")
    ledger = open_ledger(settings)
    responses: list[tuple[str, str]] = []
    copies: list[tuple[str, str]] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        path = response.request.url.path
        if not (path.endswith("/evidence") and response.request.method == "GET"
                or path.endswith("/export")):
            responses.append((f"response to {response.request.method} {path}", response.text))

    app = create_app(settings, ledger, run_worker=False)
    with serving(app, log_level="debug", log_config=None) as url:
        hooks: dict[str, Any] = {"response": [keep]}
        platform_key = settings.platform_list[0].api_key
        with httpx.Client(base_url=url, headers={"X-API-Key": platform_key}, timeout=30,
                          event_hooks=hooks) as api, \
                httpx.Client(base_url=url, headers={"X-API-Key": DEV_REGULATOR_API_KEY},
                             timeout=30, event_hooks=hooks) as regulator:
            refs = []
            for subject_id, phone, account, _ in BORROWERS:
                base = {"subjectId": subject_id}
                api.post("/v1/records", json={**base, "type": "Verification",
                                              "method": "SIM_SWAP_CHECK", "passed": True,
                                              "phone": phone})
                bound = api.post("/v1/records", json={
                    **base, "type": "Binding", "action": "BIND", "phone": phone,
                    "accountId": account, "factors": ["SMS_OTP", "CARRIER_MATCH"]}).json()
                api.post("/v1/records", json={**base, "type": "Consent", "action": "GIVEN",
                                              "purpose": "LENDING", "policyHash": POLICY_HASH,
                                              "expiresAt": 2_000_000_000})
                attached = api.post(f"/v1/records/{bound['id']}/evidence",
                                    content=carrier_answer(subject_id, phone),
                                    headers={"Content-Type": "application/json"})
                assert attached.status_code == 201, attached.text
                assert api.get(f"/v1/records/{bound['id']}/evidence").status_code == 200
                assert regulator.get(f"/v1/records/{bound['id']}/evidence").status_code == 200
                refs.append((bound["subject"], bound["id"]))
            ledger.seal_and_anchor()
            for ref, record_id in refs:
                assert api.get(f"/v1/subjects/{ref}/timeline").status_code == 200
                assert api.get(f"/v1/records/{record_id}/proof").status_code == 200
                exported = api.get(f"/v1/subjects/{ref}/export")
                assert exported.status_code == 200, exported.text
                copies += copy_texts(f"copy of {ref[:10]}", exported.content, False)
            erased_ref, erased_record = refs[0]
            assert api.post(f"/v1/subjects/{erased_ref}/erasure").status_code == 201
            assert api.get(f"/v1/records/{erased_record}/evidence").status_code == 410
            ledger.seal_and_anchor()
            after = api.get(f"/v1/subjects/{erased_ref}/export")
            assert after.status_code == 200, after.text
            copies += copy_texts("copy after erasure", after.content, True)
    transactions = transaction_texts(ledger.chain.web3)
    ledger.store.close()  # type: ignore[attr-defined]
    sources = {
        "chain transactions": transactions,
        "database and WAL": database_texts(database),
        "logs": log_texts(debug_logs),
        "responses": responses,
        "copies": copies,
    }
    # The scan looked at real material: the vault's tables, access records, copies' files.
    tables = {where.split(" row ")[0] for where, _ in sources["database and WAL"]}
    assert {"table evidence", "table vault_keys", "table erasures"} <= tables
    assert any('"Access"' in text for _, text in sources["database and WAL"])
    assert any("access.json" in where for where, _ in copies)
    assert len(transactions) > 2 * 5  # deployment, roles, anchors
    needles = all_needles()
    leaks = {name: find(needles, texts) for name, texts in sources.items()}
    assert leaks == {name: set() for name in sources}
