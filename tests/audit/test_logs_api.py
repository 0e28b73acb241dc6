"""GET /v1/logs/{platform}/...: a platform's whole log as C2SP tlog-tiles, up to its latest
final anchored head, for regulators, admins and the platform itself."""

from __future__ import annotations

import httpx
import pytest

from ledger.audit.tiles import (
    all_tiles,
    decode_bundle,
    leaf_hash,
    root_from_levels,
    split_hashes,
    tiles_at,
)
from ledger.core.merkle import MerkleLog
from ledger.store.base import AnchorState
from tests.support.api import ADDRESS_B, API_KEY_A, API_KEY_B, client
from tests.support.audit_log import ADMIN_API_KEY, REGULATOR_API_KEY, ServedLog


@pytest.fixture
def regulator(log: ServedLog) -> httpx.Client:
    return client(log.url, REGULATOR_API_KEY)


def test_the_checkpoint_is_the_latest_final_head_with_its_transaction(
    log: ServedLog, regulator: httpx.Client
) -> None:
    response = regulator.get(f"/v1/logs/{log.platform}/checkpoint")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    head = log.ledger.store.latest_head(log.platform, AnchorState.FINAL)
    assert head is not None and head.tx_hash is not None
    doc = response.json()
    assert doc["format"] == "bindledger.checkpoint/1"
    assert (doc["size"], doc["root"]) == (head.tree_size, "0x" + head.root_hash.hex())
    assert doc["anchor"]["txHash"] == "0x" + head.tx_hash.hex()
    assert doc["anchor"]["blockNumber"] == head.block_number
    assert doc["anchor"]["contract"] == log.ledger.contract.address


def test_tiles_hold_the_stored_log_and_its_rfc9162_tree(
    log: ServedLog, regulator: httpx.Client
) -> None:
    size = regulator.get(f"/v1/logs/{log.platform}/checkpoint").json()["size"]
    store = log.ledger.store
    served = {}
    for tile in all_tiles(size):
        response = regulator.get(f"/v1/logs/{log.platform}/{tile.path}")
        assert response.status_code == 200, tile.path
        assert response.headers["content-type"] == "application/octet-stream"
        expected_cache = ("private, max-age=31536000, immutable" if tile.full
                          else "private, max-age=60")
        assert response.headers["cache-control"] == expected_cache
        served[tile] = response.content
    assert [t.path for t in tiles_at(size, 0)] == ["tile/0/000", "tile/0/001", "tile/0/002.p/94"]
    # Level 0: the leaf hashes of the store's record hashes, 32 bytes each.
    level0 = [h for t in tiles_at(size, 0) for h in split_hashes(served[t])]
    assert level0 == [leaf_hash(h) for h in store.record_hashes(log.platform)[:size]]
    # Entry bundles: the stored records, in leaf order.
    entries = [e for t in tiles_at(size, None) for e in decode_bundle(served[t])]
    assert entries == [r.body.encode() for r in store.records_in_range(log.platform, 0, size)]
    # Level 1 holds the root of each full run of 256 leaves; the root read from the tiles is
    # MerkleLog's and the checkpoint's.
    level1 = split_hashes(served[tiles_at(size, 1)[0]])
    log_of_store = MerkleLog(store.record_hashes(log.platform)[:size])
    assert level1 == [log_of_store.root(256), MerkleLog(
        store.record_hashes(log.platform)[256:512]).root()]
    root = root_from_levels([level0, level1], size)
    assert root == log_of_store.root() == log.ledger.merkle_log(log.platform).root(size)


@pytest.mark.parametrize("path", ["tile/0/002.p/95", "tile/0/003", "tile/entries/002",
                                  "tile/1/000", "tile/2/000.p/1"])
def test_nothing_beyond_the_anchored_log_is_served(
    log: ServedLog, regulator: httpx.Client, path: str
) -> None:
    response = regulator.get(f"/v1/logs/{log.platform}/{path}")
    assert response.status_code == 404
    assert response.json()["error"] == "TileNotFoundError"


@pytest.mark.parametrize("path", ["tile/0/2", "tile/0/002.p/0", "tile/x/000", "tiles/0/000"])
def test_a_path_outside_the_layout_is_a_404(
    log: ServedLog, regulator: httpx.Client, path: str
) -> None:
    assert regulator.get(f"/v1/logs/{log.platform}/{path}").status_code == 404


def test_admins_and_the_platform_itself_read_the_log(log: ServedLog) -> None:
    for key in (ADMIN_API_KEY, API_KEY_A):
        with client(log.url, key) as c:
            assert c.get(f"/v1/logs/{log.platform}/tile/0/000").status_code == 200
            # Any letter case of the address names the platform.
            assert c.get(f"/v1/logs/{log.platform.lower()}/checkpoint").status_code == 200


def test_another_platforms_log_is_the_same_404_as_none(log: ServedLog) -> None:
    with client(log.url, API_KEY_B) as b, client(log.url, REGULATOR_API_KEY) as regulator:
        others = b.get(f"/v1/logs/{log.platform}/checkpoint")
        unknown = regulator.get("/v1/logs/0x" + "12" * 20 + "/checkpoint")
        assert b.get(f"/v1/logs/{ADDRESS_B}/checkpoint").status_code == 200  # its own
    assert others.status_code == unknown.status_code == 404
    assert others.json()["error"] == unknown.json()["error"] == "LogNotFoundError"


def test_a_key_is_needed(log: ServedLog) -> None:
    with client(log.url, None) as anonymous:
        assert anonymous.get(f"/v1/logs/{log.platform}/tile/0/000").status_code == 401
