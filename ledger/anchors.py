"""The BindLedger contract as seen from Python: deploy, check, anchor heads, read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger.artifacts import Artifact, load_artifact
from ledger.chain.client import ChainClient, Receipt
from ledger.errors import LedgerStateError

CONTRACT_NAME = "BindLedger"
PLATFORM_ROLE = keccak(b"PLATFORM_ROLE")
_IS_HEAD = function_signature_to_4byte_selector("isHead(address,uint64,bytes32)")


class ForeignContractError(LedgerStateError):
    """The address holds no BindLedger contract (other code, or none) on this chain."""


@dataclass(frozen=True)
class ChainHead:
    root: bytes
    size: int
    time: int


class AnchorContract:
    """A deployed BindLedger contract on one chain."""

    def __init__(self, chain: ChainClient, address: str, artifact: Artifact | None = None) -> None:
        self.chain = chain
        self.artifact = artifact or load_artifact(CONTRACT_NAME)
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.web3.eth.contract(address=self.address, abi=self.artifact.abi)

    @classmethod
    def deploy(
        cls, chain: ChainClient, deployer: LocalAccount, admin: str | None = None
    ) -> AnchorContract:
        """Deploy a new BindLedger, sent by `deployer`, with `admin` as its governance (role
        admin): the deployer itself by default (development), a BindLedgerTimelock in a
        consortium's deployment (ledger.governance.deploy_governed)."""
        artifact = load_artifact(CONTRACT_NAME)
        chain.fund(deployer.address)
        return cls(chain, chain.deploy(deployer, artifact, admin or deployer.address), artifact)

    def check_code(self) -> None:
        """Raise ForeignContractError unless the address runs BindLedger's deployed code."""
        code = self.chain.code(self.address)
        if not code:
            raise ForeignContractError(
                f"no contract at {self.address} on chain {self.chain.chain_id}: this chain does "
                "not hold BindLedger's anchors (wrong chain, or a node that was restarted?)"
            )
        if not _same_code(code, self.artifact):
            raise ForeignContractError(
                f"the contract at {self.address} on chain {self.chain.chain_id} is not "
                "BindLedger (its code differs from contracts/build)"
            )

    def has_platform_role(self, account: str) -> bool:
        return bool(self.contract.functions.hasRole(PLATFORM_ROLE, account).call())

    def grant_platform_role(self, admin: LocalAccount, account: str) -> None:
        if not self.has_platform_role(account):
            self.chain.transact(admin, self.contract.functions.grantRole(PLATFORM_ROLE, account))

    def anchor_call(self, size: int, root: bytes, consistency_proof: list[bytes]) -> ContractFunction:
        return self.contract.functions.anchorHead(size, root, consistency_proof)

    def is_head(self, platform: str, size: int, root: bytes) -> bool:
        # Every verification asks this: the call is encoded here rather than through web3's
        # contract machinery, which takes as long again as the round trip to the node.
        data = _IS_HEAD + abi_encode(["address", "uint64", "bytes32"], [platform, size, root])
        result = self.chain.web3.eth.call({"to": self.address, "data": HexBytes(data)})
        return bool(abi_decode(["bool"], result)[0])

    def latest_head(self, platform: str) -> ChainHead:
        root, size, time = self.contract.functions.latestHead(platform).call()
        return ChainHead(bytes(root), int(size), int(time))

    def head_anchored_in(self, receipt: Receipt, platform: str, size: int, root: bytes) -> bool:
        """Whether the receipt carries this contract's HeadAnchored event for this head."""
        for log in receipt.logs:
            if Web3.to_checksum_address(log["address"]) != self.address:
                continue
            event = _decode_head_anchored(self.contract, log)
            if event is not None and (
                event["platform"] == platform and event["size"] == size
                and bytes(event["root"]) == root
            ):
                return True
        return False


def _same_code(code: bytes, artifact: Artifact) -> bool:
    """Whether deployed `code` is the artifact's runtime code, immutables aside.

    The constructor writes immutable values (EIP712's domain: chain id, this address, ...) into
    the runtime code, where the artifact has zeros; those bytes are compared as zeros.
    """
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    if len(code) != len(expected):
        return False
    masked = bytearray(code)
    for start, length in artifact.immutable_ranges:
        masked[start : start + length] = bytes(length)
    return bytes(masked) == expected


def _decode_head_anchored(contract: Any, log: Any) -> dict[str, Any] | None:
    try:
        return dict(contract.events.HeadAnchored().process_log(log)["args"])
    except Exception:  # noqa: BLE001 - web3 raises unrelated types for another event's log
        return None
