"""Verification verdicts: each check, whether it passed, and the evidence when it did not."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckName(StrEnum):
    FORMAT = "format"
    RECORD_HASH = "record hash"
    SIGNATURE = "signature"
    INCLUSION = "inclusion"
    HEAD_ON_CHAIN = "head on chain"
    ANCHOR_TRANSACTION = "anchor transaction"
    COMPLETENESS = "completeness"
    REFUSAL = "refusal"
    LOAN = "loan"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # could not be run because an earlier check it depends on failed


@dataclass(frozen=True)
class Check:
    name: CheckName
    outcome: Outcome
    detail: str
    expected: str | None = None
    actual: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.name.value,
            "outcome": self.outcome.value,
            "detail": self.detail,
        }
        if self.expected is not None:
            out["expected"] = self.expected
        if self.actual is not None:
            out["actual"] = self.actual
        return out


def passed(name: CheckName, detail: str) -> Check:
    return Check(name, Outcome.PASSED, detail)


def failed(
    name: CheckName, detail: str, expected: str | None = None, actual: str | None = None
) -> Check:
    return Check(name, Outcome.FAILED, detail, expected, actual)


def skipped(name: CheckName, detail: str) -> Check:
    return Check(name, Outcome.SKIPPED, detail)


@dataclass(frozen=True)
class Verdict:
    checks: list[Check] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.outcome is Outcome.PASSED for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.outcome is Outcome.FAILED), None)

    def reason(self) -> str:
        failure = self.first_failure
        if failure is None:
            return "all checks passed" if self.verified else "no checks ran"
        reason = f"{failure.name.value}: {failure.detail}"
        if failure.expected is not None:
            reason += f" (expected {failure.expected}, got {failure.actual})"
        return reason

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "reason": self.reason(),
            "checks": [c.to_json() for c in self.checks],
        }
