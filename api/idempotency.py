"""The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header): a client
that retries a write sends the key of its first attempt, and gets the first attempt's record
back instead of a second record.

The key is a Structured Field String (`"8e03978e-..."`); the bare token that many clients send
is taken too. Only digests are stored: the SHA-256 of the key, and a fingerprint of the request
body keyed with the deployment's reference secret, since the body holds raw identifiers (a
phone number has too few possible values for a plain hash to hide it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import Header, HTTPException, status
from pydantic import BaseModel

# The longest key taken; the draft names no limit, UUIDs take 36 characters.
MAX_IDEMPOTENCY_KEY_LENGTH = 255

# The keys key_digest takes, for the OpenAPI document: 1 to 255 printable ASCII characters,
# bare or quoted (a bare key neither starts nor ends with a space, and "" is an empty key).
# Documented, not validated by FastAPI: a key out of shape is a 400, as the draft says.
KEY_PATTERN = (r'^(?:[!-~]|[!#-~][ -~]{0,253}[!-~]|"[ -~]{0,253}[!#-~]|"[ -~]{1,255}")$')

_FINGERPRINT_DOMAIN = b"bindledger.idempotency-fingerprint/1\x00"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="makes a retried write safe (draft-ietf-httpapi-idempotency-key-header): "
        "the same key with the same body answers the first request's record with 200 and "
        "writes nothing; the same key with another body is a 422. Keys belong to the platform "
        f"that sends them. 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, "
        'quoted ("...") or not.',
        json_schema_extra={"pattern": KEY_PATTERN},
    ),
]

IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "a retry: the record this Idempotency-Key wrote before (nothing new "
                         "is written)"},
    400: {"description": "the Idempotency-Key header is empty, too long or not ASCII"},
}


def key_digest(header: str) -> bytes:
    """Requires `header` to be the Idempotency-Key header's value. Returns the SHA-256 of the
    key. Raises HTTPException 400 for a key that is empty, longer than
    MAX_IDEMPOTENCY_KEY_LENGTH or not printable ASCII."""
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not all(
        " " <= c <= "~" for c in key
    ):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII "
            "characters",
        )
    return hashlib.sha256(key.encode("ascii")).digest()


def fingerprint(secret: bytes, route: str, body: BaseModel) -> bytes:
    """The request's fingerprint: HMAC-SHA256 under `secret` of the route and the canonical
    JSON of the parsed body (sorted keys, no white space), so the same request sent with
    other formatting has the same fingerprint."""
    canonical = json.dumps(
        body.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    message = _FINGERPRINT_DOMAIN + route.encode() + b"\x00" + canonical.encode()
    return hmac.new(secret, message, hashlib.sha256).digest()
