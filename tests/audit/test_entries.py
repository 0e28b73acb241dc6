"""Checking one entry: the audit's fast path hashes every record type as ledger.core.records
does, recovers the platform's signature, and refuses any entry not in canonical form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_keys import keys  # type: ignore[attr-defined]

from ledger.audit.records import EntryChecker, EntryError
from ledger.core.records import SignedRecord
from tests.core.test_records import DOMAIN, OTHER_KEY, PLATFORM, VECTORS

CANONICAL = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def entry_of(signed: SignedRecord) -> bytes:
    return CANONICAL.encode(signed.to_json()).encode()


def signed_vectors() -> list[SignedRecord]:
    return [SignedRecord.from_json({**v["record"], "signature": v["signature"]})
            for v in VECTORS["records"]]


@pytest.mark.parametrize("signed", signed_vectors(), ids=lambda s: s.record.TYPE_NAME)
def test_every_record_type_hashes_as_the_ledger_hashes_it(signed: SignedRecord) -> None:
    facts = EntryChecker(DOMAIN, PLATFORM).check(entry_of(signed))
    record = signed.record
    assert facts.record_hash == record.digest(DOMAIN)
    assert (facts.subject, facts.prev) == (record.subject, record.prev)
    assert (facts.type_name, facts.extends_chain) == (record.TYPE_NAME, record.EXTENDS_CHAIN)
    assert facts.signature_error is None


def test_a_record_signed_by_another_key_names_the_signer() -> None:
    record = signed_vectors()[0].record
    other = keys.PrivateKey(OTHER_KEY).sign_msg_hash(record.digest(DOMAIN))
    forged = SignedRecord(record, other.to_bytes()[:64] + bytes([other.v + 27]))
    facts = EntryChecker(DOMAIN, PLATFORM).check(entry_of(forged))
    assert facts.record_hash == record.digest(DOMAIN)
    assert facts.signature_error == (
        f"signed by {keys.PrivateKey(OTHER_KEY).public_key.to_address()}, not by the platform "
        f"{PLATFORM}")


def spelled(change: dict[str, Any] | None = None, text: tuple[bytes, bytes] | None = None
            ) -> bytes:
    doc = {**signed_vectors()[0].to_json(), **(change or {})}
    entry = CANONICAL.encode(doc).encode()
    return entry.replace(*text, 1) if text else entry


@pytest.mark.parametrize(("entry", "reason"), [
    (spelled(text=(b'"prev":"0x', b'"prev":"0X')), "prev must be 0x-prefixed hex"),
    (spelled(text=(b'"subject":"0xb', b'"subject":"0xB')), "canonical form"),
    (spelled(text=(b'{"', b'{ "')), "canonical form"),
    (spelled(text=(b"}", b',"extra":1}')), "unknown field"),
    (spelled({"platform": PLATFORM.lower()}), "canonical form"),
    (spelled({"platform": "0x" + "11" * 20}), "a record of platform"),
    (spelled(text=(b'"type":"Binding"', b'"type":"Bindin"')), "unknown record type"),
    (b"\xff", "not JSON"),
])
def test_an_entry_out_of_canonical_form_is_refused_with_the_reason(
    entry: bytes, reason: str
) -> None:
    with pytest.raises(EntryError, match=reason):
        EntryChecker(DOMAIN, PLATFORM).check(entry)
