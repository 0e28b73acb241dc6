"""The subject's copy (PIPL art. 45): a zip with the timeline, the decrypted evidence, the
access records about the subject and a manifest that verifies against the chain."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from ledger.config import DEV_REGULATOR_API_KEY
from ledger.privacy.export import check_copy
from ledger.service import Ledger
from tests.support.api import ADDRESS_A, VERIFICATION, client

embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


@embedded_only
def test_the_subjects_copy_holds_everything_and_verifies_against_the_chain(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client, ledger_: Ledger,
        subject_id: str) -> None:
    created = api_a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id}).json()
    assert api_a.post(f"/v1/records/{created['id']}/evidence", content=b"OTP delivered",
                      headers={"Content-Type": "text/plain"}).status_code == 201
    ref = created["subject"]
    assert api_a.get(f"/v1/records/{created['id']}").status_code == 200  # one read
    assert api_a.post("/v1/anchor").status_code == 200
    with client(api_url, DEV_REGULATOR_API_KEY) as regulator:
        ledger_.seal_and_anchor()  # the access log too
        response = regulator.get(f"/v1/subjects/{ref}/export", params={"platform": ADDRESS_A})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted([
        "manifest.json", "timeline.json", "access.json", f"evidence/record-{created['id']}.bin"])
    assert archive.read(f"evidence/record-{created['id']}.bin") == b"OTP delivered"
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["format"], manifest["subject"]) == ("bindledger.subject-copy/1", ref)
    timeline = json.loads(archive.read("timeline.json"))
    assert timeline["format"] == "bindledger.timeline/1"
    reads = json.loads(archive.read("access.json"))["reads"]
    assert [r["record"]["route"] for r in reads][:1] == [
        "0x" + b"GET /v1/records/{record_id}".hex()]
    assert "leafIndex" in reads[0]  # anchored: a proof bundle
    check = check_copy(response.content, ledger_.chain)
    assert check.verified, check

    # A file altered after the export is caught.
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            out.writestr(name, b"OTP not delivered" if name.startswith("evidence/") else data)
    altered = check_copy(tampered.getvalue(), ledger_.chain)
    assert not altered.verified and any("SHA-256" in p for p in altered.problems)
    # Another platform cannot export A's subject; a stranger subject is 404.
    assert api_b.get(f"/v1/subjects/{ref}/export").status_code == 404
