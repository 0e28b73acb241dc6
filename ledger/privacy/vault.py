"""The evidence vault: evidence behind records, encrypted per subject, and its erasure.

A platform attaches evidence to one of its records. The vault encrypts it with the subject's
data key (AES-256-GCM; the key made on first use and stored wrapped, see ledger.privacy.keys),
keeps the ciphertext with a salt, and writes an Evidence record beside the subject's chain
carrying the salted commitment: anchored like any record, it shows later that the evidence
read back is the evidence attached, and when.

Erasing a subject writes an Erasure record and destroys the subject's data key (and, for
good measure, the ciphertexts) in one store transaction: the evidence is unreadable by anyone,
while the records, which hold keyed references and hashes only, stay and still verify.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.config import Platform
from ledger.core.records import Erasure, ErasureReason, Evidence, Record
from ledger.errors import LedgerGoneError, LedgerLookupError, LedgerStateError, LedgerValueError
from ledger.privacy.beside import ATTEMPTS, write_beside
from ledger.privacy.commitment import commit, new_salt
from ledger.privacy.keys import (
    NONCE_SIZE,
    KeyRing,
    key_scope,
    new_data_key,
    rotate_data_keys,
    unwrap,
    wrap,
)
from ledger.service import ChainBreakError, Ledger
from ledger.store.base import (
    ErasureRow,
    EvidenceRow,
    RecordRow,
    StoreConflictError,
    SubjectErasedError,
    WrappedKey,
)

# A carrier's answer, a delivery receipt, a liveness result or a consent text: kilobytes, a
# scanned document at most. Larger files belong in a document store, committed to here.
MAX_EVIDENCE_BYTES = 1024 * 1024
MAX_MEDIA_TYPE_LENGTH = 127
_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(;[ ]?{_TOKEN}=[a-z0-9._-]{{1,40}})*")
_EVIDENCE_LABEL = b"bindledger/evidence/v1\x00"


class EvidenceTooLargeError(LedgerValueError):
    """The evidence is larger than MAX_EVIDENCE_BYTES."""


class MediaTypeError(LedgerValueError):
    """The evidence's media type is missing or not `type/subtype` (RFC 6838)."""


class EvidenceExistsError(LedgerStateError):
    """The record has evidence already."""


class EvidenceNotFoundError(LedgerLookupError):
    """The record has no evidence."""


class EvidenceErasedError(LedgerGoneError):
    """The evidence's subject was erased: its data key is destroyed."""


class NothingToEraseError(LedgerLookupError):
    """The platform holds no records of the subject."""


class EvidenceCorruptError(LedgerStateError):
    """Stored evidence does not decrypt under its subject's data key."""


@dataclass(frozen=True)
class OpenedEvidence:
    """Evidence read back: its stored row (salt, commitment) and its decrypted content."""

    row: EvidenceRow
    content: bytes


@dataclass(frozen=True)
class Erased:
    row: ErasureRow
    already: bool  # erased before this request: nothing new was written


def check_media_type(media_type: str | None) -> str:
    """The media type, lower case and without spaces around it; raises MediaTypeError."""
    value = (media_type or "").strip().lower()
    if len(value) > MAX_MEDIA_TYPE_LENGTH or not _MEDIA_TYPE.fullmatch(value):
        raise MediaTypeError(
            "evidence needs its media type (Content-Type), as type/subtype, e.g. "
            "application/pdf or application/json"
        )
    return value


def erased_message(erasure: ErasureRow) -> str:
    when = datetime.fromtimestamp(erasure.erased_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"the subject's evidence was erased on {when}, record {erasure.record_id}"


class Vault:
    """The evidence of one ledger's records, in the ledger's store."""

    def __init__(self, ledger: Ledger, keys: KeyRing) -> None:
        self.ledger = ledger
        self.store = ledger.store
        self.keys = keys

    def attach(
        self, platform: Platform, record: RecordRow, media_type: str, content: bytes
    ) -> EvidenceRow:
        """Encrypt and keep `content` as the evidence of `record` (a record of `platform`),
        and write the Evidence record committing to it.

        Raises EvidenceTooLargeError, MediaTypeError, EvidenceExistsError, or
        EvidenceErasedError when the subject was erased."""
        media_type = check_media_type(media_type)
        if len(content) > MAX_EVIDENCE_BYTES:
            raise EvidenceTooLargeError(
                f"evidence is larger than {MAX_EVIDENCE_BYTES} bytes (MAX_EVIDENCE_BYTES)"
            )
        if not content:
            raise EvidenceTooLargeError("evidence is empty")
        erasure = self.store.erasure(record.platform, record.subject)
        if erasure is not None:
            raise EvidenceErasedError(f"{erased_message(erasure)}: no evidence is kept since")
        if self.store.evidence_of_record(record.id) is not None:
            raise EvidenceExistsError(f"record {record.id} has evidence already")
        data_key = self._data_key(record.platform, record.subject)
        salt = new_salt()
        commitment = commit(salt, media_type, content)
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = AESGCM(data_key).encrypt(nonce, content, _aad(record, media_type))

        def build(prev: bytes) -> Record:
            return Evidence(platform=record.platform, subject=record.subject, prev=prev,
                            timestamp=self.ledger.now(), record=record.record_hash,
                            commitment=commitment)

        written = write_beside(self.ledger, platform, record.subject, build)
        row = EvidenceRow(record.id, written.row.id, record.platform, record.subject,
                          media_type, len(content), salt, commitment, nonce, ciphertext,
                          self.ledger.now())
        try:
            self.store.add_evidence(row)
        except StoreConflictError:
            raise EvidenceExistsError(f"record {record.id} has evidence already") from None
        return row

    def read(self, record: RecordRow) -> OpenedEvidence:
        """The record's evidence, decrypted. Raises EvidenceNotFoundError, or
        EvidenceErasedError ("erased on ..., record N") once its subject is erased."""
        row = self.store.evidence_of_record(record.id)
        erasure = self.store.erasure(record.platform, record.subject)
        if erasure is not None:
            raise EvidenceErasedError(erased_message(erasure))
        if row is None:
            raise EvidenceNotFoundError(f"record {record.id} has no evidence")
        return self._open(record, row)

    def evidence_of_subject(self, platform: str, subject: bytes) -> list[OpenedEvidence]:
        """The subject's evidence, decrypted; empty once the subject is erased."""
        if self.store.erasure(platform, subject) is not None:
            return []
        opened = []
        for row in self.store.evidence_of_subject(platform, subject):
            record = self.store.get_record(row.record_id)
            assert record is not None  # evidence references its record
            opened.append(self._open(record, row))
        return opened

    def erase(self, platform: Platform, subject: bytes,
              reason: ErasureReason = ErasureReason.REQUEST) -> Erased:
        """Write the subject's Erasure record and destroy its data key, in one store
        transaction: a failure or a crash leaves both done or neither, never a record of an
        erasure that did not happen, nor a key destroyed that no record accounts for. Erasing
        again returns the first erasure. Raises NothingToEraseError for an unknown subject,
        ErasureNotStoredError when the store failed (nothing was erased: ask again)."""
        known = self.store.erasure(platform.address, subject)
        if known is not None:
            return Erased(known, already=True)
        if self.store.last_record_of_subject(platform.address, subject) is None:
            raise NothingToEraseError("no records of this subject here")
        items = len(self.store.evidence_of_subject(platform.address, subject))
        for attempt in range(ATTEMPTS):
            record = Erasure(platform=platform.address, subject=subject,
                             prev=self.ledger.subject_head(platform.address, subject),
                             timestamp=self.ledger.now(), reason=reason, items=items)
            try:
                _written, row = self.ledger.write_erasure(platform, record)
                return Erased(row, already=False)
            except SubjectErasedError:
                first = self.store.erasure(platform.address, subject)
                assert first is not None  # erasures are never undone
                return Erased(first, already=True)
            except ChainBreakError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def rotate(self) -> int:
        """Re-wrap every data key wrapped by a retired KEK with the current one; returns how
        many were. Safe to run while the vault is in use, and again."""
        return rotate_data_keys(self.store, self.keys)

    def _data_key(self, platform: str, subject: bytes) -> bytes:
        scope = key_scope(platform, subject)
        stored = self.store.vault_key(platform, subject)
        if stored is None:
            fresh = WrappedKey(platform, subject, self.keys.current.key_id,
                               wrap(self.keys.current, new_data_key(), scope))
            stored = self.store.add_vault_key(fresh)  # another writer's, if it came first
        return unwrap(self.keys.get(stored.kek_id), stored.wrapped, scope)

    def _open(self, record: RecordRow, row: EvidenceRow) -> OpenedEvidence:
        stored = self.store.vault_key(record.platform, record.subject)
        if stored is None or row.nonce is None or row.ciphertext is None:
            erasure = self.store.erasure(record.platform, record.subject)
            if erasure is not None:
                raise EvidenceErasedError(erased_message(erasure))
            raise EvidenceCorruptError(f"the evidence of record {record.id} has lost its key")
        scope = key_scope(record.platform, record.subject)
        data_key = unwrap(self.keys.get(stored.kek_id), stored.wrapped, scope)
        try:
            content = AESGCM(data_key).decrypt(
                row.nonce, row.ciphertext, _aad(record, row.media_type)
            )
        except InvalidTag:
            raise EvidenceCorruptError(
                f"the evidence of record {record.id} does not decrypt: it was altered"
            ) from None
        return OpenedEvidence(row, content)


def _aad(record: RecordRow, media_type: str) -> bytes:
    """Binds a ciphertext to its record: evidence moved to another record does not decrypt."""
    return _EVIDENCE_LABEL + record.record_hash + media_type.encode()
