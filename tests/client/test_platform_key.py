"""The platform's key and the reference secret stay the platform's: loaded from the
environment or a file (hex or a JSON keystore), never shown in a repr or an error, and the
signatures made with them are those the core verifies. Documents with raw values become the
records the server's drafts would make."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account

from ledger.client import KeyUnreadableError, PlatformKey, References, record_from_document
from ledger.config import DEV_PLATFORM_KEY, DEV_REF_SECRET
from ledger.core.records import (
    ZERO_HASH,
    Binding,
    ChannelChange,
    CollectionContact,
    Domain,
    LoanCreation,
    Record,
    RecordDecodeError,
    SignatureError,
    sign_record,
    verify_signature,
)
from ledger.core.refs import WeakSecretError
from ledger.drafts import Referencer

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
ADDRESS = str(Account.from_key(DEV_PLATFORM_KEY).address)
REFS = References(DEV_REF_SECRET)


def build(doc: dict[str, object]) -> Record:
    return record_from_document(doc, ADDRESS, REFS, lambda subject: ZERO_HASH, 1_700_000_000)


def test_a_signature_is_the_cores_and_verifies_as_the_platforms() -> None:
    record = build({"type": "Verification", "subject": "S-1", "method": "LIVENESS",
                    "passed": True, "phone": "13800138000"})
    signed = PlatformKey(DEV_PLATFORM_KEY).sign(record, DOMAIN)

    assert signed == sign_record(record, DOMAIN, bytes.fromhex(DEV_PLATFORM_KEY[2:]))
    assert verify_signature(signed, DOMAIN) == record.digest(DOMAIN)


def test_a_key_signs_only_records_naming_its_platform() -> None:
    other = PlatformKey("0x" + "42" * 32)
    record = build({"type": "Verification", "subject": "S-1", "method": "LIVENESS",
                    "passed": True, "phone": "13800138000"})
    with pytest.raises(SignatureError, match="this key is 0x"):
        other.sign(record, DOMAIN)


def test_keys_load_from_the_environment_a_hex_file_and_a_keystore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", DEV_PLATFORM_KEY)
    hex_file = tmp_path / "key.hex"
    hex_file.write_text(DEV_PLATFORM_KEY + "\n")
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(bytes.fromhex(DEV_PLATFORM_KEY[2:]), "pw", iterations=2)))
    monkeypatch.setenv("BINDLEDGER_PLATFORM_KEY_PASSWORD", "pw")

    loaded = [PlatformKey.from_env("MY_KEY"), PlatformKey.from_file(hex_file),
              PlatformKey.from_file(keystore)]

    assert {key.address for key in loaded} == {ADDRESS}
    assert all(DEV_PLATFORM_KEY[2:] not in repr(key) for key in loaded)


def test_an_unreadable_key_is_refused_without_quoting_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(bytes.fromhex(DEV_PLATFORM_KEY[2:]), "pw", iterations=2)))
    monkeypatch.setenv("BINDLEDGER_PLATFORM_KEY_PASSWORD", "wrong")
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    almost = DEV_PLATFORM_KEY[:-2]  # one byte short

    loads: list[tuple[Callable[[], PlatformKey], str]] = [
        (lambda: PlatformKey(almost), "not a secp256k1 private key"),
        (lambda: PlatformKey.from_env("NO_SUCH_KEY"), "NO_SUCH_KEY holds no platform key"),
        (lambda: PlatformKey.from_file(tmp_path / "none"), "cannot read key file"),
        (lambda: PlatformKey.from_file(keystore), "cannot decrypt keystore"),
    ]
    for load, reason in loads:
        with pytest.raises(KeyUnreadableError, match=reason) as refused:
            load()
        assert almost[2:] not in str(refused.value)


def test_the_reference_secret_is_hidden_and_must_be_long_enough() -> None:
    assert DEV_REF_SECRET not in repr(REFS)
    with pytest.raises(WeakSecretError, match="at least 16 bytes"):
        References("short")


def test_raw_values_become_the_references_the_servers_drafts_make() -> None:
    server = Referencer(DEV_REF_SECRET.encode())
    loan = build({"type": "LoanCreation", "subject": "110105199001011234x", "loan": "LN-7",
                  "dueTimes": [1_800_000_000], "amounts": [500]})
    contact = build({"type": "CollectionContact", "subject": "S", "loan": "LN-7",
                     "channel": "138 0013 8000"})
    change = build({"type": "ChannelChange", "subject": "S", "loan": "LN-7",
                    "channel": "6222 0000 1111"})

    assert isinstance(loan, LoanCreation)
    assert loan.subject == server.subject("110105199001011234X")
    assert loan.loan == server.loan(ADDRESS, "LN-7")
    assert isinstance(contact, CollectionContact) and contact.channel == server.phone("13800138000")
    assert isinstance(change, ChannelChange) and change.channel == server.account("6222 0000 1111")
    assert (loan.prev, loan.timestamp, loan.platform) == (ZERO_HASH, 1_700_000_000, ADDRESS)


def test_a_draft_written_for_the_draft_api_signs_as_it_stands() -> None:
    draft: dict[str, object] = {
        "type": "Binding", "subjectId": "110105199001011234", "action": "BIND",
        "phone": "138 0013 8000", "accountId": "LOAN-0001", "factors": ["SMS_OTP", "LIVENESS"]}
    record = build(draft)

    assert isinstance(record, Binding)
    assert record.subject == REFS.subject("110105199001011234")
    assert record.account == REFS.account("LOAN-0001")
    with pytest.raises(RecordDecodeError, match="give subject or subjectId, not both"):
        build({**draft, "subject": "110105199001011234"})


def test_references_given_as_references_are_kept() -> None:
    subject = REFS.subject("S-9")
    record = build({"type": "Binding", "subject": "0x" + subject.hex(), "action": "BIND",
                    "phone": "+8613800138000", "account": "0x" + "00" * 32, "factors": 3,
                    "prev": "0x" + "11" * 32, "timestamp": 5})
    assert isinstance(record, Binding)
    assert (record.subject, record.account, record.factors) == (subject, bytes(32), 3)
    assert (record.prev, record.timestamp) == (b"\x11" * 32, 5)


@pytest.mark.parametrize(("doc", "reason"), [
    ({"type": "Refusal"}, "record type must be one of"),
    ({"type": "Verification", "subject": "S", "method": "SMS_OTP", "passed": True,
      "phone": "13800138000", "platform": "0x" + "12" * 20},
     "Verification.platform is 0x1212"),
    ({"type": "Verification", "subject": 110105199001011234, "method": "SMS_OTP",
      "passed": True, "phone": "13800138000"}, "Verification.subject must be a string"),
    ({"type": "Verification", "subject": "S", "method": "SMS_OTP", "passed": True,
      "phone": "0x" + "31" * 32}, "Verification.phone does not look like a keyed reference"),
    ({"type": "Binding", "subject": "S", "action": "BIND", "phone": "13800138000",
      "account": "A", "factors": ["FINGERPRINT"]}, "Binding.factors must name methods"),
    ({"type": "Verification", "subject": "S", "method": "SMS_OTP", "passed": True,
      "phone": "13800138000", "signature": "0x"}, "the document is signed already"),
])
def test_a_document_that_makes_no_record_is_refused_saying_why(
        doc: dict[str, object], reason: str) -> None:
    with pytest.raises((RecordDecodeError, ValueError), match=reason) as refused:
        build(doc)
    assert "110105199001011234" not in str(refused.value)
