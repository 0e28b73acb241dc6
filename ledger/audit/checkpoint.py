"""The checkpoint a log server offers beside its tiles: the latest FINAL anchored head of one
platform's log, with the transaction that anchored it (`bindledger.checkpoint/1`).

It stands in for tlog-tiles' signed checkpoint: what makes a head trustworthy here is not a
signature of the log's operator but the contract holding it, which the auditor asks itself.
The checkpoint only tells the auditor how far the server serves tiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.core.bundle import AnchorRef
from ledger.core.encoding import from_hex, to_hex
from ledger.errors import LedgerValueError

CHECKPOINT_FORMAT = "bindledger.checkpoint/1"


class CheckpointDecodeError(LedgerValueError):
    """A checkpoint document is not readable."""


@dataclass(frozen=True)
class Checkpoint:
    """Size and root of the served log; `anchor` is None while no head is final (size 0)."""

    platform: str
    size: int
    root: bytes
    anchor: AnchorRef | None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "platform": self.platform,
            "size": self.size,
            "root": to_hex(self.root),
            "anchor": None if self.anchor is None else self.anchor.to_json(),
        }

    @classmethod
    def from_json(cls, doc: object) -> Checkpoint:
        if not isinstance(doc, Mapping) or doc.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointDecodeError(f"not a {CHECKPOINT_FORMAT} document")
        try:
            platform, size = doc["platform"], doc["size"]
            root = from_hex(doc["root"], length=32, what="root")
            anchor_doc = doc["anchor"]
            anchor = None if anchor_doc is None else _anchor(anchor_doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointDecodeError(f"checkpoint: {exc}") from None
        if not isinstance(platform, str) or isinstance(size, bool) or not isinstance(size, int):
            raise CheckpointDecodeError("checkpoint: platform must be a string, size an integer")
        if size < 0 or (size > 0) != (anchor is not None):
            raise CheckpointDecodeError("checkpoint: a size > 0 needs an anchor, and only then")
        return cls(platform, size, root, anchor)


def _anchor(doc: Mapping[str, Any]) -> AnchorRef:
    return AnchorRef(
        chain_id=int(doc["chainId"]),
        contract=str(doc["contract"]),
        platform=str(doc["platform"]),
        tx_hash=from_hex(doc["txHash"], length=32, what="txHash"),
        block_number=int(doc["blockNumber"]),
        block_hash=from_hex(doc["blockHash"], length=32, what="blockHash"),
        block_time=int(doc["blockTime"]),
    )
