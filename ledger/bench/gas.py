"""Gas per anchored record: BindLedger, per-record storage slots and EAS, on one chain.

Every number comes from a receipt (`gasUsed`) of a transaction sent through the ledger's own
chain client; nothing is estimated except the split of BindLedger's anchor transaction, which is
derived from its calldata and a call to ConsistencyProofHarness (see `anchor_split`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger.anchors import AnchorContract
from ledger.artifacts import load_artifact
from ledger.bench.common import admin, bench_artifact, platform_account
from ledger.chain.client import ChainClient
from ledger.core.merkle import MerkleLog

TX_BASE_GAS = 21_000
# EIP-2028 calldata pricing, and the EIP-7623 floor that prague adds (per token: a zero byte is
# one token, a non-zero byte four).
STANDARD_TOKEN_GAS = 4
FLOOR_TOKEN_GAS = 10
# Alternatives that do not fit one transaction are split into transactions of at most this much
# gas: under the 30M block limit of anvil and eth-tester, and under the 2^24 per-transaction cap
# of EIP-7825 (osaka), so the split is the one a platform would really have to make.
MAX_TX_GAS = 15_000_000
EAS_SCHEMA = "bytes32 recordHash"
ZERO_ADDRESS = "0x" + "00" * 20

Progress = Callable[[int], None]


@dataclass
class AnchorSplit:
    """BindLedger's anchor transaction, by where its gas goes."""

    total: int
    base: int
    calldata: int
    calldata_bytes: int
    calldata_zero_bytes: int
    proof_nodes: int
    proof_verification: int
    storage_event_access: int
    floor_applies: bool


@dataclass
class GasRow:
    """Gas per record at one batch size, for each way of anchoring."""

    batch: int
    bindledger: float
    bindledger_tx_gas: list[int]
    bindledger_unaligned: float
    per_record_tx: float
    per_record_batched: float
    eas_attest: float
    eas_multi_attest: float
    transactions: dict[str, int] = field(default_factory=dict)
    extrapolated: list[str] = field(default_factory=list)
    split: AnchorSplit | None = None
    unaligned_split: AnchorSplit | None = None

    @property
    def ratios(self) -> dict[str, float]:
        return {
            "perRecordTx": self.per_record_tx / self.bindledger,
            "perRecordBatched": self.per_record_batched / self.bindledger,
            "easAttest": self.eas_attest / self.bindledger,
            "easMultiAttest": self.eas_multi_attest / self.bindledger,
        }

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ratios"] = self.ratios
        return doc


def calldata_gas(data: bytes) -> tuple[int, int]:
    """(standard calldata gas, EIP-7623 floor gas) of a transaction's input."""
    zeros = data.count(0)
    tokens = zeros + 4 * (len(data) - zeros)
    return STANDARD_TOKEN_GAS * tokens, FLOOR_TOKEN_GAS * tokens


def _input(call: ContractFunction) -> bytes:
    return bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))


def record_hashes(count: int, seed: bytes) -> list[bytes]:
    """Distinct, random-looking 32-byte record hashes (as non-zero as real ones)."""
    return [hashlib.sha256(seed + i.to_bytes(8, "big")).digest() for i in range(count)]


class GasBench:
    """Deploys BindLedger, the per-record baseline and EAS on `chain`, then measures."""

    def __init__(self, chain: ChainClient, log_size: int, single_sample: int, alt_cap: int) -> None:
        self.chain = chain
        self.log_size = log_size
        self.single_sample = single_sample
        self.alt_cap = alt_cap
        self.admin = admin()
        self.sender = platform_account()
        for account in (self.admin, self.sender):
            chain.fund(account.address)
        self.bindledger = AnchorContract.deploy(chain, self.admin)
        self.bindledger.grant_platform_role(self.admin, self.sender.address)
        self.harness = self._deploy_ledger_artifact("ConsistencyProofHarness")
        self.per_record = self._deploy_bench("PerRecordAnchors")
        registry = self._deploy_bench("SchemaRegistry")
        self.eas = self._deploy_bench("EAS", registry.address)
        self.chain.transact(
            self.sender, registry.functions.register(EAS_SCHEMA, ZERO_ADDRESS, False)
        )
        self.schema_uid = Web3.solidity_keccak(
            ["string", "address", "bool"], [EAS_SCHEMA, ZERO_ADDRESS, False]
        )
        self.log = MerkleLog()
        self._seed = 0

    def _deploy_bench(self, name: str, *args: Any) -> Any:
        artifact = bench_artifact(name)
        address = Web3.to_checksum_address(self.chain.deploy(self.sender, artifact, *args))
        return self.chain.web3.eth.contract(address=address, abi=artifact.abi)

    def _deploy_ledger_artifact(self, name: str) -> Any:
        artifact = load_artifact(name)
        address = Web3.to_checksum_address(self.chain.deploy(self.sender, artifact))
        return self.chain.web3.eth.contract(address=address, abi=artifact.abi)

    def _hashes(self, count: int) -> list[bytes]:
        self._seed += 1
        return record_hashes(count, self._seed.to_bytes(8, "big"))

    def _send(self, call: ContractFunction, account: LocalAccount | None = None) -> int:
        return self.chain.transact(account or self.sender, call).gas_used

    # -- BindLedger ------------------------------------------------------------------

    def start_log(self) -> None:
        """Anchor a first head of `log_size` records, so later proofs have a realistic length."""
        self.log.extend(self._hashes(self.log_size))
        self._send(self.bindledger.anchor_call(self.log.size, self.log.root(), []))

    def anchor_batch(self, batch: int) -> tuple[int, AnchorSplit]:
        """Grow the log by `batch` records and anchor the new head: one transaction."""
        old_size = self.log.size
        self.log.extend(self._hashes(batch))
        proof = self.log.consistency_proof(old_size, self.log.size)
        call = self.bindledger.anchor_call(self.log.size, self.log.root(), proof)
        gas = self._send(call)
        return gas, self.anchor_split(gas, _input(call), old_size, proof)

    def align(self, batch: int, offset: int = 0) -> None:
        """Anchor (unmeasured) up to the next size that is `offset` past a multiple of `batch`."""
        target = -(-(self.log.size - offset) // batch) * batch + offset
        if target > self.log.size:
            self.anchor_batch(target - self.log.size)

    def anchor_split(
        self, total: int, data: bytes, old_size: int, proof: list[bytes]
    ) -> AnchorSplit:
        """Split the anchor's gas: base, calldata (EIP-2028, or the EIP-7623 floor when it
        binds), proof verification (ConsistencyProofHarness.verify with this proof, less the
        same call with an empty proof, both sent as transactions), and the rest (storage of
        the head, the event, the role check, ABI decoding)."""
        standard, floor = calldata_gas(data)
        floor_applies = TX_BASE_GAS + floor >= total
        verify = self.harness.functions.verify
        old_root, new_root = self.log.root(old_size), self.log.root()
        full = verify(old_size, self.log.size, old_root, new_root, proof)
        empty = verify(self.log.size, self.log.size, new_root, new_root, [])
        proof_gas = self._execution(full) - self._execution(empty)
        execution = total - TX_BASE_GAS - standard
        zeros = data.count(0)
        return AnchorSplit(
            total=total,
            base=TX_BASE_GAS,
            calldata=floor if floor_applies else standard,
            calldata_bytes=len(data),
            calldata_zero_bytes=zeros,
            proof_nodes=len(proof),
            proof_verification=proof_gas,
            storage_event_access=0 if floor_applies else execution - proof_gas,
            floor_applies=floor_applies,
        )

    def _execution(self, call: ContractFunction) -> int:
        """Gas a call spends executing: sent as a transaction (receipts are exact, estimates
        are not on every chain), less the base and calldata gas."""
        return self._send(call) - TX_BASE_GAS - calldata_gas(_input(call))[0]

    # -- alternatives ------------------------------------------------------------------

    def single_tx_per_record(self, make: Callable[[bytes], ContractFunction], n: int) -> float:
        """Mean gas of n one-record transactions (each record costs the same: a sample)."""
        gas = [self._send(make(h)) for h in self._hashes(n)]
        return sum(gas) / len(gas)

    def batched_per_record(
        self, make: Callable[[list[bytes]], ContractFunction], batch: int
    ) -> tuple[float, int, bool]:
        """Gas per record of anchoring `batch` records in as few transactions as MAX_TX_GAS
        allows. Returns (gas per record, transactions, extrapolated). Beyond `alt_cap` records
        only `alt_cap` are sent: every full transaction costs the same, so the rest is linear."""
        probe = min(batch, 8)
        per_record = self._send(make(self._hashes(probe))) / probe
        chunk = max(1, int(MAX_TX_GAS / (per_record * 1.05)))
        measured = min(batch, max(self.alt_cap, min(batch, chunk)))
        hashes = self._hashes(measured)
        total = 0
        for start in range(0, measured, chunk):
            total += self._send(make(hashes[start : start + chunk]))
        transactions = -(-batch // chunk)
        return total / measured, transactions, measured < batch

    def eas_request(self, h: bytes) -> tuple[Any, ...]:
        # AttestationRequestData: recipient, expirationTime, revocable, refUID, data, value.
        return (ZERO_ADDRESS, 0, False, bytes(32), h, 0)

    def measure(
        self, batches: list[int], repeats: int, progress: Progress | None = None
    ) -> list[GasRow]:
        step = progress or (lambda _n: None)
        self.start_log()
        step(1)
        per_record_functions = self.per_record.functions
        eas_functions = self.eas.functions
        single_n = self.single_sample
        per_record_tx = self.single_tx_per_record(
            lambda h: per_record_functions.anchor(h), single_n
        )
        step(1)
        eas_attest = self.single_tx_per_record(
            lambda h: eas_functions.attest((self.schema_uid, self.eas_request(h))), single_n
        )
        step(1)
        rows = []
        for batch in batches:
            # The worker seals every `batch` records, so heads fall on multiples of it.
            self.align(batch)
            gases, split = [], None
            for _ in range(repeats):
                gas, split = self.anchor_batch(batch)
                gases.append(gas)
            # A head sealed off that grid (by the timer) costs a longer proof next time.
            self.align(batch, offset=7)
            unaligned_gas, unaligned = self.anchor_batch(batch)
            batched, batched_txs, batched_extra = self.batched_per_record(
                lambda hs: per_record_functions.anchorBatch(hs), batch
            )
            multi, multi_txs, multi_extra = self.batched_per_record(
                lambda hs: eas_functions.multiAttest(
                    [(self.schema_uid, [self.eas_request(h) for h in hs])]
                ),
                batch,
            )
            rows.append(
                GasRow(
                    batch=batch,
                    bindledger=sum(gases) / len(gases) / batch,
                    bindledger_tx_gas=gases,
                    bindledger_unaligned=unaligned_gas / batch,
                    unaligned_split=unaligned,
                    per_record_tx=per_record_tx,
                    per_record_batched=batched,
                    eas_attest=eas_attest,
                    eas_multi_attest=multi,
                    transactions={
                        "bindledger": 1,
                        "perRecordTx": batch,
                        "perRecordBatched": batched_txs,
                        "easAttest": batch,
                        "easMultiAttest": multi_txs,
                    },
                    extrapolated=[
                        name
                        for name, flag in (
                            ("perRecordBatched", batched_extra),
                            ("easMultiAttest", multi_extra),
                        )
                        if flag
                    ],
                    split=split,
                )
            )
            step(1)
        return rows
