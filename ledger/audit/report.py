"""What an audit found: failures named by position, what was checked, and the verdict
(`bindledger.audit/1`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ledger.errors import LedgerStateError, LedgerValueError

REPORT_FORMAT = "bindledger.audit/1"
# Past this many failures of one check, only their number is kept: a rewritten log fails at
# every leaf after the rewrite, and the first ones say where.
MAX_FAILURES_PER_CHECK = 200


class AuditCheck(StrEnum):
    ENTRY = "entry"  # an entry is not a readable record of this platform in canonical form
    SIGNATURE = "signature"  # not signed by the platform
    LEAF = "leaf"  # a level-0 hash differs from the leaf hash of the entry's record
    TILE = "tile"  # a tile's size, framing or a hash of a level above 0 is not the recomputed
    HEAD = "head"  # a head on chain is not the recomputed root at its size
    CONSISTENCY = "consistency"  # successive heads on chain are not consistent
    CHECKPOINT = "checkpoint"  # the server's checkpoint is not a head on chain, or its tx
    MIRROR = "mirror"  # the mirror's record of the chain's heads differs from the chain
    CHAIN = "subject chain"  # a record's prev is not its subject's previous record
    SUBJECT_HEAD = "subject head"  # the contract's head of a subject is not its last record
    REFUSAL = "refusal"  # a refusal record does not replay


class AuditInputError(LedgerValueError):
    """An argument, the mirror or an answer of the server cannot be read (exit 2)."""


class ServerUnreachableError(LedgerStateError):
    """The log server does not answer, or fails (exit 3)."""


@dataclass(frozen=True)
class Failure:
    """One failed check, at a position: a leaf index, a tile path, a head index (on chain), or
    none of them (the checkpoint). `where` says it for people."""

    check: AuditCheck
    detail: str
    leaf: int | None = None
    tile: str | None = None
    head: int | None = None
    expected: str | None = None
    actual: str | None = None

    @property
    def where(self) -> str:
        parts = []
        if self.leaf is not None:
            parts.append(f"leaf {self.leaf}")
        if self.tile is not None:
            parts.append(self.tile)
        if self.head is not None:
            parts.append(f"head {self.head}")
        return ", ".join(parts) or "-"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check.value, "where": self.where,
                               "detail": self.detail}
        for name in ("leaf", "tile", "head", "expected", "actual"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class Failures:
    """Failures as they are found, at most MAX_FAILURES_PER_CHECK kept of each check."""

    kept: list[Failure] = field(default_factory=list)
    counts: Counter[AuditCheck] = field(default_factory=Counter)

    def add(self, failure: Failure) -> None:
        self.counts[failure.check] += 1
        if self.counts[failure.check] <= MAX_FAILURES_PER_CHECK:
            self.kept.append(failure)

    def extend(self, failures: list[Failure]) -> None:
        for failure in failures:
            self.add(failure)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class AuditReport:
    """Everything the audit checked (`summary`, for the table and the JSON) and found."""

    platform: str
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: Failures = field(default_factory=Failures)

    @property
    def verified(self) -> bool:
        return self.failures.total == 0

    def verdict(self) -> str:
        if self.verified:
            return "VERIFIED"
        first = self.failures.kept[0]
        return (f"NOT VERIFIED: {self.failures.total} failure(s); first: {first.check.value} at "
                f"{first.where}: {first.detail}")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "platform": self.platform,
            "verified": self.verified,
            "verdict": self.verdict(),
            **self.summary,
            "notes": self.notes,
            "failureCounts": {c.value: n for c, n in sorted(self.failures.counts.items())},
            "failures": [f.to_json() for f in self.failures.kept],
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
