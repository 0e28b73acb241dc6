"""Relayer accounts shared by several processes, each used by one process at a time.

A relayer's nonces are its own only while one process sends from it: two processes that read
the same pending nonce would sign two transactions for one slot, and the node keeps one. So each
process takes the first relayer account no other process holds, through a lease in the database
(renewed in the background, given up at exit), and a process that finds none free refuses to
start, naming the setting that adds one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from ledger.anchoring.lifecycle import process_holder
from ledger.errors import LedgerStateError
from ledger.store.base import Fence, Store

log = logging.getLogger("bindledger.relayers")

# A relayer lease outlives a stalled process this long; it is renewed three times as often.
RELAYER_LEASE_SECONDS = 30.0


class NoFreeRelayerError(LedgerStateError):
    """Every configured relayer account is held by another running process."""


class RelayerLease:
    """The relayer account this process holds, kept by a renewing thread until `release`."""

    def __init__(
        self,
        store: Store,
        accounts: list[LocalAccount],
        ttl: float = RELAYER_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
        holder: str | None = None,
    ) -> None:
        """Raises NoFreeRelayerError when every account is held by another process."""
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._stop = threading.Event()
        holder = holder or process_holder()
        for account in accounts:
            fence = store.acquire_lease(relayer_lease_name(account), holder, ttl, clock())
            if fence is not None:
                self.account: LocalAccount = account
                self.fence: Fence = fence
                break
        else:
            raise NoFreeRelayerError(
                f"all {len(accounts)} relayer account(s) are in use by other processes: give "
                "each API process its own (BINDLEDGER_RELAYER_KEYS, a JSON list of keys)"
            )
        self._thread = threading.Thread(target=self._renew, name="relayer-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            try:
                renewed = self._store.acquire_lease(
                    self.fence.name, self.fence.holder, self._ttl, self._clock()
                )
            except Exception as exc:  # noqa: BLE001 - a database hiccup: retry next period
                log.warning("could not renew the relayer lease: %s", exc)
                continue
            if renewed is None or renewed.token != self.fence.token:
                log.critical("relayer %s was taken over by another process: stop relaying",
                             self.account.address)
                return

    def release(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._store.release_lease(self.fence)


def relayer_lease_name(account: LocalAccount) -> str:
    """The name of the lease that gives a process the relayer `account` (one per account)."""
    return f"relayer:{account.address}"
