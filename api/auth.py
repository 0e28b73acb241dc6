"""Who is calling: the X-API-Key header resolved to a role and the party that holds the key.

Three roles (README, "Access"): a platform writes and reads its own records, a regulator reads
and verifies everything and freezes, an admin operates the service. Routes declare the roles
they admit with the dependencies below; which records a caller may then see is the routes'
business. Verification needs no key at all, but a key that is sent must be known, on every
route: a misconfigured client learns at once, not when it first writes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from ledger.config import Admin, Platform, Regulator, check_unique_api_keys

API_KEY_HEADER = "X-API-Key"

# Declared by the routes that need a key, so that the OpenAPI document (and the Authorize
# button of /docs) shows which do; the key itself is read once, by `identify`.
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False,
    description="the API key of a platform, a regulator or an admin",
)

# A 401 tells the client how to authenticate (RFC 9110 11.6.1).
_CHALLENGE = {"WWW-Authenticate": "APIKey"}


class Role(StrEnum):
    """What an API key may do; each key has exactly one (ledger.config checks)."""

    PLATFORM = "platform"
    REGULATOR = "regulator"
    ADMIN = "admin"

    @property
    def possessive(self) -> str:
        """How a refusal names a key of this role: "a platform's", "an admin's"."""
        article = "an" if self.value[0] in "aeiou" else "a"
        return f"{article} {self.value}'s"


@dataclass(frozen=True)
class Caller:
    """The holder of the key a request came with, and its role."""

    role: Role
    party: Platform | Regulator | Admin

    @classmethod
    def of(cls, holder: Platform | Regulator | Admin) -> Caller:
        return cls(Role(holder.ROLE), holder)

    @property
    def platform(self) -> Platform | None:
        """The caller when it is a platform: a platform's reach ends at its own records."""
        return self.party if isinstance(self.party, Platform) else None


class Keyring:
    """Every API key of every role. Keys are compared as SHA-256 digests with
    `hmac.compare_digest`, each one every time: how long an answer takes tells nothing of
    which key, how much of one, or how long a key was matched."""

    def __init__(self, holders: Iterable[Platform | Regulator | Admin]) -> None:
        held = list(holders)
        check_unique_api_keys(held)  # else a key's role would be ambiguous
        self._callers = [(_digest(h.api_key), Caller.of(h)) for h in held]

    def resolve(self, api_key: str) -> Caller | None:
        given = _digest(api_key)
        found = None
        for digest, caller in self._callers:
            if hmac.compare_digest(digest, given):  # no early exit, see the class docstring
                found = caller
        return found


def _digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


async def identify(request: Request) -> Caller | None:
    """The caller, or None when the request has no key. An unknown key is a 401 on every
    route, public ones included (the app depends on this for every route). FastAPI runs it
    once per request, however many dependencies of a route ask for it."""
    api_key = request.headers.get(API_KEY_HEADER)
    if not api_key:
        return None
    caller = _keyring(request).resolve(api_key)
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key", _CHALLENGE)
    return caller


async def authenticate(
    caller: Annotated[Caller | None, Depends(identify)],
    _documented: Annotated[str | None, Security(api_key_header)],
) -> Caller:
    """The caller of a route that needs a key: 401 without one."""
    if caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, f"missing {API_KEY_HEADER} header", _CHALLENGE
        )
    return caller


AuthenticatedDep = Annotated[Caller, Depends(authenticate)]


def refusal(allowed: Iterable[Role], given: Role) -> str:
    """Why a key of role `given` is refused: the roles the route needs, and the key's."""
    needed = " or ".join(r.possessive for r in Role if r in allowed)
    return f"this route needs {needed} API key; the key given is {given.possessive}"


def caller_in(*allowed: Role) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    """A dependency admitting callers of the `allowed` roles only: 403 naming the roles."""

    async def admitted(caller: AuthenticatedDep) -> Caller:
        if caller.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal(allowed, caller.role))
        return caller

    return admitted


async def get_platform(
    caller: Annotated[Caller, Depends(caller_in(Role.PLATFORM))],
) -> Platform:
    assert isinstance(caller.party, Platform)
    return caller.party


async def get_regulator(
    caller: Annotated[Caller, Depends(caller_in(Role.REGULATOR))],
) -> Regulator:
    assert isinstance(caller.party, Regulator)
    return caller.party


async def get_admin(caller: Annotated[Caller, Depends(caller_in(Role.ADMIN))]) -> Admin:
    assert isinstance(caller.party, Admin)
    return caller.party


PlatformDep = Annotated[Platform, Depends(get_platform)]
RegulatorDep = Annotated[Regulator, Depends(get_regulator)]
AdminDep = Annotated[Admin, Depends(get_admin)]
# Readers of evidence: every role. A platform reads only its own (the routes see to that).
ReaderDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.REGULATOR, Role.ADMIN))]
# Who may seal and anchor now: a platform its own log, an admin every platform's.
AnchorerDep = Annotated[Caller, Depends(caller_in(Role.PLATFORM, Role.ADMIN))]

__all__ = [
    "API_KEY_HEADER",
    "AdminDep",
    "AnchorerDep",
    "AuthenticatedDep",
    "Caller",
    "Keyring",
    "PlatformDep",
    "ReaderDep",
    "RegulatorDep",
    "Role",
    "identify",
    "refusal",
]
