"""The client facade: sign records as the platform, submit them, fetch and verify proofs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from ledger.chain.client import connect_chain
from ledger.client.documents import record_from_document
from ledger.client.errors import (
    ChainConflict,
    ClientRejected,
    KeyUnreadableError,
    NotFinalYet,
    UnexpectedAnswer,
)
from ledger.client.references import References
from ledger.client.signing import PlatformKey
from ledger.client.transport import RetryPolicy, Transport, error_of, retry_after_seconds
from ledger.core.bundle import ProofBundle
from ledger.core.encoding import from_hex, parse_address, to_hex
from ledger.core.records import ZERO_HASH, Domain, Record, SignedRecord
from ledger.core.timeline import Timeline
from ledger.core.verdict import Verdict
from ledger.timeline import TimelineVerdict, verify_timeline
from ledger.verify import verify_bundle

# The API's limit on one batch request (api/routes/records.py): longer lists are sent in parts.
MAX_BATCH_RECORDS = 100
# How often a proof or timeline that is not final yet is asked for again, unless the server
# says when (Retry-After).
POLL_SECONDS = 1.0
_EXPECTED_PREV = re.compile(r"prev must be (0x[0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Stored:
    """A record as the API stored it. `already_stored` is true when it was stored before (the
    answer to a resent record: 200, nothing new written); in a batch, when every record of its
    request was (the API answers for the request as a whole)."""

    id: int
    record_hash: bytes
    leaf_index: int
    subject: bytes
    platform: str
    already_stored: bool = False

    @classmethod
    def of(cls, doc: Mapping[str, Any], already_stored: bool) -> Stored:
        return cls(
            id=int(doc["id"]),
            record_hash=from_hex(doc["recordHash"], length=32, what="recordHash"),
            leaf_index=int(doc["leafIndex"]),
            subject=from_hex(doc["subject"], length=32, what="subject"),
            platform=str(doc["platform"]),
            already_stored=already_stored,
        )


class LedgerClient:
    """A platform's connection to one BindLedger API.

    `key` signs records (needed by `sign`); `references` turns raw values into keyed
    references (needed for documents with raw values). The client remembers the head of each
    subject it wrote, so records of one subject signed through it chain without naming `prev`;
    a subject written by another process too needs its `prev` given (ChainConflict names the
    head when the server does).
    """

    def __init__(
        self,
        api: str,
        api_key: str | None,
        *,
        key: PlatformKey | None = None,
        references: References | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = Transport(api, api_key, retry=retry, timeout=timeout, sleep=sleep)
        self.key = key
        self.references = references
        self._sleep, self._clock = sleep, clock
        self._domain: Domain | None = None
        self._heads: dict[bytes, bytes] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    # -- signing -----------------------------------------------------------------------------

    def domain(self) -> Domain:
        """The deployment's EIP-712 domain: chain id and contract as the server reports them
        (`GET /healthz`, which answers with them when degraded too); name and version are
        fixed by the specification. A platform that would not sign for whatever domain a
        server names pins its own with `use_domain`."""
        if self._domain is None:
            response = self.transport.request("GET", "/healthz", accept=frozenset({503}))
            with _answer_of("GET /healthz"):
                body = response.json()
                self._domain = Domain(int(body["chainId"]), parse_address(body["contract"]))
        return self._domain

    def use_domain(self, domain: Domain) -> None:
        """Sign under `domain` without asking the server (offline signing)."""
        self._domain = domain

    def head(self, subject: bytes) -> bytes:
        """The subject's latest record as this client knows it (zero before its first)."""
        return self._heads.get(subject, ZERO_HASH)

    def set_head(self, subject: bytes, head: bytes) -> None:
        """Tell the client the subject's head (after a ChainConflict, or from elsewhere)."""
        self._heads[subject] = head

    def record(self, document: Mapping[str, Any]) -> Record:
        """The record a document describes (ledger.client.documents), raw values made into
        references, `prev` this client's head of the subject, `timestamp` now."""
        if self.key is None:
            raise KeyUnreadableError("a client that builds records needs the platform key")
        return record_from_document(
            document, self.key.address, self.references, self.head, int(self._clock())
        )

    def sign(self, record: Record | Mapping[str, Any]) -> SignedRecord:
        """Sign a record (or a document, built with `record`) with the platform's key, and
        take it as the subject's head for the next record this client builds."""
        if self.key is None:
            raise KeyUnreadableError("a client that signs needs the platform key")
        built = record if isinstance(record, Record) else self.record(record)
        signed = self.key.sign(built, self.domain())
        if built.EXTENDS_CHAIN:
            self._heads[built.subject] = built.digest(self.domain())
        return signed

    # -- writing -----------------------------------------------------------------------------

    def submit(self, signed: SignedRecord, *, rules: bool = False) -> Stored:
        """Store one signed record: in the log (`POST /v1/records/signed`), or with `rules`
        through the contract first (`POST /v1/subjects/records/signed`). Safe to call again
        for the same record. Raises ClientRejected (ChainConflict for a stale `prev`) or
        ServerUnavailable."""
        path = "/v1/subjects/records/signed" if rules else "/v1/records/signed"
        try:
            response = self.transport.request("POST", path, json=signed.to_json())
        except ClientRejected as exc:
            stored = self._stored_before(exc, [signed])
            if stored is None:
                self._forget([signed])
                raise self._conflict(exc, signed) from None
            return stored[0]
        with _answer_of(f"POST {path}"):
            return Stored.of(response.json(), response.status_code == httpx.codes.OK)

    def submit_batch(self, batch: Sequence[SignedRecord]) -> list[Stored]:
        """Store signed records in the log, up to 100 a request, each request all or none.
        Safe to call again with the same records. Raises as `submit` does."""
        stored: list[Stored] = []
        for start in range(0, len(batch), MAX_BATCH_RECORDS):
            part = batch[start : start + MAX_BATCH_RECORDS]
            body = {"records": [signed.to_json() for signed in part]}
            try:
                response = self.transport.request("POST", "/v1/records/signed/batch", json=body)
            except ClientRejected as exc:
                before = self._stored_before(exc, part)
                if before is None:
                    self._forget(part)
                    raise self._conflict(exc, None) from None
                stored += before
                continue
            again = response.status_code == httpx.codes.OK
            with _answer_of("POST /v1/records/signed/batch"):
                stored += [Stored.of(doc, again) for doc in response.json()["records"]]
        return stored

    def find(self, record_hash: bytes) -> Stored | None:
        """The stored record with this hash, or None (`GET /v1/records?hash=`)."""
        response = self.transport.request(
            "GET", "/v1/records", params={"hash": to_hex(record_hash)}, accept=frozenset({404})
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        with _answer_of("GET /v1/records?hash="):
            return Stored.of(response.json(), already_stored=True)

    def anchor(self) -> dict[str, Any]:
        """Ask the server to seal and anchor the platform's log now (`POST /v1/anchor`)."""
        body: dict[str, Any] = self.transport.request("POST", "/v1/anchor").json()
        return body

    # -- reading -----------------------------------------------------------------------------

    def proof(self, record_id: int, *, wait: float = 0.0) -> ProofBundle:
        """The record's proof bundle. Until its anchor is final the server answers 409: then
        this asks again for up to `wait` seconds, and raises NotFinalYet if it is still not."""
        response = self._when_final(f"/v1/records/{record_id}/proof", wait)
        with _answer_of("GET /v1/records/{id}/proof"):
            return ProofBundle.from_json(response.json())

    def timeline(self, subject: bytes, *, wait: float = 0.0) -> Timeline:
        """The subject's timeline (`bindledger.timeline/1`), waiting as `proof` does."""
        response = self._when_final(f"/v1/subjects/{to_hex(subject)}/timeline", wait)
        with _answer_of("GET /v1/subjects/{ref}/timeline"):
            return Timeline.from_json(response.json())

    def _when_final(self, path: str, wait: float) -> httpx.Response:
        deadline = time.monotonic() + wait
        while True:
            response = self.transport.request("GET", path, accept=frozenset({409}))
            if response.status_code != httpx.codes.CONFLICT:
                return response
            left = deadline - time.monotonic()
            if left <= 0:
                detail, error = error_of(response)
                raise NotFinalYet(response.status_code, detail, error)
            self._sleep(min(retry_after_seconds(response) or POLL_SECONDS, left))

    def _stored_before(
        self, exc: ClientRejected, sent: Sequence[SignedRecord]
    ) -> list[Stored] | None:
        """A 409 about a stale `prev` may answer records stored before, whose subject has moved
        on since (a rule record resent after a lost answer): then they are the answer, as a
        resent log record's is. None when the 409 is something else or a record is not stored."""
        if not _is_chain_break(exc):
            return None
        domain = self.domain()
        found = [self.find(signed.record.digest(domain)) for signed in sent]
        return None if any(f is None for f in found) else [f for f in found if f is not None]

    def _forget(self, refused: Sequence[SignedRecord]) -> None:
        """Refused records are no subject's head: the head goes back to what each one named
        as `prev`, latest first, so the next record signed chains on what is stored."""
        domain = self.domain()
        for signed in reversed(refused):
            record = signed.record
            if self._heads.get(record.subject) == record.digest(domain):
                self._heads[record.subject] = record.prev

    def _conflict(self, exc: ClientRejected, signed: SignedRecord | None) -> ClientRejected:
        """ChainConflict naming the head the server expects, which the client then takes as
        the subject's head (for `signed`'s subject), so a record built again chains on it."""
        if not _is_chain_break(exc):
            return exc
        found = _EXPECTED_PREV.search(exc.detail)
        expected = bytes.fromhex(found.group(1)[2:]) if found else None
        if expected is not None and signed is not None:
            self._heads[signed.record.subject] = expected
        return ChainConflict(exc.status, exc.detail, exc.error, expected)


@contextmanager
def _answer_of(request: str) -> Iterator[None]:
    """Turns an answer that cannot be read as the API's into UnexpectedAnswer."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:  # BundleDecodeError is a ValueError
        raise UnexpectedAnswer(
            f"{request}: the answer is not BindLedger's ({type(exc).__name__}: {exc})"
        ) from None


def _is_chain_break(exc: ClientRejected) -> bool:
    """A 409 about the subject's hash chain, known by its error name or, where an error body
    names none, by the reason the server gives."""
    return exc.status == httpx.codes.CONFLICT and (
        exc.error == "ChainBreakError" or "extend the subject's hash chain" in exc.detail
    )


def verify_proof(bundle: ProofBundle, chain: str) -> Verdict:
    """Check a proof bundle against the chain at JSON-RPC URL `chain`, the caller's choice of
    node: the same checks as `bindledger verify`. Raises ChainUnreachableError when the chain
    does not answer (nothing concluded)."""
    return verify_bundle(bundle, connect_chain(chain))


def verify_timeline_on(timeline: Timeline, chain: str) -> TimelineVerdict:
    """Check a timeline against the chain at JSON-RPC URL `chain`, as `verify_proof` does."""
    return verify_timeline(timeline, connect_chain(chain))
