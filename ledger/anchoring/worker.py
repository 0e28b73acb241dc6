"""The anchoring worker: seals and anchors heads every N records or T seconds, in the one
process that holds the anchoring lease, and says honestly how it is doing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from requests.exceptions import RequestException

from ledger.anchoring.lifecycle import AnchoringElsewhereError
from ledger.chain.client import ChainUnreachableError
from ledger.errors import LedgerError
from ledger.service import Ledger

log = logging.getLogger("bindledger.worker")

# After a failed round (node down, out of gas) wait this long before trying again, so a
# broken chain is not hammered; records stay durable in the store meanwhile.
RETRY_DELAY_SECONDS = 2.0

# The worker counts as failing once its rounds have failed for this long (a node restart or a
# short outage is not worth a page), or once a head waited this long for its transaction.
DEGRADED_AFTER_SECONDS = 30.0

Reason = Literal["chain_unreachable", "anchor_stuck", "anchor_failing", "reorg_repair"]


@dataclass(frozen=True)
class WorkerHealth:
    """What /healthz reports: `reason` is None when the worker is healthy."""

    reason: Reason | None
    detail: str | None
    leader: bool  # this process holds the anchoring lease
    oldest_unanchored_seconds: float | None  # age of the oldest sealed head not yet final


class AnchorWorker:
    """Runs in a background thread; `stop()` finishes the current round and returns."""

    def __init__(
        self,
        ledger: Ledger,
        every_records: int,
        every_seconds: float,
        degraded_after: float = DEGRADED_AFTER_SECONDS,
        clock: Callable[[], float] = time.time,
        housekeeping: Callable[[], object] | None = None,
    ) -> None:
        if every_records < 1 or every_seconds <= 0:
            raise ValueError("every_records must be >= 1 and every_seconds > 0")
        self.ledger = ledger
        self.every_records = every_records
        self.every_seconds = every_seconds
        self.degraded_after = degraded_after
        # Run by the leader after each timed round (retention erasure): one process does it.
        self.housekeeping = housekeeping
        self.rounds = 0
        self.last_error: str | None = None
        self.leader = False
        self._failing_since: float | None = None
        self._unreachable = False
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._round_done = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="anchor-worker", daemon=True)
        ledger.on_record = self._record_added

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Start a round now rather than at the next timer: it looks at every platform's pending
        records and anchors those due, as when the record that reaches `every_records` arrives."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self.wake()
        self._thread.join(timeout)
        if self.leader:
            try:
                # A process that stops hands the lease over at once, not after it expires.
                self.ledger.anchorer.release_lease()
            except (LedgerError, OSError) as exc:
                log.warning("could not release the anchoring lease: %s", exc)

    def wait_for_round(self, rounds: int, timeout: float) -> bool:
        """Wait until the worker has finished `rounds` rounds in all; False on timeout."""
        with self._round_done:
            return self._round_done.wait_for(lambda: self.rounds >= rounds, timeout)

    def _record_added(self, platform: str, pending: int) -> None:
        if pending >= self.every_records:
            self.wake()

    def _run(self) -> None:
        # Heads left unfinished by a previous process are finished first.
        self._round(seal=False)
        deadline = time.monotonic() + self.every_seconds
        poll = self.ledger.anchorer.policy.poll_seconds
        while not self._stopping.is_set():
            # Every poll interval: the leader renews its lease, re-checks recent anchors and moves
            # unfinished heads on; a standby sees whether the lease is free. New records are
            # sealed on their own schedule.
            wake_at = min(deadline, time.monotonic() + poll)
            self._wake.wait(max(0.0, wake_at - time.monotonic()))
            self._wake.clear()
            if self._stopping.is_set():
                break
            due = time.monotonic() >= deadline
            full = any(self.ledger.pending(p) >= self.every_records for p in self.ledger.platforms)
            # A full batch is sealed on the grid of every_records (short proofs, less gas); the
            # timer seals everything pending; otherwise unfinished heads only move on.
            ok = self._round(on_grid=1 if due else self.every_records, seal=due or full)
            if due and ok and self.leader and self.housekeeping is not None:
                self._housekeep()
            if due or full or not ok:
                deadline = time.monotonic() + (self.every_seconds if ok else RETRY_DELAY_SECONDS)

    def _round(self, on_grid: int = 1, seal: bool = True) -> bool:
        anchorer = self.ledger.anchorer
        try:
            if seal:
                anchorer.seal_and_anchor(on_grid)
            else:
                anchorer.anchor_unfinished()
        except AnchoringElsewhereError:
            self.leader = False
            self._succeeded()
            return True
        except (LedgerError, OSError, ValueError, RequestException) as exc:
            self._failed(exc)
            return False
        self.leader = True
        self._succeeded()
        return True

    def _housekeep(self) -> None:
        assert self.housekeeping is not None
        try:
            self.housekeeping()
        except (LedgerError, OSError) as exc:  # the next timed round tries again
            log.error("housekeeping failed, will retry: %s", exc)

    def _succeeded(self) -> None:
        self.last_error = None
        self._failing_since = None
        self._unreachable = False
        with self._round_done:
            self.rounds += 1
            self._round_done.notify_all()

    def _failed(self, exc: Exception) -> None:
        unreachable = isinstance(exc, ChainUnreachableError | OSError | RequestException)
        # A transport error's text names the node's URL, path and query (where providers put
        # their keys): only its kind is kept. (ChainErrors carry redacted URLs only.)
        raw = isinstance(exc, OSError | RequestException)
        self.last_error = (
            f"chain unreachable ({type(exc).__name__})" if raw else f"{type(exc).__name__}: {exc}"
        )
        if self._failing_since is None:
            self._failing_since = self._clock()
        self._unreachable = unreachable
        log.error("anchoring round failed, will retry: %s", self.last_error)
        with self._round_done:
            self.rounds += 1
            self._round_done.notify_all()

    def health(self) -> WorkerHealth:
        """Degraded once rounds have failed for `degraded_after` seconds, a head has waited
        that long to be final, or anchors lost to a reorg are still being repaired."""
        now = self._clock()
        oldest = self._oldest_unanchored(now)
        reason: Reason | None = None
        detail = None
        if self._failing_since is not None and now - self._failing_since >= self.degraded_after:
            reason = "chain_unreachable" if self._unreachable else "anchor_failing"
            detail = (f"anchoring has failed for {now - self._failing_since:.0f} s: "
                      f"{self.last_error}")
        elif self.ledger.anchorer.watcher.repairing:
            reason = "reorg_repair"
            detail = (f"{len(self.ledger.anchorer.watcher.repairing)} anchor(s) left the chain "
                      "and are being anchored again")
        elif self.leader and oldest is not None and oldest >= self.degraded_after:
            reason = "anchor_stuck"
            detail = f"a sealed head has waited {oldest:.0f} s for a final anchor"
        return WorkerHealth(reason, detail, self.leader, oldest)

    def _oldest_unanchored(self, now: float) -> float | None:
        heads = self.ledger.store.unfinished_heads()
        if not heads:
            return None
        return max(0.0, now - min(h.sealed_at for h in heads))
