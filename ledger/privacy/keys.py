"""Key-encryption keys of the evidence vault, and wrapping the subjects' data keys with them.

Each subject's evidence is encrypted with a data key of its own (AES-256-GCM), so that
destroying that one key makes exactly that subject's evidence unreadable (crypto-shredding),
whatever copies of the ciphertext remain. Data keys are stored only wrapped by a
key-encryption key (KEK) from configuration, and each wrapped key names the KEK that wrapped
it, so a KEK can be replaced: the old one stays configured as retired until every data key is
wrapped by the new one (`Vault.rotate`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import LedgerStateError, LedgerValueError
from ledger.store.base import Store, WrappedKey

KEY_SIZE = 32  # AES-256
NONCE_SIZE = 12  # the GCM nonce size NIST recommends; random, as every key is used rarely
_KEK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_WRAP_LABEL = b"bindledger/vault/data-key/v1\x00"


class VaultKeyConfigError(LedgerValueError):
    """A vault key setting is not '<key id>:<64 hex digits>', or two keys share an id."""


class UnknownVaultKeyError(LedgerStateError):
    """A data key is wrapped by a key-encryption key that is not configured (any more)."""


class DataKeyCorruptError(LedgerStateError):
    """A wrapped data key does not unwrap: it was altered, or belongs to another subject."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    key_id: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyRing:
    """The current KEK, which wraps new data keys, and retired ones, which only unwrap."""

    current: KeyEncryptionKey
    retired: tuple[KeyEncryptionKey, ...] = ()

    def __post_init__(self) -> None:
        ids = [self.current.key_id, *(k.key_id for k in self.retired)]
        if len(set(ids)) != len(ids):
            raise VaultKeyConfigError("two vault keys share a key id: give each its own")

    @classmethod
    def parse(cls, current: str, retired: str = "") -> KeyRing:
        """From the settings vault_key and vault_retired_keys; raises VaultKeyConfigError
        naming the setting, never quoting the key."""
        old = [parse_kek(k, "BINDLEDGER_VAULT_RETIRED_KEYS") for k in retired.split(",") if k]
        return cls(parse_kek(current, "BINDLEDGER_VAULT_KEY"), tuple(old))

    def get(self, key_id: str) -> KeyEncryptionKey:
        for kek in (self.current, *self.retired):
            if kek.key_id == key_id:
                return kek
        raise UnknownVaultKeyError(
            f"a data key is wrapped by vault key {key_id!r}, which is not configured: add it "
            "to BINDLEDGER_VAULT_RETIRED_KEYS until `bindledger vault rotate` has run"
        )


def parse_kek(text: str, setting: str) -> KeyEncryptionKey:
    key_id, _, hex_key = text.strip().partition(":")
    try:
        key = bytes.fromhex(hex_key.removeprefix("0x"))
    except ValueError:
        key = b""
    if not _KEK_ID.fullmatch(key_id) or len(key) != KEY_SIZE:
        raise VaultKeyConfigError(
            f"{setting} must be '<key id>:<{2 * KEY_SIZE} hex digits>' (an AES-256 key named "
            "by letters, digits, '.', '_' or '-')"
        )
    return KeyEncryptionKey(key_id, key)


def rotate_data_keys(store: Store, keys: KeyRing) -> int:
    """Re-wrap every data key wrapped by a retired KEK with the current one; returns how many
    were. Safe while the vault is in use (each key is replaced only as it was read), and to
    run again."""
    current = keys.current
    done = 0
    for old in store.vault_keys_not_under(current.key_id):
        scope = key_scope(old.platform, old.subject)
        data_key = unwrap(keys.get(old.kek_id), old.wrapped, scope)
        new = WrappedKey(old.platform, old.subject, current.key_id,
                         wrap(current, data_key, scope))
        done += store.rewrap_vault_key(old, new)
    return done


def key_scope(platform: str, subject: bytes) -> bytes:
    """Whose data key it is: the platform's address and the subject's reference."""
    return bytes.fromhex(platform[2:]) + subject


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * KEY_SIZE)


def wrap(kek: KeyEncryptionKey, data_key: bytes, scope: bytes) -> bytes:
    """nonce || AES-256-GCM(kek, data key), bound to the key's owner `scope` and the KEK id:
    a wrapped key copied to another subject does not unwrap."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(kek.key).encrypt(nonce, data_key, _aad(kek.key_id, scope))


def unwrap(kek: KeyEncryptionKey, wrapped: bytes, scope: bytes) -> bytes:
    try:
        return AESGCM(kek.key).decrypt(
            wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _aad(kek.key_id, scope)
        )
    except InvalidTag:
        raise DataKeyCorruptError("a subject's data key does not unwrap") from None


def _aad(key_id: str, scope: bytes) -> bytes:
    return _WRAP_LABEL + key_id.encode() + b"\x00" + scope
