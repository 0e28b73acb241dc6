"""Raw identifiers never leave the API: no phone number, ID number or account number, and no
plain (unkeyed) hash of one, appears on chain, in the database, in a log line or in a
response. A plain hash of a phone number is reversed by enumeration in minutes (ledger/core/refs.py),
so those count as leaks too.

A realistic flow (several borrowers, phone numbers typed in different ways, a rejected
invalid number, anchoring, proofs, verification) runs through the API served against its
own anvil node and a database file, with every logger at DEBUG. Then everything that flow
left behind is scanned. The scanner itself is shown to find identifiers planted in each kind
of place, so a silent pass means nothing leaked rather than nothing was looked at.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
from eth_utils import keccak
from web3 import HTTPProvider, Web3

from api.main import create_app
from ledger.config import Settings
from ledger.core.refs import normalize_identifier, normalize_phone
from ledger.runtime import open_ledger
from tests.support.anvil import running_anvil
from tests.support.server import serving

POLICY_HASH = "0x" + "cd" * 32

# (ID number, phone as typed, loan account, a second phone for a rebind, typed differently)
BORROWERS = [
    ("110105199001011234", "138 0013 8000", "LOAN-2024-0001", "+86 139-1234-5678"),
    ("31010119850505234x", "0086 186 2000 3000", "LOAN-2024-0002", "(0)135 0000 1111"),
    ("440301199212123456", "+1 (650) 253-0000", "ACCT/77/0003", "139.0101.2020"),
]
INVALID_PHONE = "+86 199 8877 66"  # too short: refused with a 422


@dataclass(frozen=True)
class Needle:
    """One form of a secret value, as it could appear in a haystack (lower case)."""

    label: str
    text: str


def _hash_forms(label: str, value: str) -> list[Needle]:
    needles = []
    for name, digest in (("sha256", hashlib.sha256(value.encode()).digest()),
                         ("keccak256", keccak(value.encode()))):
        needles.append(Needle(f"{name}({label})", digest.hex()))
        needles.append(Needle(f"0x{name}({label})", "0x" + digest.hex()))
    return needles


def phone_needles(typed: str) -> list[Needle]:
    """The number as typed, its digits, E.164, national forms, and their plain hashes."""
    digits = re.sub(r"\D", "", typed)
    forms = {"typed": typed, "digits": digits}
    try:
        parsed = phonenumbers.parse(typed, "CN")
        forms["national digits"] = str(parsed.national_number)
        forms["national"] = phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms["international"] = phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        forms["E.164"] = normalize_phone(typed)
    except (phonenumbers.NumberParseException, ValueError):
        forms["E.164"] = "+" + digits  # what it would have been; invalid numbers too
    forms["E.164 digits"] = forms["E.164"].lstrip("+")
    needles = [Needle(f"{form} of {typed!r}", value.lower()) for form, value in forms.items()]
    for form in ("E.164", "E.164 digits", "digits", "typed"):
        needles += _hash_forms(f"{form} of {typed!r}", forms[form])
    return needles


def identifier_needles(raw: str) -> list[Needle]:
    forms = {"raw": raw, "normalized": normalize_identifier(raw)}
    needles = [Needle(f"{form} {raw!r}", value.lower()) for form, value in forms.items()]
    for form, value in forms.items():
        needles += _hash_forms(f"{form} {raw!r}", value)
    return needles


def all_needles() -> list[Needle]:
    needles = phone_needles(INVALID_PHONE)
    for subject_id, phone, account, new_phone in BORROWERS:
        needles += identifier_needles(subject_id) + identifier_needles(account)
        needles += phone_needles(phone) + phone_needles(new_phone)
    return needles


def blob_texts(where: str, data: bytes) -> list[tuple[str, str]]:
    """Bytes as hex (finds binary hashes) and as text (finds ASCII identifiers)."""
    return [(where, data.hex()), (where, data.decode("latin-1"))]


def find(needles: Iterable[Needle], haystacks: Iterable[tuple[str, str]],
         ) -> set[tuple[str, str]]:
    """(needle label, where) for every needle found, case-insensitively."""
    found = set()
    needles = list(needles)
    for where, text in haystacks:
        lowered = text.lower()
        for needle in needles:
            if needle.text in lowered:
                found.add((needle.label, where))
    return found


# -- where to look ------------------------------------------------------------------------


def transaction_texts(web3: Web3) -> list[tuple[str, str]]:
    texts = []
    for number in range(web3.eth.block_number + 1):
        block = web3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            where = f"tx {tx['hash'].hex()} (block {number})"
            texts += blob_texts(where, bytes(tx["input"]))
            texts.append((where, Web3.to_json(tx)))  # type: ignore[arg-type]
    return texts


def event_log_texts(web3: Web3) -> list[tuple[str, str]]:
    texts = []
    for log in web3.eth.get_logs({"fromBlock": 0, "toBlock": web3.eth.block_number}):
        where = f"log {log['logIndex']} of block {log['blockNumber']}"
        texts += blob_texts(where, bytes(log["data"]))
        texts += [(where, bytes(topic).hex()) for topic in log["topics"]]
    return texts


def database_texts(path: Path) -> list[tuple[str, str]]:
    """Every value of every row of every table, and the raw bytes of the database files (free
    pages and the WAL keep what a table no longer shows)."""
    texts = []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for i, row in enumerate(conn.execute(f'SELECT * FROM "{table}"')):
                for value in row:
                    where = f"table {table} row {i}"
                    if isinstance(value, bytes):
                        texts += blob_texts(where, value)
                    else:
                        texts.append((where, str(value)))
    finally:
        conn.close()
    for file in sorted(path.parent.glob(path.name + "*")):
        texts += blob_texts(f"file {file.name}", file.read_bytes())
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    # a record reaches caplog once per logger it is attached to on the way up: count it once
    records = list({id(r): r for r in caplog.records}.values())
    texts = [(f"log line of {r.name}", r.getMessage()) for r in records]
    texts += [(f"traceback in a log of {r.name}", r.exc_text) for r in records if r.exc_text]
    texts.append(("captured log text", caplog.text))
    return texts


# -- the flow -----------------------------------------------------------------------------


@dataclass
class Evidence:
    responses: list[tuple[str, str]]
    web3: Web3
    database: Path
    records: int


def run_flow(base_url: str, api_key: str) -> list[tuple[str, str]]:
    """Onboard every borrower, rebind one phone each, check a SIM swap, try an invalid
    number, anchor, fetch and verify every proof. Returns every response body."""
    bodies: list[tuple[str, str]] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        bodies.append((f"response to {response.request.method} {response.request.url.path}",
                       response.text))

    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}, timeout=30,
                      verify=False, event_hooks={"response": [keep]}) as api:
        ids = []

        def post(draft: dict[str, Any]) -> None:
            response = api.post("/v1/records", json=draft)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])

        for subject_id, phone, account, new_phone in BORROWERS:
            base = {"subjectId": subject_id}
            for method in ("SMS_OTP", "LIVENESS"):
                post({**base, "type": "Verification", "method": method, "passed": True,
                      "phone": phone})
            post({**base, "type": "Binding", "action": "BIND", "phone": phone,
                  "accountId": account, "factors": ["SMS_OTP", "LIVENESS"]})
            post({**base, "type": "Consent", "action": "GIVEN", "purpose": "LENDING",
                  "policyHash": POLICY_HASH, "expiresAt": 2_000_000_000})
            post({**base, "type": "Verification", "method": "SIM_SWAP_CHECK", "passed": True,
                  "phone": new_phone})
            post({**base, "type": "Binding", "action": "REBIND", "phone": new_phone,
                  "accountId": account, "factors": ["SMS_OTP", "CARRIER_MATCH"]})
        refused = api.post("/v1/records", json={
            "type": "Verification", "subjectId": BORROWERS[0][0], "method": "SMS_OTP",
            "passed": False, "phone": INVALID_PHONE})
        assert refused.status_code == 422, refused.text
        assert api.post("/v1/anchor").status_code == 200
        for record_id in ids:
            api.get(f"/v1/records/{record_id}")
            bundle = api.get(f"/v1/records/{record_id}/proof").json()
            assert api.post("/v1/verify", json=bundle).json()["verified"] is True
        api.get("/v1/heads/latest")
        api.get("/healthz")
    return bodies


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG into caplog, uvicorn's too (its loggers do not propagate)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access")]
    for logger in uvicorn_loggers:
        logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        for logger in uvicorn_loggers:
            logger.removeHandler(caplog.handler)


def test_no_raw_or_plainly_hashed_identifier_appears_anywhere(
        tmp_path: Path, debug_logs: pytest.LogCaptureFixture) -> None:
    database = tmp_path / "ledger.sqlite3"
    with running_anvil() as anvil:  # its own node: every block on it is this flow's
        settings = Settings(chain=anvil, database=str(database),
                            ref_secret="privacy-test-reference-secret-0123456789")
        ledger = open_ledger(settings)
        app = create_app(settings, ledger, run_worker=False)
        # log_config=None: uvicorn keeps our handlers instead of installing its own
        with serving(app, log_level="debug", log_config=None) as url:
            responses = run_flow(url, settings.platform_list[0].api_key)
        ledger.store.close()  # type: ignore[attr-defined]
        web3 = Web3(HTTPProvider(anvil))
        sources = {
            "chain transactions": transaction_texts(web3),
            "event logs": event_log_texts(web3),
            "database": database_texts(database),
            "logs": log_texts(debug_logs),
            "responses": responses,
        }

    # the scan looked at real material: transactions, events, rows, log lines, bodies
    assert len(sources["chain transactions"]) >= 3 * 3  # deploy, roles, anchor
    assert sources["event logs"]
    assert sum(w.startswith("table records") for w, _ in sources["database"]) >= 2 * 18
    assert any("uvicorn" in w for w, _ in sources["logs"])  # access log lines were captured
    assert any("bindledger" in w for w, _ in sources["logs"])  # "anchored head ..."
    assert len(sources["responses"]) > 18 * 3

    needles = all_needles()
    leaks = {name: find(needles, texts) for name, texts in sources.items()}
    assert leaks == {name: set() for name in sources}


# -- the scanner finds what is there -------------------------------------------------------

PHONE = BORROWERS[0][1]
E164 = normalize_phone(PHONE)


def test_the_scanner_finds_a_planted_number_in_each_of_its_forms() -> None:
    sha = hashlib.sha256(E164.encode()).digest()
    haystacks = [
        ("typed", f"note: {PHONE}"),
        ("digits", "{'x': 13800138000}"),
        ("e164", f'"phone":"{E164}"'),
        ("national in json", '"138 0013 8000"'),
        ("sha256 hex upper", "0x" + sha.hex().upper()),
        *blob_texts("sha256 bytes", b"\x00" * 5 + sha + b"\x01"),
        *blob_texts("keccak of digits", keccak(E164.lstrip("+").encode())),
        *blob_texts("ascii in calldata", b"\x12\x34" + E164.encode()),
        ("id number", "subject 31010119850505234X"),  # the ID in upper case
    ]
    found = find(all_needles(), haystacks)
    assert {where for _, where in found} == {where for where, _ in haystacks}
    assert (f"E.164 of {PHONE!r}", "e164") in found
    assert (f"0xsha256(E.164 of {PHONE!r})", "sha256 hex upper") in found
    assert (f"sha256(E.164 of {PHONE!r})", "sha256 bytes") in found
    assert (f"keccak256(E.164 digits of {PHONE!r})", "keccak of digits") in found
    assert ("normalized '31010119850505234x'", "id number") in found
    assert find(all_needles(), [("clean", "0x" + "ab" * 32 + " 1795889364 LOAN")]) == set()


def test_the_scanner_finds_a_number_planted_on_chain_in_a_database_and_in_a_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with running_anvil() as anvil:
        web3 = Web3(HTTPProvider(anvil))
        sender = web3.eth.accounts[0]  # anvil's unlocked development account
        for data in (E164.encode(), keccak(E164.encode())):
            tx = web3.eth.send_transaction({"from": sender, "to": sender, "data": data})
            web3.eth.wait_for_transaction_receipt(tx)
        on_chain = find(phone_needles(PHONE), transaction_texts(web3))

    database = tmp_path / "planted.sqlite3"
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE t (a TEXT, b BLOB)")
    conn.execute("INSERT INTO t VALUES (?, ?)", ("ok", hashlib.sha256(E164.encode()).digest()))
    conn.commit()
    conn.close()
    in_database = find(phone_needles(PHONE), database_texts(database))

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("bindledger.somewhere").debug("checking %s", PHONE)
    in_logs = find(phone_needles(PHONE), log_texts(caplog))

    assert {label for label, _ in on_chain} >= {f"E.164 of {PHONE!r}",
                                                f"keccak256(E.164 of {PHONE!r})"}
    assert (f"sha256(E.164 of {PHONE!r})", "table t row 0") in in_database
    assert (f"typed of {PHONE!r}", "log line of bindledger.somewhere") in in_logs
