"""POST /v1/anchor, GET /v1/heads/latest and GET /healthz, over real HTTP.

A platform seals its pending records into a tree head and anchors it on chain in one
transaction; anyone may read the latest anchored heads and the service's health.
"""

from __future__ import annotations

import re

import httpx
import pytest

from ledger.service import Ledger
from tests.api.conftest import Shared
from tests.support.api import (
    ADDRESS_A,
    ADDRESS_B,
    VERIFICATION,
    client,
    ledger_error,
    validation_errors,
)

HEX32 = re.compile(r"0x[0-9a-f]{64}")
HEAD_MEMBERS = {"platform", "treeSize", "rootHash", "state", "txHash", "blockNumber",
                "blockHash", "blockTime"}


def write(c: httpx.Client, count: int) -> list[int]:
    ids = []
    for i in range(count):
        response = c.post("/v1/records", json={**VERIFICATION, "subjectId": f"B-{i}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_anchoring_seals_the_pending_records_into_one_head_on_chain(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    write(api_a, 3)

    response = api_a.post("/v1/anchor")

    assert response.status_code == 200
    [head] = response.json()["heads"]
    assert set(head) == HEAD_MEMBERS
    assert (head["platform"], head["treeSize"], head["state"]) == (ADDRESS_A, 3, "FINAL")
    assert HEX32.fullmatch(head["rootHash"]) and HEX32.fullmatch(head["txHash"])
    root = bytes.fromhex(head["rootHash"][2:])
    assert ledger_.contract.latest_head(ADDRESS_A).root == root
    receipt = ledger_.chain.receipt(bytes.fromhex(head["txHash"][2:]))
    assert receipt is not None and receipt.status == 1
    assert ledger_.contract.head_anchored_in(receipt, ADDRESS_A, 3, root)
    assert receipt.block_number == head["blockNumber"]
    block = ledger_.chain.block(head["blockNumber"])
    assert block is not None
    assert ("0x" + block.hash.hex(), block.timestamp) == (head["blockHash"], head["blockTime"])


def test_anchoring_with_nothing_pending_sends_no_transaction(
        api_a: httpx.Client, ledger_: Ledger) -> None:
    assert api_a.post("/v1/anchor").json() == {"heads": []}  # nothing written yet
    write(api_a, 1)
    api_a.post("/v1/anchor")
    block = ledger_.chain.web3.eth.block_number

    assert api_a.post("/v1/anchor").json() == {"heads": []}
    assert ledger_.chain.web3.eth.block_number == block


def test_a_platform_anchors_only_its_own_log(api_a: httpx.Client, api_b: httpx.Client) -> None:
    (theirs,) = write(api_b, 1)
    write(api_a, 2)

    heads = api_a.post("/v1/anchor").json()["heads"]

    assert [(h["platform"], h["treeSize"]) for h in heads] == [(ADDRESS_A, 2)]
    assert ledger_error(api_b.get(f"/v1/records/{theirs}/proof")) == (
        409, "NotAnchoredError", f"record {theirs} is not anchored yet; anchor and retry")
    assert [(h["platform"], h["treeSize"]) for h in api_b.post("/v1/anchor").json()["heads"]] \
        == [(ADDRESS_B, 1)]
    assert api_b.get(f"/v1/records/{theirs}/proof").status_code == 200


def test_a_later_head_extends_the_earlier_one_and_old_bundles_stay_valid(
        api_a: httpx.Client) -> None:
    first = write(api_a, 3)
    api_a.post("/v1/anchor")
    old_bundle = api_a.get(f"/v1/records/{first[0]}/proof").json()
    write(api_a, 4)

    [head] = api_a.post("/v1/anchor").json()["heads"]

    assert head["treeSize"] == 7
    assert api_a.post("/v1/verify", json=old_bundle).json()["verified"] is True
    # a record's proof is against the smallest anchored head that includes it
    assert api_a.get(f"/v1/records/{first[0]}/proof").json()["head"]["treeSize"] == 3


def test_latest_heads_lists_each_platforms_latest_anchored_head_publicly(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client) -> None:
    with client(api_url, None) as public:
        assert public.get("/v1/heads/latest").json() == {"heads": []}
        write(api_a, 2)
        api_a.post("/v1/anchor")
        write(api_a, 1)
        [a_head] = api_a.post("/v1/anchor").json()["heads"]
        write(api_b, 1)  # written, not anchored: not listed

        response = public.get("/v1/heads/latest")

        assert response.status_code == 200
        assert response.json() == {"heads": [a_head]}
        assert public.get("/v1/heads/latest", params={"platform": ADDRESS_B}).json() == {
            "heads": []}
        [b_head] = api_b.post("/v1/anchor").json()["heads"]
        assert public.get("/v1/heads/latest").json() == {"heads": [a_head, b_head]}
        assert public.get("/v1/heads/latest", params={"platform": ADDRESS_B}).json() == {
            "heads": [b_head]}


@pytest.mark.parametrize("platform", ["", "0x" + "00" * 20])
def test_latest_heads_of_a_platform_not_served_here_is_422(shared: Shared, platform: str) -> None:
    with client(shared.url, None) as public:
        response = public.get("/v1/heads/latest", params={"platform": platform})
    if platform == "":  # an empty filter is no filter
        assert response.status_code == 200
    else:
        assert ledger_error(response) == (
            422, "UnknownPlatformError", f"platform {platform} is not served here")


@pytest.mark.parametrize("platform", ["x", "0x1234", "0x" + "00" * 32])
def test_latest_heads_of_what_is_no_address_is_422(shared: Shared, platform: str) -> None:
    with client(shared.url, None) as public:
        response = public.get("/v1/heads/latest", params={"platform": platform})
    assert validation_errors(response) == [
        (["query", "platform"], "String should match pattern '^(0x[0-9a-fA-F]{40})?$'")]


def test_latest_heads_accepts_the_platform_address_in_any_case(shared: Shared) -> None:
    with client(shared.url, None) as public:
        response = public.get("/v1/heads/latest", params={"platform": ADDRESS_A.lower()})
    assert response.status_code == 200, response.text
    assert [h["platform"] for h in response.json()["heads"]] == [ADDRESS_A]


def test_health_names_the_chain_and_the_contract_publicly(shared: Shared) -> None:
    with client(shared.url, None) as public:
        response = public.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "chainId": shared.ledger.chain.chain_id,
        "contract": shared.ledger.contract.address,
        "embeddedChain": shared.ledger.chain.embedded,
        "workerError": None,  # run_worker=False: no worker, so no error
        "reason": None,
        "detail": None,
        "anchoringLeader": None,
        "oldestUnanchoredSeconds": None,
    }

