"""HTTP to the API with the retries that are safe for what the client sends.

Everything the client writes is a signed record (or a request to anchor), which the server
answers idempotently: a record stored before is answered with the stored one (200). So a
request whose answer was lost (connection reset, timeout), a 5xx and a 429 are sent again,
with bounded exponential backoff (or the server's Retry-After, within the same bound). Any
other 4xx is the request's fault and is never sent again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ledger.chain.redact import redact_url
from ledger.client.errors import ClientRejected, ServerUnavailable
from ledger.errors import LedgerValueError

API_KEY_HEADER = "X-API-Key"
# A request's whole answer, a batch of 100 records included, comes well within this.
DEFAULT_TIMEOUT_SECONDS = 30.0
# The longest a server's reason is kept in an exception: enough for any of BindLedger's.
MAX_DETAIL_CHARS = 2000


class RetryPolicyError(LedgerValueError):
    """A retry policy that could never send, or waits less than it may wait at first."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to send a request again.

    Requires attempts >= 1 and 0 <= base_delay <= max_delay. The wait before attempt n + 1 is
    base_delay * 2^(n-1) with full jitter, or the server's Retry-After, never above max_delay.
    """

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or not 0 <= self.base_delay <= self.max_delay:
            raise RetryPolicyError("RetryPolicy needs attempts >= 1 and 0 <= base_delay <= max_delay")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return random.uniform(ceiling / 2, ceiling)  # jitter: clients that failed together part


def is_retryable(status: int) -> bool:
    """A status worth sending the same request again for: the server's trouble, not ours."""
    return status == 429 or status >= 500


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, if it is given as seconds."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


def error_of(response: httpx.Response) -> tuple[str, str | None]:
    """The server's reason and error name from an error answer: `detail` of a JSON body
    (BindLedger's `{"detail", "error"}` or RFC 9457 problem details), else the body's text."""
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:MAX_DETAIL_CHARS] or response.reason_phrase), None
    if not isinstance(body, dict):
        return str(body)[:MAX_DETAIL_CHARS], None
    detail = body.get("detail", body.get("title"))
    if isinstance(detail, list):  # request validation: one reason per field
        detail = "; ".join(_validation_reason(item) for item in detail)
    error = body.get("error")
    if not isinstance(error, str):
        error = _problem_type(body.get("type"))
    text = str(detail) if detail is not None else response.reason_phrase
    return text[:MAX_DETAIL_CHARS], error


def _problem_type(value: Any) -> str | None:
    """The last segment of an RFC 9457 problem `type` URI (`.../ChainBreakError`), if any."""
    if not isinstance(value, str) or value in ("", "about:blank"):
        return None
    return value.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or None


def _validation_reason(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))


class Transport:
    """Requests to one API with one key. Raises ClientRejected for a 4xx (other than 429),
    ServerUnavailable when every attempt failed; returns the answer otherwise.

    The API key is sent in its header only; messages name the API by scheme, host and port.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self._where = redact_url(base_url)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.attempts_made = 0  # every attempt this transport has sent: for tests and bench

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send, retrying as the policy allows. Statuses in `accept` are returned as answers
        (for example 409 to a proof request), not raised."""
        last: str = "no attempt made"
        status: int | None = None
        for attempt in range(1, self._retry.attempts + 1):
            self.attempts_made += 1
            retry_after: float | None = None
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                # The message of httpx's error may hold the URL: name only its kind.
                last, status = f"{type(exc).__name__} (no answer)", None
            else:
                if response.status_code < 400 or response.status_code in accept:
                    return response
                detail, error = error_of(response)
                if not is_retryable(response.status_code):
                    raise ClientRejected(response.status_code, detail, error)
                last, status = f"{response.status_code}: {detail}", response.status_code
                retry_after = retry_after_seconds(response)
            if attempt < self._retry.attempts:
                self._sleep(self._retry.delay(attempt, retry_after))
        raise ServerUnavailable(
            f"{method} {path} at {self._where} failed {self._retry.attempts} time(s); "
            f"last: {last}",
            status,
        )
