"""The released versions of the BindLedger contract, each recognised by its runtime code.

A deployment is never upgraded in place: a new release is deployed beside the old one (naming it
as its predecessor), and evidence anchored in the old one must keep verifying. So a verifier does
not ask for the code of contracts/build/ alone, but for the code of any released version:
version 1 is frozen in contracts/releases/v1/ (it stored every head and answered `isHead`), the
current version is contracts/build/ (each platform's latest head only; heads are proven by the
`HeadAnchored` event of their transaction, as they can be in every version).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.artifacts import Artifact, load_artifact, load_release_artifact

CONTRACT_NAME = "BindLedger"
CURRENT_VERSION = 2
"""The interface version of contracts/build/BindLedger.json (its `interfaceVersion()`)."""
FROZEN_VERSIONS = (1,)
"""Earlier releases, whose artifacts are frozen under contracts/releases/v<N>/."""


@dataclass(frozen=True)
class Release:
    """One released version of the contract: its interface version and compiled artifact."""

    version: int
    artifact: Artifact


def current_release() -> Release:
    return Release(CURRENT_VERSION, load_artifact(CONTRACT_NAME))


def known_releases() -> tuple[Release, ...]:
    """Every released version, the current one first (the one most deployments run)."""
    frozen = tuple(
        Release(version, load_release_artifact(version, CONTRACT_NAME))
        for version in sorted(FROZEN_VERSIONS, reverse=True)
    )
    return (current_release(), *frozen)


def release_of(code: bytes, releases: tuple[Release, ...]) -> Release | None:
    """The release among `releases` whose runtime code `code` is, immutables aside; None if
    none is."""
    return next((r for r in releases if same_code(code, r.artifact)), None)


def same_code(code: bytes, artifact: Artifact) -> bool:
    """Whether deployed `code` is the artifact's runtime code, immutables aside.

    The constructor writes immutable values (EIP712's domain: chain id, this address, ...; the
    predecessor's address) into the runtime code, where the artifact has zeros; those bytes are
    compared as zeros.
    """
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    if len(code) != len(expected):
        return False
    masked = bytearray(code)
    for start, length in artifact.immutable_ranges:
        masked[start : start + length] = bytes(length)
    return bytes(masked) == expected
