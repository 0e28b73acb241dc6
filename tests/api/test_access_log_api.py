"""The access log (PIPL art. 54): each read of a subject's data, by any key, leaves exactly one
Access record in BindLedger's own log, naming who read (holder and role), why, what (route and
record or subject) and when, with keyed references only; that log is anchored like a
platform's, and a regulator verifies its bundles as any other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account

from ledger.config import DEV_ACCESS_LOG_KEY, DEV_ADMIN_API_KEY, DEV_REGULATOR_API_KEY
from ledger.core.encoding import to_hex
from ledger.core.records import Access, AccessPurpose, AccessRole
from ledger.service import Ledger
from tests.support.api import ADDRESS_A, BINDING, VERIFICATION, client

ACCESS_LOG = str(Account.from_key(DEV_ACCESS_LOG_KEY).address)
embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


@pytest.fixture
def regulator(api_url: str) -> Iterator[httpx.Client]:
    with client(api_url, DEV_REGULATOR_API_KEY) as c:
        yield c


def access_records(ledger: Ledger) -> list[tuple[int, Access]]:
    rows = ledger.store.record_hashes(ACCESS_LOG)
    found = []
    for record_hash in rows:
        accepted = ledger.record_by_hash(record_hash)
        record = accepted.record.record
        assert isinstance(record, Access)
        found.append((accepted.row.id, record))
    return found


@embedded_only
def test_each_read_route_leaves_exactly_one_access_record(
        api_url: str, api_a: httpx.Client, regulator: httpx.Client, ledger_: Ledger,
        subject_id: str) -> None:
    created = api_a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id}).json()
    api_a.post("/v1/records", json={**BINDING, "subjectId": subject_id})
    assert api_a.post(f"/v1/records/{created['id']}/evidence", content=b"receipt",
                      headers={"Content-Type": "text/plain"}).status_code == 201
    assert api_a.post("/v1/anchor").status_code == 200
    ref, record_hash = created["subject"], created["recordHash"]
    reads: list[tuple[httpx.Client, str, dict[str, Any], str, str]] = [
        (api_a, f"/v1/records/{created['id']}", {}, "/v1/records/{record_id}", record_hash),
        (api_a, "/v1/records", {"hash": record_hash}, "/v1/records", record_hash),
        (api_a, f"/v1/records/{created['id']}/proof", {}, "/v1/records/{record_id}/proof",
         record_hash),
        (api_a, f"/v1/records/{created['id']}/evidence", {},
         "/v1/records/{record_id}/evidence", record_hash),
        (api_a, f"/v1/subjects/{ref}/timeline", {}, "/v1/subjects/{ref}/timeline", ref),
        (api_a, f"/v1/subjects/{ref}/binding", {}, "/v1/subjects/{ref}/binding", ref),
        (regulator, f"/v1/records/{created['id']}", {}, "/v1/records/{record_id}", record_hash),
        (regulator, f"/v1/subjects/{ref}/timeline", {"platform": ADDRESS_A},
         "/v1/subjects/{ref}/timeline", ref),
    ]
    for reader, path, params, template, target in reads:
        before = access_records(ledger_)
        response = reader.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        after = access_records(ledger_)
        assert len(after) == len(before) + 1, path
        _, access = after[-1]
        is_regulator = reader is regulator
        assert access.route == f"GET {template}".encode()
        assert access.holder == (b"demo-regulator" if is_regulator else b"lender-a")
        assert access.role == (AccessRole.REGULATOR if is_regulator else AccessRole.PLATFORM)
        assert access.purpose == (AccessPurpose.SUPERVISION if is_regulator
                                  else AccessPurpose.SERVICE)
        assert (access.owner, to_hex(access.subject), to_hex(access.target)) == (
            ADDRESS_A, ref, target)
        assert access.platform == ACCESS_LOG
    # A read that finds nothing read nothing: no record.
    before = len(access_records(ledger_))
    assert api_a.get("/v1/records/999999").status_code == 404
    assert len(access_records(ledger_)) == before


@embedded_only
def test_the_access_log_is_anchored_and_its_bundles_verify(
        api_url: str, api_a: httpx.Client, regulator: httpx.Client, ledger_: Ledger,
        subject_id: str) -> None:
    created = api_a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id}).json()
    assert api_a.get(f"/v1/records/{created['id']}").status_code == 200
    (access_id, _access), = access_records(ledger_)
    with client(api_url, DEV_ADMIN_API_KEY) as admin:
        heads = admin.post("/v1/anchor").json()["heads"]
    assert (ACCESS_LOG, 1) in {(h["platform"], h["treeSize"]) for h in heads}
    bundle = regulator.get(f"/v1/records/{access_id}/proof")
    assert bundle.status_code == 200, bundle.text
    assert bundle.json()["record"]["type"] == "Access"
    verdict = httpx.post(f"{api_url}/v1/verify", json=bundle.json()).json()
    assert verdict["verified"] is True, verdict
    # Nobody calls the API as the access log, and platforms do not read it.
    assert api_a.get(f"/v1/records/{access_id}").status_code == 404
