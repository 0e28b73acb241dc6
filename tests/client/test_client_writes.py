"""The platform client writes to a real server: references it computes are the server's,
records it signs are stored, singly and in batches, and it retries what is safe to retry.

- A signed record sent again is answered with the stored one; a batch likewise.
- An answer lost on the way back (the server stored the record) is retried, and the record
  is stored once.
- 5xx and 429 are retried with backoff (Retry-After honoured, within the bound); a 4xx is
  the record's fault and is raised at once, with the server's reason.
- A record on a stale `prev` is a ChainConflict naming the subject's head.
"""

from __future__ import annotations

import httpx
import pytest

from ledger.client import (
    ChainConflict,
    ClientRejected,
    LedgerClient,
    PlatformKey,
    References,
    RetryPolicy,
    ServerUnavailable,
)
from ledger.config import DEV_PLATFORM_API_KEY
from ledger.core.encoding import to_hex
from ledger.core.records import ZERO_HASH, Consent, ConsentAction, Purpose
from tests.client.faults import DROP_ANSWER, Answer, faulty_proxy
from tests.support.anvil import free_port

POLICY = "0x" + "ab" * 32


def consent(subject: str) -> dict[str, object]:
    return {"type": "Consent", "subject": subject, "action": "GIVEN", "purpose": "LENDING",
            "policyHash": POLICY, "expiresAt": 2_000_000_000}


def verification(subject: str, phone: str = "+86 138 0013 8000") -> dict[str, object]:
    return {"type": "Verification", "subject": subject, "method": "SMS_OTP", "passed": True,
            "phone": phone}


def test_references_the_client_computes_are_the_servers_for_the_same_raw_values(
        api: str, references: References) -> None:
    with httpx.Client(base_url=api, headers={"X-API-Key": DEV_PLATFORM_API_KEY}) as http:
        written = http.post("/v1/records", json={
            "type": "Verification", "subjectId": "refs-110105199001011234x", "method": "SMS_OTP",
            "passed": True, "phone": "138 0013 8000"})
        assert written.status_code == 201, written.text
        stored = http.get(f"/v1/records/{written.json()['id']}").json()["record"]

    # The same borrower and number as a platform's other systems may write them.
    assert stored["subject"] == to_hex(references.subject("REFS-110105199001011234X"))
    assert stored["phone"] == to_hex(references.phone("+86 138-0013-8000"))
    assert stored["phone"] == to_hex(references.phone("+8613800138000"))


def test_a_record_signed_by_the_client_is_stored_and_resending_it_returns_the_stored_one(
        client: LedgerClient) -> None:
    signed = client.sign(verification("writes-single"))

    first = client.submit(signed)
    again = client.submit(signed)

    assert first.record_hash == signed.record.digest(client.domain())
    assert not first.already_stored
    assert again == type(first)(**{**first.__dict__, "already_stored": True})
    assert client.find(first.record_hash) == again


def test_records_of_one_subject_signed_in_turn_chain_without_naming_prev(
        client: LedgerClient) -> None:
    first = client.sign(consent("writes-chain"))
    second = client.sign(verification("writes-chain"))

    assert first.record.prev == ZERO_HASH
    assert second.record.prev == first.record.digest(client.domain())
    stored = client.submit_batch([first, second])
    assert [s.already_stored for s in stored] == [False, False]
    assert stored[0].leaf_index < stored[1].leaf_index


def test_a_batch_larger_than_a_request_is_sent_in_parts_and_resent_whole_safely(
        client: LedgerClient) -> None:
    signed = [client.sign(verification(f"writes-batch-{i % 7}")) for i in range(130)]

    stored = client.submit_batch(signed)
    again = client.submit_batch(signed)

    assert [s.record_hash for s in stored] == [
        s.record.digest(client.domain()) for s in signed]
    assert len({s.id for s in stored}) == 130 and not any(s.already_stored for s in stored)
    assert [s.id for s in again] == [s.id for s in stored]
    assert all(s.already_stored for s in again)


def test_an_answer_lost_after_the_server_stored_the_record_is_retried_and_stored_once(
        api: str, client: LedgerClient, platform_key: PlatformKey,
        references: References) -> None:
    signed = client.sign(verification("writes-lost-answer"))
    with faulty_proxy(api, [DROP_ANSWER]) as proxy, LedgerClient(
            proxy.url, DEV_PLATFORM_API_KEY, retry=RetryPolicy(base_delay=0.01)) as through:
        stored = through.submit(signed)

    assert proxy.requests_forwarded == 2  # the server handled the record twice
    assert through.transport.attempts_made == 2
    assert stored.already_stored  # the second time, as one stored before
    client.anchor()
    timeline = client.timeline(signed.record.subject, wait=30)
    assert [e.record_hash for e in timeline.entries] == [stored.record_hash]


def test_503_and_429_are_retried_with_backoff_honouring_retry_after(
        api: str, client: LedgerClient) -> None:
    signed = client.sign(verification("writes-overloaded"))
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=3.0)
    with faulty_proxy(api, [Answer(503), Answer(429, retry_after="2"), Answer(429, "60")]) as proxy, \
            LedgerClient(proxy.url, DEV_PLATFORM_API_KEY, retry=policy, sleep=waits.append) as c:
        stored = c.submit(signed)

    assert not stored.already_stored
    assert proxy.requests_forwarded == 1 and c.transport.attempts_made == 4
    assert 0.25 <= waits[0] <= 0.5  # the first backoff, with jitter
    assert waits[1:] == [2.0, 3.0]  # Retry-After, and never above the bound


def test_the_api_failing_every_time_is_server_unavailable_naming_only_its_host(
        api: str, client: LedgerClient) -> None:
    signed = client.sign(verification("writes-down"))
    with faulty_proxy(api, [Answer(502)] * 3) as proxy, LedgerClient(
            proxy.url, DEV_PLATFORM_API_KEY, retry=RetryPolicy(attempts=3),
            sleep=lambda _: None) as c, pytest.raises(ServerUnavailable) as failed:
        c.submit(signed)
    assert failed.value.status == 502
    assert "failed 3 time(s); last: 502: try again later" in str(failed.value)
    assert proxy.requests_forwarded == 0

    port = free_port()  # nothing listens there
    with LedgerClient(f"http://user:pw@127.0.0.1:{port}/secret-path?token=abc", "key-xyz",
                      retry=RetryPolicy(attempts=2), sleep=lambda _: None) as c, \
            pytest.raises(ServerUnavailable) as unreachable:
        c.submit(signed)
    said = str(unreachable.value)
    assert f"at http://127.0.0.1:{port} failed 2 time(s); last: ConnectError" in said
    assert not any(secret in said for secret in ("pw", "secret-path", "abc", "key-xyz"))
    assert unreachable.value.status is None


def test_a_record_the_server_refuses_is_raised_at_once_with_its_reason(
        client: LedgerClient, platform_key: PlatformKey) -> None:
    record = Consent(platform=platform_key.address, subject=b"110105199001011234".ljust(32, b"\0"),
                     prev=ZERO_HASH, timestamp=1_700_000_000, action=ConsentAction.GIVEN,
                     purpose=Purpose.LENDING, policy_hash=bytes(32), expires_at=2_000_000_000)
    signed = platform_key.sign(record, client.domain())  # past the client's own check

    with pytest.raises(ClientRejected) as refused:
        client.submit(signed)

    assert refused.value.status == 422
    assert "Consent.subject does not look like a keyed reference" in refused.value.detail
    assert client.transport.attempts_made == 2  # the domain, and the record once


def test_a_record_on_a_stale_prev_is_a_chain_conflict_naming_the_subjects_head(
        api: str, client: LedgerClient, platform_key: PlatformKey,
        references: References) -> None:
    head = client.submit(client.sign(consent("writes-conflict"))).record_hash
    with LedgerClient(api, DEV_PLATFORM_API_KEY, key=platform_key,
                      references=references) as other:  # knows nothing of the subject
        with pytest.raises(ChainConflict) as conflict:
            other.submit(other.sign(verification("writes-conflict")))
        assert conflict.value.expected_prev == head
        assert other.head(references.subject("writes-conflict")) == head

        again = other.submit(other.sign(verification("writes-conflict")))  # built on it
    assert not again.already_stored


def test_a_refused_record_is_not_the_head_the_next_record_chains_on(
        client: LedgerClient) -> None:
    first = client.submit(client.sign(consent("writes-refused-head")))
    refused = client.sign({"type": "Disbursement", "subject": "writes-refused-head",
                           "loan": "LOAN-NONE", "amount": 100})  # no such loan: the rules refuse
    with pytest.raises(ClientRejected) as rule:
        client.submit(refused, rules=True)
    assert rule.value.status == 404
    assert "RiskRulesUnknownLoan" in rule.value.detail

    after = client.sign(verification("writes-refused-head"))

    assert after.record.prev == first.record_hash
    assert not client.submit(after).already_stored
