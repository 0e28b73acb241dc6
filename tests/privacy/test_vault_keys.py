"""The vault's keys: a data key per subject, wrapped by a configured key-encryption key that
can be replaced; a wrapped key only unwraps for its own subject."""

from __future__ import annotations

import pytest

from ledger.config import Settings
from ledger.core.records import Verification, VerificationMethod
from ledger.privacy.keys import (
    DataKeyCorruptError,
    KeyRing,
    UnknownVaultKeyError,
    VaultKeyConfigError,
    new_data_key,
    unwrap,
    wrap,
)
from ledger.privacy.vault import Vault
from ledger.service import Ledger

K1 = "k1:" + "11" * 32
K2 = "k2:" + "22" * 32


def test_a_vault_key_is_an_id_and_an_aes_256_key_and_is_never_quoted() -> None:
    ring = KeyRing.parse(K2, K1)
    assert (ring.current.key_id, [k.key_id for k in ring.retired]) == ("k2", ["k1"])
    assert "22" * 32 not in repr(ring)
    for bad in ("k1:" + "11" * 31, "no-colon", "bad id:" + "11" * 32, "k1:" + "zz" * 32):
        with pytest.raises(VaultKeyConfigError, match="BINDLEDGER_VAULT_KEY") as refused:
            KeyRing.parse(bad)
        assert "11" * 31 not in str(refused.value)
    with pytest.raises(VaultKeyConfigError, match="share a key id"):
        KeyRing.parse(K1, K1)


def test_a_wrapped_data_key_unwraps_only_for_its_subject_and_key() -> None:
    ring = KeyRing.parse(K1)
    data_key = new_data_key()
    wrapped = wrap(ring.current, data_key, b"subject-a")
    assert unwrap(ring.current, wrapped, b"subject-a") == data_key
    with pytest.raises(DataKeyCorruptError):
        unwrap(ring.current, wrapped, b"subject-b")
    with pytest.raises(UnknownVaultKeyError, match="BINDLEDGER_VAULT_RETIRED_KEYS"):
        KeyRing.parse(K2).get("k1")


def test_rotation_rewraps_every_data_key_and_the_evidence_stays_readable(
        ledger_: Ledger, settings: Settings) -> None:
    platform = next(iter(ledger_.platforms.values()))
    subject = ledger_.refs.subject("ROTATE-1")
    accepted = ledger_.sign_and_submit(platform, subject, lambda prev: Verification(
        platform=platform.address, subject=subject, prev=prev, timestamp=1,
        method=VerificationMethod.SMS_OTP, passed=True, phone=ledger_.refs.phone("13800138000")))
    Vault(ledger_, KeyRing.parse(K1)).attach(platform, accepted.row, "text/plain", b"receipt")

    rotated = Vault(ledger_, KeyRing.parse(K2, K1))
    assert rotated.rotate() == 1
    assert rotated.rotate() == 0
    stored = ledger_.store.vault_key(platform.address, subject)
    assert stored is not None and stored.kek_id == "k2"
    # Once rotated, the retired key is no longer needed.
    assert Vault(ledger_, KeyRing.parse(K2)).read(accepted.row).content == b"receipt"
