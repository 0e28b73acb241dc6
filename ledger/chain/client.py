"""The chain client interface and its two implementations.

Transactions are always signed locally and sent raw, on every backend: the signed bytes
and their hash exist before anything reaches the chain, which is what lets the anchoring
worker store a transaction first and finish it after a crash.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests
import rlp  # type: ignore[import-untyped]
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils import big_endian_to_int  # type: ignore[attr-defined]
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import Nonce, RPCEndpoint, RPCResponse, TxParams, Wei

from ledger.artifacts import Artifact
from ledger.chain.redact import redact_library_logs, redact_text, redact_url
from ledger.chain.reverts import revert_data
from ledger.errors import LedgerError

DEFAULT_RECEIPT_TIMEOUT = 120.0
_POLL_INTERVAL = 0.05
# How long the code read at an address is reused (see ChainClient.code).
CODE_CACHE_SECONDS = 10.0
# On the embedded chain every fresh account gets this much from the tester's funded account.
EMBEDDED_FUNDING_WEI = 10**21


class ChainError(LedgerError):
    """The chain could not be reached or answered something unusable."""


class ChainUnreachableError(ChainError):
    """No answer from the node: connection refused or reset, timeout, or an HTTP error instead
    of a JSON-RPC answer. Nothing can be concluded about the chain; its message names the node
    by scheme, host and port only (ledger.chain.redact), and `reason` the kind of failure."""

    def __init__(self, message: str, reason: str = "no answer") -> None:
        super().__init__(message)
        self.reason = reason


class TransactionFailedError(ChainError):
    """A transaction was mined with status 0, or reverted when estimated."""

    def __init__(self, message: str, revert_data: bytes | None = None) -> None:
        super().__init__(message)
        self.revert_data = revert_data


# What the HTTP and JSON-RPC libraries raise when a node cannot be reached or does not answer.
# requests' exceptions (HTTP errors, too) are OSErrors; they name the full URL, so none may be
# shown as it is.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    requests.RequestException,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    ProviderConnectionError,
)


def is_unreachable(exc: BaseException) -> bool:
    """Requires nothing. Whether `exc` says the node could not be reached (as opposed to an
    answer from the node, such as a revert)."""
    return isinstance(exc, ChainUnreachableError) or (
        isinstance(exc, _UNREACHABLE) and not isinstance(exc, ChainError)
    )


def unreachable(node: str, exc: BaseException) -> ChainUnreachableError:
    """Requires `node` to be redacted already. The error to raise for `exc`, naming the
    failure by its class only: the libraries' messages name the full URL."""
    if isinstance(exc, ChainUnreachableError):
        return exc
    reason = type(exc).__name__
    return ChainUnreachableError(f"chain unreachable: no answer from {node} ({reason})", reason)


def call_failure(exc: Exception) -> ChainError:
    """Requires `exc` to be what a call, gas estimate or transaction of a provider raised.
    Returns the error to raise for it: ChainUnreachableError when the node did not answer,
    TransactionFailedError (with the revert data) only when the call really reverts, and
    ChainError for any other refusal by the node. URLs in messages are redacted."""
    if isinstance(exc, ChainError):
        return exc
    if is_unreachable(exc):
        return unreachable("the JSON-RPC node", exc)
    data = revert_data(exc)
    text = redact_text(str(exc))
    if data is not None or isinstance(exc, ContractLogicError) or "revert" in text.lower():
        return TransactionFailedError(f"call would revert: {text}", data)
    return ChainError(f"the node refused the call: {text}")


class _RedactedHTTPProvider(HTTPProvider):
    """web3's HTTP provider whose connection failures raise ChainUnreachableError, which names
    the node by scheme, host and port, instead of requests' exceptions, which name the URL."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url, request_kwargs={"timeout": timeout})
        self.node = redact_url(url)
        redact_library_logs(url)

    def __str__(self) -> str:
        return f"RPC connection {self.node}"

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except _UNREACHABLE as exc:
            raise unreachable(self.node, exc) from None

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        try:
            return super().make_batch_request(batch_requests)
        except _UNREACHABLE as exc:
            raise unreachable(self.node, exc) from None


@dataclass(frozen=True)
class SentTransaction:
    tx_hash: bytes
    raw: bytes


@dataclass(frozen=True)
class Fees:
    """What a transaction offers to pay per gas (EIP-1559), or its legacy gas price, which is
    then held in both fields."""

    max_fee: int
    priority_fee: int
    legacy: bool = False

    def bumped(self, factor_percent: int) -> Fees:
        """Fees a node accepts as a replacement of this one: at least `factor_percent`% more
        on both (geth and anvil ask 10% more; one wei more rounds the division up)."""
        return Fees(
            self.max_fee * factor_percent // 100 + 1,
            self.priority_fee * factor_percent // 100 + 1,
            self.legacy,
        )

    @staticmethod
    def of(raw: bytes) -> Fees:
        """The fees of a signed transaction."""
        tx = decode_transaction(raw)
        if "maxFeePerGas" in tx:
            return Fees(int(tx["maxFeePerGas"]), int(tx["maxPriorityFeePerGas"]))
        price = int(tx["gasPrice"])
        return Fees(price, price, legacy=True)


def decode_transaction(raw: bytes) -> dict[str, Any]:
    """The fields of a signed transaction (typed, EIP-2718, or legacy)."""
    if raw and raw[0] <= 0x7F:
        return dict(TypedTransaction.from_bytes(HexBytes(raw)).as_dict())
    nonce, gas_price, gas, to, value, data, *_signature = rlp.decode(raw)
    return {
        "nonce": big_endian_to_int(nonce),
        "gasPrice": big_endian_to_int(gas_price),
        "gas": big_endian_to_int(gas),
        "to": to,
        "value": big_endian_to_int(value),
        "data": data,
    }


@dataclass(frozen=True)
class BlockInfo:
    number: int
    hash: bytes
    timestamp: int


@dataclass(frozen=True)
class Receipt:
    tx_hash: bytes
    status: int
    block_number: int
    block_hash: bytes
    gas_used: int
    to: str | None
    logs: list[Any]


class ChainClient(ABC):
    """What BindLedger needs from an Ethereum chain."""

    embedded: bool

    def __init__(self, web3: Web3) -> None:
        self.web3 = web3
        self._chain_id: int | None = None
        self._contracts: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._code: dict[str, tuple[float, bytes]] = {}
        self._make_contract = web3.eth.contract
        # web3.py builds a contract object by walking its whole ABI (BindLedger's is large):
        # tens of milliseconds, paid by every AnchorContract. The objects hold no state of
        # their own, so one per (address, ABI object) is reused.
        web3.eth.contract = self._contract  # type: ignore[method-assign]
        # web3.py's validation middleware asks the node for its chain id before every eth_call
        # (one more round trip each). A node's chain id does not change, and this client
        # already holds it for its whole life: let the provider answer that one from its cache.
        web3.provider.cache_allowed_requests = True
        web3.provider.cacheable_requests = {RPCEndpoint("eth_chainId")}

    def _contract(self, address: Any = None, **kwargs: Any) -> Any:
        abi = kwargs.get("abi")
        if address is None or abi is None or set(kwargs) != {"abi"}:
            return self._make_contract(address, **kwargs)
        key = (str(address), id(abi))
        cached = self._contracts.get(key)
        if cached is None or cached[0] is not abi:
            # The ABI object is kept in the entry, so its id cannot be reused by another.
            cached = self._contracts[key] = (abi, self._make_contract(address, **kwargs))
        return cached[1]

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.web3.eth.chain_id)
        return self._chain_id

    @abstractmethod
    def fund(self, address: str) -> None:
        """Give `address` enough ether to send transactions, where the chain allows it."""

    @abstractmethod
    def describe(self) -> str:
        """One line for people: which chain this is and how long its state lasts."""

    def sign_call(
        self,
        account: LocalAccount,
        call: ContractFunction | ContractConstructor,
        gas: int | None = None,
        nonce: int | None = None,
        fees: Fees | None = None,
    ) -> SentTransaction:
        """Sign a contract call with the account's next nonce (or `nonce`, to replace a
        transaction, with `fees`); nothing is sent yet.

        Without `gas`, the call is estimated first, so a call that would revert raises
        TransactionFailedError carrying the revert data instead of burning gas; a node that
        does not answer raises ChainUnreachableError, never TransactionFailedError.
        """
        params: TxParams = {
            "from": account.address,
            "nonce": Nonce(self.next_nonce(account.address) if nonce is None else nonce),
            "chainId": self.chain_id,
        }
        if fees is not None and fees.legacy:
            params["gasPrice"] = Wei(fees.max_fee)
        elif fees is not None:
            params["maxFeePerGas"] = Wei(fees.max_fee)
            params["maxPriorityFeePerGas"] = Wei(fees.priority_fee)
        if gas is None:
            try:
                gas = int(call.estimate_gas({"from": account.address}) * 12 // 10)
            except Exception as exc:  # noqa: BLE001 - each provider raises its own type
                raise call_failure(exc) from None
        params["gas"] = gas
        tx = call.build_transaction(params)
        signed = account.sign_transaction(dict(tx))  # type: ignore[arg-type]
        return SentTransaction(bytes(signed.hash), bytes(signed.raw_transaction))

    def broadcast(self, sent: SentTransaction) -> None:
        """Send a signed transaction; sending one the chain already has is not an error."""
        if self.receipt(sent.tx_hash) is not None:
            return
        try:
            self.web3.eth.send_raw_transaction(sent.raw)
        except (Web3Exception, ValueError) as exc:
            if self._is_known(sent.tx_hash):
                return
            raise ChainError(
                f"could not send transaction 0x{sent.tx_hash.hex()}: {redact_text(str(exc))}"
            ) from None

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        try:
            r = self.web3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None
        return Receipt(
            tx_hash=bytes(r["transactionHash"]),
            status=int(r["status"]),
            block_number=int(r["blockNumber"]),
            block_hash=bytes(r["blockHash"]),
            gas_used=int(r["gasUsed"]),
            to=r.get("to"),
            logs=list(r["logs"]),
        )

    def wait_for_receipt(self, tx_hash: bytes, timeout: float = DEFAULT_RECEIPT_TIMEOUT) -> Receipt:
        """Wait for the receipt; raises TransactionFailedError when it has status 0."""
        deadline = time.monotonic() + timeout
        while (receipt := self.receipt(tx_hash)) is None:
            if time.monotonic() > deadline:
                raise ChainError(f"no receipt for 0x{tx_hash.hex()} after {timeout:.0f} s")
            time.sleep(_POLL_INTERVAL)
        if receipt.status != 1:
            raise TransactionFailedError(f"transaction 0x{tx_hash.hex()} failed (status 0)")
        return receipt

    def transact(
        self, account: LocalAccount, call: ContractFunction | ContractConstructor
    ) -> Receipt:
        """Sign, send and wait for one contract call."""
        sent = self.sign_call(account, call)
        self.broadcast(sent)
        return self.wait_for_receipt(sent.tx_hash)

    def deploy(self, account: LocalAccount, artifact: Artifact, *args: Any) -> str:
        """Deploy `artifact` with constructor `args`; returns the contract address."""
        factory = self.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(account, factory.constructor(*args))
        r = self.web3.eth.get_transaction_receipt(HexBytes(receipt.tx_hash))
        address = r["contractAddress"]
        if address is None:
            raise ChainError("deployment receipt names no contract address")
        return str(address)

    def block(self, number: int) -> BlockInfo | None:
        try:
            b = self.web3.eth.get_block(number)
        except Web3Exception:
            return None
        return BlockInfo(int(b["number"]), bytes(b["hash"]), int(b["timestamp"]))

    def code(self, address: str) -> bytes:
        """The code at `address`. Non-empty code is remembered for CODE_CACHE_SECONDS: every
        verification checks the contract's code (18 kB for BindLedger), and code, once there,
        changes only through SELFDESTRUCT, which EIP-6780 confines to the creating transaction."""
        address = Web3.to_checksum_address(address)
        now = time.monotonic()
        cached = self._code.get(address)
        if cached is not None and now - cached[0] < CODE_CACHE_SECONDS:
            return cached[1]
        code = bytes(self.web3.eth.get_code(address))
        if code:
            self._code[address] = (now, code)
        return code

    def next_nonce(self, address: str) -> int:
        """The nonce of the account's next transaction, counting those still in the pool."""
        return int(self.web3.eth.get_transaction_count(Web3.to_checksum_address(address),
                                                       "pending"))

    def mined_nonce(self, address: str) -> int:
        """How many of the account's transactions are in the latest block's state: a stored
        transaction with a lower nonce and no receipt can never be mined."""
        return int(self.web3.eth.get_transaction_count(Web3.to_checksum_address(address),
                                                       "latest"))

    def block_number(self) -> int:
        """The number of the latest block."""
        return int(self.web3.eth.block_number)

    def _is_known(self, tx_hash: bytes) -> bool:
        try:
            self.web3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
        return True


class EmbeddedChain(ChainClient):
    """An in-process eth-tester chain (py-evm). Its state lives only as long as the process."""

    embedded = True

    def __init__(self) -> None:
        super().__init__(Web3(EthereumTesterProvider()))
        self._faucet = self.web3.eth.accounts[0]

    def fund(self, address: str) -> None:
        if (
            self.web3.eth.get_balance(Web3.to_checksum_address(address))
            >= EMBEDDED_FUNDING_WEI // 2
        ):
            return
        tx_hash = self.web3.eth.send_transaction(
            {
                "from": self._faucet,
                "to": Web3.to_checksum_address(address),
                "value": Wei(EMBEDDED_FUNDING_WEI),
            }
        )
        self.wait_for_receipt(bytes(tx_hash))

    def describe(self) -> str:
        return "embedded eth-tester chain (in memory: anchors live only as long as this process)"


class RpcChain(ChainClient):
    """Any Ethereum JSON-RPC endpoint: anvil locally; Besu, geth or an L2 in production."""

    embedded = False

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        provider = _RedactedHTTPProvider(url, timeout)
        super().__init__(Web3(provider))
        self.url = url  # may hold an API key: show `node` instead
        self.node = provider.node
        try:
            self.chain_id  # noqa: B018 - fail now, naming the node, if nothing answers
        except ChainUnreachableError as exc:
            raise ChainUnreachableError(
                f"no Ethereum JSON-RPC node answers at {self.node} ({exc.reason})"
            ) from None
        except Exception as exc:  # noqa: BLE001 - any other answer is not a JSON-RPC node's
            raise ChainError(
                f"no Ethereum JSON-RPC node answers at {self.node}: {redact_text(str(exc), url)}"
            ) from None

    def fund(self, address: str) -> None:
        """Accounts on a real node are funded outside BindLedger; only check the balance."""
        if self.web3.eth.get_balance(Web3.to_checksum_address(address)) == 0:
            raise ChainError(f"account {address} has no ether on chain {self.chain_id} to pay gas")

    def describe(self) -> str:
        return f"JSON-RPC node at {self.node} (chain id {self.chain_id})"


def connect_chain(url: str | None) -> ChainClient:
    """The embedded chain for None or "embedded"; a JSON-RPC client for anything else."""
    if url is None or url == "embedded":
        return EmbeddedChain()
    return RpcChain(url)
