"""The anchoring worker: seals and anchors a head every N records or T seconds."""

from __future__ import annotations

import logging
import threading
import time

from ledger.errors import LedgerError
from ledger.service import Ledger

log = logging.getLogger("bindledger.worker")

# After a failed round (node down, out of gas) wait this long before trying again, so a
# broken chain is not hammered; records stay durable in the store meanwhile.
RETRY_DELAY_SECONDS = 2.0


class AnchorWorker:
    """Runs in a background thread; `stop()` finishes the current round and returns."""

    def __init__(self, ledger: Ledger, every_records: int, every_seconds: float) -> None:
        if every_records < 1 or every_seconds <= 0:
            raise ValueError("every_records must be >= 1 and every_seconds > 0")
        self.ledger = ledger
        self.every_records = every_records
        self.every_seconds = every_seconds
        self.rounds = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="anchor-worker", daemon=True)
        ledger.on_record = self._record_added

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def _record_added(self, platform: str, pending: int) -> None:
        if pending >= self.every_records:
            self._wake.set()

    def _run(self) -> None:
        # Heads left SEALED or SENT by a previous process are finished first.
        self._round()
        deadline = time.monotonic() + self.every_seconds
        while not self._stopping.is_set():
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            if self._stopping.is_set():
                break
            due = time.monotonic() >= deadline
            full = any(self.ledger.pending(p) >= self.every_records for p in self.ledger.platforms)
            if due or full:
                # A full batch is sealed on the grid of every_records (short proofs, less gas);
                # the timer seals everything pending.
                ok = self._round(on_grid=1 if due else self.every_records)
                deadline = time.monotonic() + (self.every_seconds if ok else RETRY_DELAY_SECONDS)

    def _round(self, on_grid: int = 1) -> bool:
        try:
            self.ledger.seal_and_anchor(on_grid)
        except (LedgerError, OSError, ValueError) as exc:
            self.last_error = str(exc)
            log.error("anchoring round failed, will retry: %s", exc)
            return False
        self.rounds += 1
        self.last_error = None
        return True
