"""The BindLedger contract as seen from Python: deploy, check, anchor heads, read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger.artifacts import Artifact, load_artifact
from ledger.chain.client import ChainClient, Receipt
from ledger.core.encoding import to_hex
from ledger.errors import LedgerStateError
from ledger.releases import (
    CONTRACT_NAME,
    CURRENT_VERSION,
    Release,
    known_releases,
    release_of,
    same_code,
)

PLATFORM_ROLE = keccak(b"PLATFORM_ROLE")
ZERO_ADDRESS = "0x" + "00" * 20
# The evidence interface of every release: the same event, so one decoder reads them all.
HEAD_ANCHORED_TOPIC = keccak(b"HeadAnchored(address,uint256,uint64,bytes32,uint64)")
# eth_getLogs spans at most this many blocks per request: public nodes refuse wider ranges
# (10 000 is a common limit), and a narrow one keeps each answer small.
LOG_WINDOW_BLOCKS = 10_000

__all__ = [
    "CONTRACT_NAME",
    "HEAD_ANCHORED_TOPIC",
    "PLATFORM_ROLE",
    "AnchorContract",
    "AnchoredHead",
    "ChainHead",
    "ForeignContractError",
    "same_code",
]


class ForeignContractError(LedgerStateError):
    """The address holds no BindLedger contract (other code, or none) on this chain."""


@dataclass(frozen=True)
class ChainHead:
    root: bytes
    size: int
    time: int


@dataclass(frozen=True)
class AnchoredHead:
    """A HeadAnchored event: `platform`'s head number `index` in the contract, and where."""

    platform: str
    index: int
    size: int
    root: bytes
    time: int
    block_number: int
    tx_hash: bytes


class AnchorContract:
    """A deployed BindLedger contract on one chain, of any released version.

    With `artifact`, only that code is accepted by check_code (a test harness, say); without,
    every released version is (ledger.releases)."""

    def __init__(self, chain: ChainClient, address: str, artifact: Artifact | None = None) -> None:
        self.chain = chain
        self.artifact = artifact or load_artifact(CONTRACT_NAME)
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.web3.eth.contract(address=self.address, abi=self.artifact.abi)
        self._explicit = artifact is not None
        self._release: Release | None = None

    @classmethod
    def deploy(
        cls,
        chain: ChainClient,
        deployer: LocalAccount,
        predecessor: str | None = None,
        admin: str | None = None,
    ) -> AnchorContract:
        """Deploy a new BindLedger, sent by `deployer`, with `admin` as its governance (role
        admin): the deployer itself by default (development), a BindLedgerTimelock in a
        consortium's deployment (ledger.governance.deploy_governed). It continues the logs of
        the deployment at `predecessor` when given (checked to be a released BindLedger first:
        ForeignContractError)."""
        artifact = load_artifact(CONTRACT_NAME)
        if predecessor is not None:
            AnchorContract(chain, predecessor).check_code()
        chain.fund(deployer.address)
        address = chain.deploy(deployer, artifact, admin or deployer.address,
                               predecessor or ZERO_ADDRESS)
        return cls(chain, address, artifact)

    def check_code(self) -> Release:
        """The release the address runs; ForeignContractError unless it is one of them."""
        code = self.chain.code(self.address)
        if not code:
            raise ForeignContractError(
                f"no contract at {self.address} on chain {self.chain.chain_id}: this chain does "
                "not hold BindLedger's anchors (wrong chain, or a node that was restarted?)"
            )
        releases = (Release(CURRENT_VERSION, self.artifact),) if self._explicit else (
            known_releases())
        release = release_of(code, releases)
        if release is None:
            raise ForeignContractError(
                f"the contract at {self.address} on chain {self.chain.chain_id} is not "
                "a released BindLedger version (its code differs from every known release: "
                "contracts/build, contracts/releases)"
            )
        self._release = release
        return release

    @property
    def version(self) -> int:
        """The interface version the address runs (reads its code once)."""
        return (self._release or self.check_code()).version

    def has_platform_role(self, account: str) -> bool:
        return bool(self.contract.functions.hasRole(PLATFORM_ROLE, account).call())

    def grant_platform_role(self, admin: LocalAccount, account: str) -> None:
        if not self.has_platform_role(account):
            self.chain.transact(admin, self.contract.functions.grantRole(PLATFORM_ROLE, account))

    def anchor_call(self, size: int, root: bytes, consistency_proof: list[bytes]) -> ContractFunction:
        return self.contract.functions.anchorHead(size, root, consistency_proof)

    def latest_head(self, platform: str) -> ChainHead:
        """The platform's latest head: in this contract, or before its first head here, on the
        predecessor (version 2 on); zeros when none."""
        root, size, time = self.contract.functions.latestHead(platform).call()
        return ChainHead(bytes(root), int(size), int(time))

    def predecessor(self) -> str | None:
        """The deployment this one continues; None for none (and for version 1, which has
        none)."""
        if self.version < 2:
            return None
        address = str(self.contract.functions.predecessor().call())
        return None if int(address, 16) == 0 else Web3.to_checksum_address(address)

    def head_anchored_in(self, receipt: Receipt, platform: str, size: int, root: bytes) -> bool:
        """Whether the receipt carries this contract's HeadAnchored event for this head."""
        return any(
            head.platform == platform and head.size == size and head.root == root
            for head in self._heads_in(receipt.logs)
        )

    def anchoring_problem(
        self, receipt: Receipt | None, tx_hash: bytes, platform: str, size: int, root: bytes
    ) -> str | None:
        """Why the transaction `tx_hash` (whose receipt is `receipt`) is not the evidence that
        this contract anchored the head; None when it is: mined with status 1, and carrying
        this contract's HeadAnchored event of (platform, size, root)."""
        if receipt is None:
            return f"transaction {to_hex(tx_hash)} is not on this chain"
        if receipt.status != 1:
            return f"transaction {to_hex(tx_hash)} failed (status {receipt.status})"
        if not self.head_anchored_in(receipt, platform, size, root):
            return (f"transaction {to_hex(tx_hash)} did not anchor head {size} of platform "
                    f"{platform} with this root in contract {self.address}")
        return None

    def heads_anchored(
        self, platform: str, from_block: int, to_block: int
    ) -> list[AnchoredHead]:
        """The platform's HeadAnchored events in blocks [from_block, to_block], oldest first,
        read with eth_getLogs in windows of LOG_WINDOW_BLOCKS."""
        heads: list[AnchoredHead] = []
        # Topics as hex text: eth-tester matches no log against HexBytes topics.
        topics = [to_hex(HEAD_ANCHORED_TOPIC),
                  to_hex(bytes(12) + bytes(HexBytes(Web3.to_checksum_address(platform))))]
        for start in range(from_block, to_block + 1, LOG_WINDOW_BLOCKS):
            logs = self.chain.web3.eth.get_logs({
                "address": self.address,
                "fromBlock": start,
                "toBlock": min(to_block, start + LOG_WINDOW_BLOCKS - 1),
                "topics": topics,
            })
            heads += self._heads_in(logs)
        return heads

    def _heads_in(self, logs: list[Any]) -> list[AnchoredHead]:
        """The well-formed HeadAnchored events among `logs` emitted by this contract."""
        heads = []
        for log in logs:
            topics = [bytes(t) for t in log["topics"]]
            data = bytes(log["data"])
            if (
                Web3.to_checksum_address(log["address"]) != self.address
                or len(topics) != 3 or topics[0] != HEAD_ANCHORED_TOPIC or len(data) != 96
            ):
                continue
            heads.append(AnchoredHead(
                platform=Web3.to_checksum_address(topics[1][12:]),
                index=int.from_bytes(topics[2], "big"),
                size=int.from_bytes(data[:32], "big"),
                root=data[32:64],
                time=int.from_bytes(data[64:], "big"),
                block_number=int(log["blockNumber"]),
                tx_hash=bytes(log["transactionHash"]),
            ))
        return heads
