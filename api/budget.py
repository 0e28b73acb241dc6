"""The budget of the public verification routes (bundles, timelines, the latest heads): what
a caller without an API key may make this server do. /healthz is not metered: a monitor's
probe must always be answered, and it reads only what the worker holds.

Anyone may verify a proof bundle or a timeline, and each check costs CPU (a signature, a Merkle
path) and chain reads. Two bounds keep one client from taking the server from the others:
- per request, a timeline of at most `max_timeline_entries` entries (413 beyond), on top of
  the body size (api/limits.py) and proof path length (ledger/core/bundle.py) limits;
- per client (its IP address), a token bucket of checks: `burst` at once, refilled at `rate`
  a second. A bundle costs one check, a timeline one per entry, the latest heads one. A
  request the bucket cannot pay is refused with 429 and a Retry-After header, and does no
  verification.

A caller with a valid key is a known party (a platform, a regulator, an operator) and is not
metered here. Behind a reverse proxy, run uvicorn with --forwarded-allow-ips so that the
client's address, not the proxy's, names its bucket.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.routing import APIRoute
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.auth import Caller, identify

# Buckets kept at once: beyond, the tenth least recently seen are forgotten (most are full
# again by then), so a flood of addresses costs bounded memory and constant time a request.
MAX_CLIENTS = 10_000


class VerifyBudgetSettings(BaseSettings):
    """BINDLEDGER_VERIFY_RATE, BINDLEDGER_VERIFY_BURST, BINDLEDGER_VERIFY_MAX_TIMELINE_ENTRIES."""

    model_config = SettingsConfigDict(env_prefix="BINDLEDGER_VERIFY_", env_file=".env",
                                      extra="ignore")

    # A check takes a few milliseconds of CPU: 25 a second per client leaves most of a core
    # to everyone else, and a burst of 500 verifies a long-standing borrower's timeline at once.
    rate: float = Field(25.0, gt=0, description="checks a second refilled per client")
    burst: int = Field(500, ge=1, description="checks a client may spend at once")
    max_timeline_entries: int = Field(500, ge=1, description="entries of one timeline")


class TimelineTooLongError(HTTPException):
    """A timeline with more entries than one request of the public route may check."""


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class VerifyBudget:
    """Token buckets of checks, one per client address. Requires max_timeline_entries <= burst
    (else a timeline within the bound could never be paid for)."""

    rate: float = 25.0
    burst: int = 500
    max_timeline_entries: int = 500
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not (self.rate > 0 and 1 <= self.max_timeline_entries <= self.burst):
            raise ValueError("the verify budget needs rate > 0 and "
                             "1 <= max_timeline_entries <= burst")

    @classmethod
    def from_env(cls) -> VerifyBudget:
        s = VerifyBudgetSettings()
        return cls(rate=s.rate, burst=s.burst, max_timeline_entries=s.max_timeline_entries)

    def spend(self, client: str, checks: int) -> None:
        """Take `checks` from the client's bucket. Raises HTTPException 429 with Retry-After
        (and takes nothing) when the bucket holds fewer."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._keep(client, bucket)
            if bucket.tokens >= checks:
                bucket.tokens -= checks
                return
            wait = math.ceil((checks - bucket.tokens) / self.rate)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"verification budget spent: this request needs {checks} "
            f"check{'' if checks == 1 else 's'}, this client has "
            f"{int(bucket.tokens)} of {self.burst} (refilled at {self.rate:g} a second); retry "
            f"after {wait} s, or verify offline with `bindledger verify`",
            {"Retry-After": str(wait)},
        )

    def check_timeline(self, entries: int) -> None:
        """Raises TimelineTooLongError (413) for a timeline longer than one request may be."""
        if entries > self.max_timeline_entries:
            raise TimelineTooLongError(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"the timeline has {entries} entries; this route checks at most "
                f"{self.max_timeline_entries} in one request (verify longer ones offline with "
                "`bindledger verify`)",
            )

    def _keep(self, client: str, bucket: _Bucket) -> None:
        if len(self._buckets) >= MAX_CLIENTS:
            for forgotten in list(itertools.islice(self._buckets, MAX_CLIENTS // 10)):
                del self._buckets[forgotten]
        self._buckets[client] = bucket  # last in the dict: the most recently seen

    @property
    def clients(self) -> int:
        """How many clients' buckets are kept."""
        return len(self._buckets)


@dataclass(frozen=True)
class Meter:
    """The budget of one request: None for a caller with a key, who is not metered."""

    budget: VerifyBudget
    client: str | None

    def spend(self, checks: int) -> None:
        if self.client is not None:
            self.budget.spend(self.client, checks)

    def spend_timeline(self, entries: int) -> None:
        """A timeline of `entries` entries: 413 beyond the bound, else one check an entry
        (the first was spent on the way in)."""
        if self.client is not None:
            self.budget.check_timeline(entries)
            self.budget.spend(self.client, max(0, entries - 1))


async def metered(
    request: Request, caller: Annotated[Caller | None, Depends(identify)]
) -> Meter:
    """The request's meter, having spent the one check every request of the route costs
    (before the body is decoded as a bundle or timeline, so a flood of requests does no
    work)."""
    budget: VerifyBudget = request.app.state.budget
    client = None if caller is not None else (request.client.host if request.client else "")
    meter = Meter(budget, client)
    meter.spend(1)
    return meter


MeterDep = Annotated[Meter, Depends(metered)]


def is_metered(route: APIRoute) -> bool:
    """Whether the route spends the budget (its OpenAPI operation then documents 429)."""
    return any(d.call is metered for d in route.dependant.dependencies)
