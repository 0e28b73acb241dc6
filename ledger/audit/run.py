"""One audit of one platform's log, from the server's checkpoint to the report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_utils.address import is_address, to_checksum_address

from ledger.anchors import ChainHead, ForeignContractError
from ledger.audit.checkpoint import Checkpoint
from ledger.audit.checks import SubjectChains, chained_records_of, check_hash_tiles, check_heads
from ledger.audit.fetch import LogClient, LogServer, needed_tiles, sync
from ledger.audit.mirror import CHECKPOINT_FILE, HEADS_FILE, Mirror
from ledger.audit.onchain import ChainView
from ledger.audit.report import AuditCheck, AuditInputError, AuditReport, Failure
from ledger.audit.scan import BundleResult, jobs_for, scan
from ledger.audit.tiles import (
    HASH_SIZE,
    TILE_WIDTH,
    Tile,
    split_hashes,
    tile_levels,
    tiles_at,
)
from ledger.chain.client import ChainClient
from ledger.core.encoding import to_hex
from ledger.core.merkle import MerkleLog
from ledger.core.records import Domain, Refusal, SignedRecord
from ledger.core.verdict import Outcome
from ledger.refusals import check_refusal_record


class Progress(Protocol):
    """Where the audit reports its progress: one phase at a time, advanced in steps."""

    def phase(self, description: str, total: int) -> None: ...

    def advance(self, steps: int) -> None: ...


class Quiet:
    """No progress shown."""

    def phase(self, description: str, total: int) -> None:
        return None

    def advance(self, steps: int) -> None:
        return None


@dataclass(frozen=True)
class AuditOptions:
    platform: str
    server: str
    api_key: str
    mirror: Path
    contract: str | None = None
    from_size: int = 0
    workers: int | None = None  # processes checking records (default: one per core)


def run_audit(
    options: AuditOptions, chain: ChainClient, progress: Progress | None = None,
    client_factory: Callable[[AuditOptions, str], LogServer] | None = None,
) -> AuditReport:
    """Audit the platform's log as the server serves it, against `chain`.

    Raises AuditInputError (exit 2), ServerUnreachableError or ChainError (exit 3); a log that
    fails a check is not an error but a report that is not verified (exit 1)."""
    shown = progress or Quiet()
    if not is_address(options.platform):
        raise AuditInputError(f"{options.platform!r:.60} is not a platform address")
    platform = to_checksum_address(options.platform)
    make_client: Callable[[AuditOptions, str], LogServer] = client_factory or (
        lambda o, p: LogClient(o.server, o.api_key, p))
    client = make_client(options, platform)
    try:
        return _Audit(options, platform, chain, client, shown).run()
    finally:
        client.close()


class _Audit:
    def __init__(self, options: AuditOptions, platform: str, chain: ChainClient,
                 client: LogServer, progress: Progress) -> None:
        self.options, self.platform, self.chain = options, platform, chain
        self.client, self.progress = client, progress
        self.report = AuditReport(platform)
        self.failures = self.report.failures

    def run(self) -> AuditReport:
        started = time.perf_counter()
        checkpoint = self.client.checkpoint()
        view = self._view(checkpoint)
        heads = view.heads(self.platform)
        self._check_checkpoint(checkpoint, heads, view)
        mirror = Mirror.open(self.options.mirror, self.platform)
        self._check_mirrored_heads(mirror, heads)
        size = checkpoint.size
        first_bundle = min(self.options.from_size, size) // TILE_WIDTH
        fetch_started = time.perf_counter()
        self.progress.phase("fetching tiles", len(needed_tiles(size, first_bundle)))
        stats = sync(self.client, mirror, size, first_bundle, self.progress.advance)
        mirror.save_json(CHECKPOINT_FILE, checkpoint.to_json())
        check_started = time.perf_counter()
        fetch_seconds = check_started - fetch_started
        bundles = tiles_at(size, None)[first_bundle:]
        self.progress.phase("checking records", size - first_bundle * TILE_WIDTH)
        prefix = self._prefix_leaves(mirror, first_bundle)
        chains = SubjectChains(prefix_leaves=set(prefix) if first_bundle else None)
        results: list[BundleResult] = []
        leaves = list(prefix)
        jobs = jobs_for(mirror, self.chain.chain_id, view.address, self.platform, bundles)
        for result in scan(jobs, self.options.workers, self.progress.advance):
            self.failures.extend(result.failures)
            leaves += split_hashes(result.leaf_hashes)
            chains.feed(result)
            results.append(result)
        self.failures.extend(chains.failures)
        self.progress.phase("recomputing the tree", 3)
        levels = tile_levels(leaves)
        self.progress.advance(1)
        tiles_compared = check_hash_tiles(mirror, levels, size, 1, self.failures)
        self.progress.advance(1)
        counts = check_heads(heads, levels, MerkleLog.from_leaf_hashes(leaves), self.failures)
        self.progress.advance(1)
        subjects_on_chain = self._check_subject_heads(view, chains, results, size)
        refusals = self._replay_refusals(results, Domain(self.chain.chain_id, view.address))
        check_seconds = time.perf_counter() - check_started
        mirror.save_json(HEADS_FILE, [_head_json(h) for h in heads])
        records = chains.records
        self.report.summary = {
            "server": self.client.server,
            "chain": {"node": self.chain.describe(),
                      "chainId": self.chain.chain_id, "contract": view.address,
                      "block": view.block},
            "checkpoint": checkpoint.to_json(),
            "auditedSize": size,
            "fromSize": first_bundle * TILE_WIDTH,
            "heads": {"onChain": len(heads), "checked": counts.checked,
                      "beyondCheckpoint": counts.beyond},
            "records": {"checked": records, "refusalsReplayed": refusals},
            "subjects": {"count": len(chains.heads), "headsOnChain": subjects_on_chain},
            "tiles": {"needed": stats.fetched + stats.reused, "fetched": stats.fetched,
                      "reused": stats.reused, "removed": stats.removed,
                      "bytesFetched": stats.bytes, "hashTilesCompared": tiles_compared},
            "mirror": str(mirror.root),
            "seconds": {"fetch": round(fetch_seconds, 3), "check": round(check_seconds, 3),
                        "total": round(time.perf_counter() - started, 3)},
            "recordsPerSecond": round(records / check_seconds, 1) if check_seconds else None,
        }
        if counts.beyond:
            self.report.notes.append(
                f"{counts.beyond} head(s) on chain are beyond the server's checkpoint (size "
                f"{size}): not final yet there, or the server lags; they are checked by a "
                "later audit")
        if first_bundle:
            self.report.notes.append(
                f"records before leaf {first_bundle * TILE_WIDTH} were not read (--from-size): "
                "their leaf hashes come from the level-0 tiles, which the heads on chain "
                "authenticate, and prev links into them are checked against those leaf hashes")
        return self.report

    # -- the chain side ------------------------------------------------------------------------

    def _view(self, checkpoint: Checkpoint) -> ChainView:
        contract = self.options.contract
        if contract is None:
            if checkpoint.anchor is None:
                raise AuditInputError(
                    "the server has no final anchored head yet: give the contract (--contract)")
            contract = checkpoint.anchor.contract
            self.report.notes.append(
                f"the contract {contract} was taken from the server's checkpoint; give "
                "--contract to audit against the deployment you trust")
        try:
            return ChainView(self.chain, contract)
        except (ForeignContractError, ValueError) as exc:
            raise AuditInputError(str(exc)) from None

    def _check_checkpoint(self, checkpoint: Checkpoint, heads: list[ChainHead],
                          view: ChainView) -> None:
        if checkpoint.platform != self.platform:
            raise AuditInputError(
                f"the server answered the checkpoint of {checkpoint.platform}, not {self.platform}")
        if checkpoint.anchor is None:
            return
        anchor = checkpoint.anchor
        if anchor.chain_id != self.chain.chain_id or anchor.contract != view.address:
            self.failures.add(Failure(
                AuditCheck.CHECKPOINT, "the checkpoint is anchored on another chain or contract",
                expected=f"{self.chain.chain_id} {view.address}",
                actual=f"{anchor.chain_id} {anchor.contract}"))
            return
        index = next((i for i, h in enumerate(heads) if h.size == checkpoint.size), None)
        if index is None:
            self.failures.add(Failure(
                AuditCheck.CHECKPOINT,
                f"the contract holds no head of size {checkpoint.size}, the checkpoint's",
                actual=to_hex(checkpoint.root)))
            return
        if heads[index].root != checkpoint.root:
            self.failures.add(Failure(
                AuditCheck.CHECKPOINT,
                f"the checkpoint's root of size {checkpoint.size} is not the contract's",
                head=index, expected=to_hex(heads[index].root), actual=to_hex(checkpoint.root)))
            return
        problem = view.anchor_problem(anchor, checkpoint.size, checkpoint.root)
        if problem is not None:
            self.failures.add(Failure(AuditCheck.CHECKPOINT, problem, head=index))

    def _check_mirrored_heads(self, mirror: Mirror, heads: list[ChainHead]) -> None:
        """The heads the mirror recorded at the last audit are still the chain's, unchanged."""
        recorded = mirror.load_json(HEADS_FILE)
        if recorded is None:
            return
        if not isinstance(recorded, list):
            raise AuditInputError(f"{mirror.root / HEADS_FILE} is not a list of heads")
        for index, doc in enumerate(recorded):
            now = _head_json(heads[index]) if index < len(heads) else None
            if doc != now:
                self.failures.add(Failure(
                    AuditCheck.MIRROR,
                    "the head the mirror recorded at the last audit is not the chain's now "
                    f"({HEADS_FILE} altered, or the chain reorganised)",
                    head=index, expected=str(now), actual=str(doc)))

    def _check_subject_heads(self, view: ChainView, chains: SubjectChains,
                             results: list[BundleResult], size: int) -> int:
        """Where the contract holds a subject's head, it is a chained record of the subject in
        the log: its last, or one followed by records not yet relayed to the contract."""
        subjects = list(chains.heads)
        self.progress.phase("subject heads on chain", len(subjects))
        on_chain: dict[bytes, bytes] = {}
        for start in range(0, len(subjects), 5000):
            part = subjects[start : start + 5000]
            for subject, head in zip(part, view.subject_heads(self.platform, part), strict=True):
                if head != bytes(HASH_SIZE):
                    on_chain[subject] = head
            self.progress.advance(len(part))
        wanted = {head: s for s, head in on_chain.items() if chains.heads[s] != head}
        found = chained_records_of(results, wanted) if wanted else {}
        for head, subject in wanted.items():
            if head in found:
                continue
            leaf = self.client.record_leaf(head)
            if leaf is not None and leaf >= size:
                self.report.notes.append(
                    f"the contract's head of subject {to_hex(subject)} is the record at leaf "
                    f"{leaf}, beyond the audited size {size}")
                continue
            self.failures.add(Failure(
                AuditCheck.SUBJECT_HEAD,
                f"the contract holds a head of subject {to_hex(subject)} that is none of the "
                "subject's records in the log", expected=to_hex(head),
                actual=to_hex(chains.heads[subject])))
        return len(on_chain)

    def _replay_refusals(self, results: list[BundleResult], domain: Domain) -> int:
        refusals = [item for result in results for item in result.refusals]
        if refusals:
            self.progress.phase("replaying refusals", len(refusals))
        for leaf, entry in refusals:
            refusal = SignedRecord.from_json(json.loads(entry)).record
            assert isinstance(refusal, Refusal)
            check = check_refusal_record(refusal, domain, self.chain)
            if check.outcome is not Outcome.PASSED:
                self.failures.add(Failure(
                    AuditCheck.REFUSAL, check.detail, leaf=leaf,
                    tile=Tile(None, leaf // TILE_WIDTH).path, expected=check.expected,
                    actual=check.actual))
            self.progress.advance(1)
        return len(refusals)

    def _prefix_leaves(self, mirror: Mirror, first_bundle: int) -> list[bytes]:
        """The leaf hashes of the leaves before `first_bundle`'s, from the level-0 tiles."""
        leaves: list[bytes] = []
        for tile in tiles_at(first_bundle * TILE_WIDTH, 0):
            data = mirror.read(tile)
            if len(data) != tile.byte_size():
                self.failures.add(Failure(
                    AuditCheck.TILE, f"holds {len(data)} bytes; expected {tile.byte_size()}",
                    tile=tile.path))
                data = data[: tile.byte_size()].ljust(tile.byte_size(), b"\0")
            leaves += split_hashes(data)
        return leaves


def _head_json(head: ChainHead) -> dict[str, Any]:
    return {"size": head.size, "root": to_hex(head.root), "time": head.time}
