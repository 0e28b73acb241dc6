"""The salted commitment to a piece of evidence, which its Evidence record carries.

An unsalted hash of a short document (an OTP receipt naming a phone number) can be found by
trying the few candidates; 32 random bytes of salt make that impossible, and the salt is kept
in the vault beside the evidence: whoever can read the evidence can check the commitment, and
once the evidence is erased the commitment reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os

SALT_SIZE = 32
_LABEL = b"bindledger/evidence/v1\x00"


def new_salt() -> bytes:
    return os.urandom(SALT_SIZE)


def commit(salt: bytes, media_type: str, content: bytes) -> bytes:
    """SHA-256(label || salt || media type || 0 || content)."""
    return hashlib.sha256(_LABEL + salt + media_type.encode() + b"\x00" + content).digest()


def opens(commitment: bytes, salt: bytes, media_type: str, content: bytes) -> bool:
    """Whether (salt, media type, content) is what `commitment` commits to."""
    return hmac.compare_digest(commitment, commit(salt, media_type, content))
