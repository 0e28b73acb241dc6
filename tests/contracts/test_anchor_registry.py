"""BindLedger's anchor registry: each platform's heads form one growing, consistent log on chain.

The contract keeps each platform's latest head only; every head is evidenced by its HeadAnchored
event, read back here with eth_getLogs as a verifier or an auditor reads it. A deployment may
continue the logs of a predecessor (the frozen version 1 release here): a platform's first head
must then extend its latest head there.

Reverts are asserted as OpenZeppelin's tests do: the exact custom error and its arguments, decoded
from the revert data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from ledger.core.merkle import MerkleLog
from tests.helpers.reverts import expect_revert

from .conftest import Deploy

PLATFORM_ROLE = keccak(text="PLATFORM_ROLE")
DEFAULT_ADMIN_ROLE = bytes(32)
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HEAD = (bytes(32), 0, 0)

# A 12-node consistency proof needs a tree of at least 2^11 leaves.
GAS_LOG_LEAVES = 1 << 13
# Budgets of one anchor transaction: 12 gas per record at a batch of 4 096 records is 49 152
# gas with the 7-node proof such a batch has on a million-record log (ledger/bench/gas.py); a
# 12-node proof costs about 4 000 gas more in calldata and hashing.
ANCHOR_GAS_LIMIT_7_NODES = 49_152
ANCHOR_GAS_LIMIT_12_NODES = 53_500
HEAD_ANCHORED_TOPIC = keccak(text="HeadAnchored(address,uint256,uint64,bytes32,uint64)")


@dataclass(frozen=True)
class Accounts:
    admin: str
    platform_a: str
    platform_b: str
    outsider: str


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> Accounts:
    admin, platform_a, platform_b, outsider = (w3.eth.accounts[i] for i in range(4))
    return Accounts(admin, platform_a, platform_b, outsider)


@pytest.fixture
def ledger(deploy: Deploy, accounts: Accounts) -> Contract:
    """A fresh BindLedger whose admin granted PLATFORM_ROLE to platforms A and B."""
    contract = deploy("BindLedger", accounts.admin, ZERO_ADDRESS, sender=accounts.admin)
    for platform in (accounts.platform_a, accounts.platform_b):
        transact(contract.functions.grantRole(PLATFORM_ROLE, platform), accounts.admin)
    return contract


def transact(call: Any, sender: str) -> TxReceipt:
    w3: Web3 = call.w3
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


def make_log(label: bytes, size: int) -> MerkleLog:
    return MerkleLog(label + i.to_bytes(4, "big") for i in range(size))


def anchor(ledger: Contract, platform: str, log: MerkleLog, old: int, new: int) -> TxReceipt:
    """Anchors head `new` of `log` for `platform`, whose previous head has `old` leaves."""
    proof = log.consistency_proof(old, new) if old else []
    return transact(ledger.functions.anchorHead(new, log.root(new), proof), platform)


def head(ledger: Contract, function: str, *args: Any) -> tuple[bytes, int, int]:
    root, size, time = getattr(ledger.functions, function)(*args).call()
    return bytes(root), size, time


def anchored_heads(ledger: Contract, platform: str) -> list[tuple[int, bytes, int, int]]:
    """(index, root, size, time) of every HeadAnchored event of `platform`, by eth_getLogs
    filtered on the platform's topic, oldest first."""
    logs = ledger.w3.eth.get_logs({
        "address": ledger.address, "fromBlock": 0, "toBlock": "latest",
        "topics": [HEAD_ANCHORED_TOPIC, bytes(12) + bytes.fromhex(platform[2:])],
    })
    events = [ledger.events.HeadAnchored().process_log(log)["args"] for log in logs]
    return [(e["index"], bytes(e["root"]), e["size"], e["time"]) for e in events]


def block_time(w3: Web3, receipt: TxReceipt) -> int:
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def revert_of(ledger: Contract, call: Any, sender: str) -> tuple[str, tuple[Any, ...]]:
    """The decoded error of sending `call` as a transaction from `sender`."""
    return expect_revert(ledger.abi, lambda: call.transact({"from": sender}))


def view_revert_of(ledger: Contract, call: Any) -> tuple[str, tuple[Any, ...]]:
    """The decoded error of calling the view `call`."""
    return expect_revert(ledger.abi, call.call)


# --- Deployment and roles ------------------------------------------------------------------------


def test_constructor_makes_admin_the_role_admin(deploy: Deploy, accounts: Accounts) -> None:
    ledger = deploy("BindLedger", accounts.admin, ZERO_ADDRESS, sender=accounts.outsider)
    assert ledger.functions.hasRole(DEFAULT_ADMIN_ROLE, accounts.admin).call()
    assert not ledger.functions.hasRole(DEFAULT_ADMIN_ROLE, accounts.outsider).call()
    assert ledger.functions.PLATFORM_ROLE().call() == PLATFORM_ROLE
    assert ledger.functions.getRoleAdmin(PLATFORM_ROLE).call() == DEFAULT_ADMIN_ROLE
    assert ledger.functions.interfaceVersion().call() == 2
    assert ledger.functions.predecessor().call() == ZERO_ADDRESS


def test_constructor_rejects_the_zero_admin(w3: Web3, accounts: Accounts) -> None:
    from ledger.artifacts import load_artifact

    artifact = load_artifact("BindLedger")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    error = expect_revert(
        artifact.abi,
        lambda: factory.constructor(ZERO_ADDRESS, ZERO_ADDRESS).transact(
            {"from": accounts.admin}),
    )
    assert error == ("AccessControlInvalidDefaultAdmin", (ZERO_ADDRESS,))


def test_supports_its_interfaces(ledger: Contract) -> None:
    def interface_id(*signatures: str) -> bytes:
        result = 0
        for signature in signatures:
            result ^= int.from_bytes(function_signature_to_4byte_selector(signature), "big")
        return result.to_bytes(4, "big")

    anchor_registry = interface_id(
        "anchorHead(uint64,bytes32,bytes32[])",
        "latestHead(address)",
        "predecessor()",
    )
    access_control = interface_id(
        "hasRole(bytes32,address)",
        "getRoleAdmin(bytes32)",
        "grantRole(bytes32,address)",
        "revokeRole(bytes32,address)",
        "renounceRole(bytes32,address)",
    )
    erc165 = interface_id("supportsInterface(bytes4)")
    for supported in (anchor_registry, access_control, erc165):
        assert ledger.functions.supportsInterface(supported).call()
    version_1_registry = interface_id(
        "anchorHead(uint64,bytes32,bytes32[])",
        "isHead(address,uint64,bytes32)",
        "headAt(address,uint64)",
        "latestHead(address)",
        "headCount(address)",
        "headByIndex(address,uint256)",
    )
    for unsupported in (version_1_registry, b"\xff\xff\xff\xff"):
        assert not ledger.functions.supportsInterface(unsupported).call()


def test_version_1_views_of_every_head_are_gone(ledger: Contract) -> None:
    """Heads are proven by their events: no view answers for an older head (one that answered
    "no" for it would mislead a verifier into failing valid evidence)."""
    names = {entry.get("name") for entry in ledger.abi}
    assert not names & {"isHead", "headAt", "headCount", "headByIndex"}


def test_account_without_platform_role_cannot_anchor(ledger: Contract, accounts: Accounts) -> None:
    log = make_log(b"outsider", 3)
    for account in (accounts.outsider, accounts.admin):  # the admin manages roles, holds none
        call = ledger.functions.anchorHead(3, log.root(3), [])
        assert revert_of(ledger, call, account) == (
            "AccessControlUnauthorizedAccount",
            (account, PLATFORM_ROLE),
        )
        assert head(ledger, "latestHead", account) == ZERO_HEAD
        assert anchored_heads(ledger, account) == []


def test_revoked_platform_cannot_anchor_but_keeps_its_history(
    w3: Web3, ledger: Contract, accounts: Accounts
) -> None:
    log = make_log(b"revoked", 5)
    receipt = anchor(ledger, accounts.platform_a, log, 0, 3)
    transact(ledger.functions.revokeRole(PLATFORM_ROLE, accounts.platform_a), accounts.admin)
    call = ledger.functions.anchorHead(5, log.root(5), log.consistency_proof(3, 5))
    assert revert_of(ledger, call, accounts.platform_a) == (
        "AccessControlUnauthorizedAccount",
        (accounts.platform_a, PLATFORM_ROLE),
    )
    kept = (log.root(3), 3, block_time(w3, receipt))
    assert head(ledger, "latestHead", accounts.platform_a) == kept
    assert anchored_heads(ledger, accounts.platform_a) == [(0, *kept)]


# --- Anchoring -----------------------------------------------------------------------------------


def test_first_head_is_accepted(w3: Web3, ledger: Contract, accounts: Accounts) -> None:
    platform = accounts.platform_a
    log = make_log(b"first", 7)
    assert head(ledger, "latestHead", platform) == ZERO_HEAD

    receipt = anchor(ledger, platform, log, 0, 7)

    time = block_time(w3, receipt)
    expected = (log.root(7), 7, time)
    (event,) = ledger.events.HeadAnchored().process_receipt(receipt)
    assert dict(event["args"]) == {
        "platform": platform,
        "index": 0,
        "size": 7,
        "root": log.root(7),
        "time": time,
    }
    assert head(ledger, "latestHead", platform) == expected
    assert anchored_heads(ledger, platform) == [(0, *expected)]


def test_first_head_must_not_carry_a_proof(ledger: Contract, accounts: Accounts) -> None:
    log = make_log(b"first-proof", 4)
    call = ledger.functions.anchorHead(4, log.root(4), [log.root(2)])
    assert revert_of(ledger, call, accounts.platform_a) == (
        "AnchorRegistryInconsistentHead",
        (0, bytes(32), 4, log.root(4)),
    )


def test_empty_head_is_not_growing(ledger: Contract, accounts: Accounts) -> None:
    call = ledger.functions.anchorHead(0, make_log(b"", 0).root(0), [])
    assert revert_of(ledger, call, accounts.platform_a) == (
        "AnchorRegistryHeadNotGrowing",
        (0, 0),
    )


def test_growing_heads_with_valid_proofs_are_accepted(
    w3: Web3, ledger: Contract, accounts: Accounts
) -> None:
    platform = accounts.platform_a
    sizes = [1, 2, 3, 4, 5, 8, 13, 16, 17, 31, 32, 33, 64, 100]
    log = make_log(b"growing", sizes[-1])
    expected = []
    previous = 0
    for index, size in enumerate(sizes):
        receipt = anchor(ledger, platform, log, previous, size)
        (event,) = ledger.events.HeadAnchored().process_receipt(receipt)
        assert (event["args"]["index"], event["args"]["size"]) == (index, size)
        expected.append((index, log.root(size), size, block_time(w3, receipt)))
        assert head(ledger, "latestHead", platform) == expected[-1][1:]
        previous = size

    # Every head, older ones too, stays provable from the chain's events.
    assert anchored_heads(ledger, platform) == expected


def test_head_not_growing_is_rejected(ledger: Contract, accounts: Accounts) -> None:
    platform = accounts.platform_a
    log = make_log(b"not-growing", 10)
    anchor(ledger, platform, log, 0, 10)
    for size in (10, 9, 1, 0):
        call = ledger.functions.anchorHead(size, log.root(size), [])
        assert revert_of(ledger, call, platform) == ("AnchorRegistryHeadNotGrowing", (10, size))
    assert len(anchored_heads(ledger, platform)) == 1


def test_inconsistent_head_is_rejected(ledger: Contract, accounts: Accounts) -> None:
    platform = accounts.platform_a
    log = make_log(b"honest", 21)
    anchor(ledger, platform, log, 0, 6)
    proof = log.consistency_proof(6, 21)
    assert len(proof) >= 3
    # The same first 5 leaves and a different 6th: a rewritten history of the same length.
    forked = MerkleLog([*(b"honest" + i.to_bytes(4, "big") for i in range(5)), b"rewritten"])
    forked.extend(b"honest" + i.to_bytes(4, "big") for i in range(6, 21))
    flipped = bytearray(proof[1])
    flipped[0] ^= 0x80

    bad: list[tuple[str, bytes, Sequence[bytes]]] = [
        ("no proof", log.root(21), []),
        ("flipped node", log.root(21), [proof[0], bytes(flipped), *proof[2:]]),
        ("truncated proof", log.root(21), proof[:-1]),
        ("extra node", log.root(21), [*proof, proof[-1]]),
        ("wrong new root", log.root(20), proof),
        ("rewritten history", forked.root(21), forked.consistency_proof(6, 21)),
    ]
    for what, root, bad_proof in bad:
        call = ledger.functions.anchorHead(21, root, list(bad_proof))
        assert revert_of(ledger, call, platform) == (
            "AnchorRegistryInconsistentHead",
            (6, log.root(6), 21, root),
        ), what

    assert head(ledger, "latestHead", platform)[:2] == (log.root(6), 6)
    anchor(ledger, platform, log, 6, 21)  # the honest extension still goes through
    assert [h[:3] for h in anchored_heads(ledger, platform)] == [
        (0, log.root(6), 6), (1, log.root(21), 21)]


def test_platforms_are_independent(ledger: Contract, accounts: Accounts) -> None:
    a, b = accounts.platform_a, accounts.platform_b
    log_a, log_b = make_log(b"platform-a", 20), make_log(b"platform-b", 30)
    anchor(ledger, a, log_a, 0, 10)
    anchor(ledger, a, log_a, 10, 20)
    # B's first head needs no proof and may be smaller than A's latest head.
    anchor(ledger, b, log_b, 0, 5)
    anchor(ledger, b, log_b, 5, 30)

    assert [h[2] for h in anchored_heads(ledger, a)] == [10, 20]
    assert [h[2] for h in anchored_heads(ledger, b)] == [5, 30]
    assert head(ledger, "latestHead", a)[:2] == (log_a.root(20), 20)
    assert head(ledger, "latestHead", b)[:2] == (log_b.root(30), 30)
    # A's proof from its own head does not extend B's head.
    call = ledger.functions.anchorHead(20, log_a.root(20), log_a.consistency_proof(10, 20))
    assert revert_of(ledger, call, b) == ("AnchorRegistryHeadNotGrowing", (30, 20))


def test_unknown_platform_has_no_heads(ledger: Contract, accounts: Accounts) -> None:
    nobody = accounts.outsider
    assert head(ledger, "latestHead", nobody) == ZERO_HEAD
    assert anchored_heads(ledger, nobody) == []


# --- Gas -----------------------------------------------------------------------------------------


def _new_size_for_proof_length(log: MerkleLog, old: int, length: int) -> int:
    return next(
        new
        for new in range(old + 1, log.size + 1)
        if len(log.consistency_proof(old, new)) == length
    )


def test_anchor_gas(ledger: Contract, accounts: Accounts) -> None:
    platform = accounts.platform_a
    log = make_log(b"gas", GAS_LOG_LEAVES)
    first = 3
    seven = _new_size_for_proof_length(log, first, 7)
    twelve = _new_size_for_proof_length(log, seven, 12)

    gas = {
        (0, first, 0): anchor(ledger, platform, log, 0, first)["gasUsed"],
        (first, seven, 7): anchor(ledger, platform, log, first, seven)["gasUsed"],
        (seven, twelve, 12): anchor(ledger, platform, log, seven, twelve)["gasUsed"],
    }
    for (old, new, nodes), used in gas.items():
        print(f"anchorHead {old:>5} -> {new:>5} leaves, {nodes:>2}-node proof: {used} gas")
    # The first head writes two new slots; later ones rewrite them in place.
    assert gas[0, first, 0] > gas[first, seven, 7] + 20_000
    assert gas[first, seven, 7] <= ANCHOR_GAS_LIMIT_7_NODES
    assert gas[seven, twelve, 12] <= ANCHOR_GAS_LIMIT_12_NODES


# --- Takeover of a log from a predecessor --------------------------------------------------------


def deploy_release_1(w3: Web3, admin: str) -> Contract:
    """The frozen version 1 release (contracts/releases/v1), as consortia deployed it."""
    from ledger.artifacts import load_release_artifact

    artifact = load_release_artifact(1)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = transact(factory.constructor(admin), admin)
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def test_first_head_on_a_successor_must_extend_the_predecessors_latest_head(
    w3: Web3, deploy: Deploy, accounts: Accounts
) -> None:
    platform = accounts.platform_a
    log = make_log(b"takeover", 40)
    v1 = deploy_release_1(w3, accounts.admin)
    transact(v1.functions.grantRole(PLATFORM_ROLE, platform), accounts.admin)
    anchor(v1, platform, log, 0, 10)
    anchor(v1, platform, log, 10, 17)

    v2 = deploy("BindLedger", accounts.admin, v1.address, sender=accounts.admin)
    transact(v2.functions.grantRole(PLATFORM_ROLE, platform), accounts.admin)
    assert v2.functions.predecessor().call() == v1.address
    # Until its first head here, the platform's latest head is the predecessor's.
    assert head(v2, "latestHead", platform) == head(v1, "latestHead", platform)

    forked = MerkleLog([*(b"takeover" + i.to_bytes(4, "big") for i in range(16)), b"rewritten",
                        *(b"takeover" + i.to_bytes(4, "big") for i in range(17, 40))])
    refused: list[tuple[str, int, bytes, list[bytes], tuple[str, tuple[Any, ...]]]] = [
        ("a fresh log, as if none were anchored", 30, log.root(30), [],
         ("AnchorRegistryInconsistentHead", (17, log.root(17), 30, log.root(30)))),
        ("a proof from the predecessor's older head", 30, log.root(30),
         log.consistency_proof(10, 30),
         ("AnchorRegistryInconsistentHead", (17, log.root(17), 30, log.root(30)))),
        ("a rewritten history", 30, forked.root(30), forked.consistency_proof(17, 30),
         ("AnchorRegistryInconsistentHead", (17, log.root(17), 30, forked.root(30)))),
        ("a wrong root", 30, log.root(29), log.consistency_proof(17, 30),
         ("AnchorRegistryInconsistentHead", (17, log.root(17), 30, log.root(29)))),
        ("a head no larger than the predecessor's", 17, log.root(17), [],
         ("AnchorRegistryHeadNotGrowing", (17, 17))),
    ]
    for what, size, root, proof, error in refused:
        assert revert_of(v2, v2.functions.anchorHead(size, root, proof), platform) == error, what

    receipt = anchor(v2, platform, log, 17, 30)
    (event,) = v2.events.HeadAnchored().process_receipt(receipt)
    assert (event["args"]["index"], event["args"]["size"]) == (0, 30)
    assert head(v2, "latestHead", platform)[:2] == (log.root(30), 30)
    anchor(v2, platform, log, 30, 40)  # later heads extend the successor's own latest head
    # The predecessor keeps its history; a platform with no head there starts from size 0.
    assert head(v1, "latestHead", platform)[:2] == (log.root(17), 17)
    transact(v2.functions.grantRole(PLATFORM_ROLE, accounts.platform_b), accounts.admin)
    anchor(v2, accounts.platform_b, make_log(b"newcomer", 3), 0, 3)


def test_a_predecessor_must_be_a_bindledger(w3: Web3, accounts: Accounts) -> None:
    from ledger.artifacts import load_artifact

    artifact = load_artifact("BindLedger")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    not_a_ledger = transact(
        w3.eth.contract(abi=[], bytecode=load_artifact("ConsistencyProofHarness").bytecode
                        ).constructor(), accounts.admin)["contractAddress"]
    for predecessor in (accounts.outsider, not_a_ledger):
        error = expect_revert(
            artifact.abi,
            lambda p=predecessor: factory.constructor(accounts.admin, p).transact(
                {"from": accounts.admin}),
        )
        assert error == ("AnchorRegistryInvalidPredecessor", (predecessor,))
