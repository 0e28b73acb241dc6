"""Wiring: the vault and the access log of a ledger, from settings."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

from ledger.config import Platform, Settings
from ledger.core.records import Purpose
from ledger.errors import LedgerStateError
from ledger.privacy.access import AccessLog, access_log_platform
from ledger.privacy.keys import KeyRing
from ledger.privacy.vault import Vault
from ledger.service import Ledger

log = logging.getLogger("bindledger.privacy")


@dataclass(frozen=True)
class Privacy:
    vault: Vault
    access: AccessLog
    # Purposes whose consent must be recorded before any processing (BINDLEDGER_CONSENT_FIRST).
    consent_first: frozenset[Purpose] = frozenset()


_ATTACHED: weakref.WeakKeyDictionary[Ledger, Privacy] = weakref.WeakKeyDictionary()


def access_platform_of(settings: Settings) -> Platform:
    """The access log's pseudo-platform, to serve beside the settings' platforms."""
    return access_log_platform(settings.access_log_key)


def open_privacy(settings: Settings, ledger: Ledger) -> Privacy:
    """The vault and access log of `ledger` (whose platforms include the access log's, see
    access_platform_of), attached to it; data keys wrapped by a retired vault key are
    re-wrapped by the current one now."""
    keys = KeyRing.parse(settings.vault_key, settings.vault_retired_keys)
    vault = Vault(ledger, keys)
    rewrapped = vault.rotate()
    if rewrapped:
        log.info("re-wrapped %d data key(s) with vault key %s", rewrapped, keys.current.key_id)
    address = access_platform_of(settings).address
    privacy = Privacy(vault, AccessLog(ledger, ledger.platform(address)),
                      frozenset(Purpose[name] for name in settings.consent_first))
    _ATTACHED[ledger] = privacy
    return privacy


def privacy_for(ledger: Ledger) -> Privacy:
    """The vault and access log of `ledger`; raises LedgerStateError when none was attached."""
    privacy = _ATTACHED.get(ledger)
    if privacy is None:
        raise LedgerStateError("this ledger has no evidence vault (open it with open_ledger)")
    return privacy


def lenders(ledger: Ledger) -> list[Platform]:
    """The ledger's platforms that lend: all but the access log's pseudo-platform."""
    privacy = _ATTACHED.get(ledger)
    skip = privacy.access.address if privacy is not None else None
    return [p for p in ledger.platforms.values() if p.address != skip]
