"""The platform's signing key: loaded from the environment or a file, never from a command
line (which `ps` shows to every user), and never printed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32

from ledger.client.errors import KeyUnreadableError
from ledger.core.records import Domain, Record, SignatureError, SignedRecord

# The variable `bindledger sign` reads the key from, unless told another.
KEY_ENV = "BINDLEDGER_PLATFORM_KEY"
# Holds the password of a keystore file (eth-account's JSON keystore v3).
KEY_PASSWORD_ENV = "BINDLEDGER_PLATFORM_KEY_PASSWORD"


class PlatformKey:
    """A platform's secp256k1 key, signing records as EIP-712 digests with eth-account."""

    def __init__(self, private_key: str | bytes) -> None:
        try:
            self._account: LocalAccount = Account.from_key(private_key)
        except (ValueError, TypeError):
            # The message of eth-keys' error may quote the value: say nothing of it.
            raise KeyUnreadableError("not a secp256k1 private key (32 bytes, 0x-hex)") from None

    def __repr__(self) -> str:
        return f"PlatformKey(address={self.address})"

    @property
    def address(self) -> str:
        """The platform's checksummed address, which every record it signs names."""
        return str(self._account.address)

    @classmethod
    def from_env(cls, name: str = KEY_ENV) -> PlatformKey:
        """The key held in environment variable `name` (0x-hex)."""
        value = os.environ.get(name, "").strip()
        if not value:
            raise KeyUnreadableError(f"environment variable {name} holds no platform key")
        return cls(value)

    @classmethod
    def from_file(cls, path: Path, password_env: str = KEY_PASSWORD_ENV) -> PlatformKey:
        """The key in `path`: 0x-hex on one line, or a JSON keystore whose password is in
        environment variable `password_env`."""
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise KeyUnreadableError(f"cannot read key file {path}: {exc.strerror or exc}") from None
        if not text.startswith("{"):
            return cls(text)
        password = os.environ.get(password_env)
        if password is None:
            raise KeyUnreadableError(f"{path} is a keystore: set its password in {password_env}")
        try:
            return cls(bytes(Account.decrypt(json.loads(text), password)))
        except (ValueError, KeyError, TypeError):
            raise KeyUnreadableError(f"cannot decrypt keystore {path} (wrong password?)") from None

    def sign(self, record: Record, domain: Domain) -> SignedRecord:
        """Sign `record` under `domain`. Requires the record to name this key's address as its
        platform (SignatureError otherwise: the server would refuse it)."""
        if record.platform != self.address:
            raise SignatureError(
                f"the record names platform {record.platform}, this key is {self.address}"
            )
        signed = self._account.unsafe_sign_hash(Hash32(record.digest(domain)))
        return SignedRecord(record, bytes(signed.signature))
