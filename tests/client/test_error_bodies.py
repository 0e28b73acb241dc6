"""The server's reason is read from any error body it may send: BindLedger's
`{"detail", "error"}`, RFC 9457 problem details (`detail`, the error named by the `type` URI),
request validation's list of reasons, or plain text; and the retry delays stay in bounds."""

from __future__ import annotations

import httpx
import pytest

from ledger.client import RetryPolicy
from ledger.client.transport import error_of, retry_after_seconds


def answer(status: int, content: bytes, content_type: str = "application/json",
           **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content,
                          headers={"Content-Type": content_type, **headers})


@pytest.mark.parametrize(("response", "detail", "error"), [
    (answer(409, b'{"detail": "prev must be 0x00", "error": "ChainBreakError"}'),
     "prev must be 0x00", "ChainBreakError"),
    (answer(409, b'{"type": "https://bindledger.example/problems/ChainBreakError", '
                 b'"title": "Conflict", "status": 409, "detail": "prev must be 0x00"}',
            "application/problem+json"),
     "prev must be 0x00", "ChainBreakError"),
    (answer(422, b'{"type": "about:blank", "title": "Unprocessable", "status": 422}',
            "application/problem+json"),
     "Unprocessable", None),
    (answer(422, b'{"detail": [{"loc": ["body", "records", 0], "msg": "bad"}, '
                 b'{"loc": ["body"], "msg": "worse"}], "error": "RequestValidationError"}'),
     "records.0: bad; worse", "RequestValidationError"),
    (answer(502, b"<html>Bad Gateway</html>", "text/html"), "<html>Bad Gateway</html>", None),
    (answer(500, b""), "Internal Server Error", None),
])
def test_the_reason_is_read_from_every_kind_of_error_body(
        response: httpx.Response, detail: str, error: str | None) -> None:
    assert error_of(response) == (detail, error)


def test_retry_after_in_seconds_is_honoured_within_the_bound_and_a_date_falls_back() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=4.0)

    assert retry_after_seconds(answer(429, b"", **{"Retry-After": "2"})) == 2.0
    assert retry_after_seconds(answer(429, b"", **{"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})) is None
    assert policy.delay(1, 2.0) == 2.0 and policy.delay(1, 600.0) == 4.0
    assert all(0.5 <= policy.delay(1, None) <= 1.0 for _ in range(50))
    assert all(2.0 <= policy.delay(5, None) <= 4.0 for _ in range(50))  # capped
    with pytest.raises(ValueError, match="attempts >= 1"):
        RetryPolicy(attempts=0)
