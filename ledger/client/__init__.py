"""The platform's side of BindLedger: a client library that keeps the platform's secrets home.

A platform computes keyed references of phone numbers, ID numbers and loan numbers itself,
under the consortium's reference secret (`references`), signs each record with its own key
under the deployment's EIP-712 domain (`signing`, `documents`), and sends only the signed
records to the API (`transport`, which retries what is safe to retry: a signed record sent
again is answered with the stored one). It fetches proof bundles and timelines once their
anchor is final and verifies them against a chain the caller names, with the same code as
`bindledger verify` (`client`). Neither the key nor the secret nor any raw value ever leaves
the process.
"""

from ledger.client.client import LedgerClient, Stored, verify_proof, verify_timeline_on
from ledger.client.documents import record_from_document
from ledger.client.errors import (
    ChainConflict,
    ClientError,
    ClientRejected,
    KeyUnreadableError,
    NotFinalYet,
    ServerUnavailable,
    UnexpectedAnswer,
)
from ledger.client.references import References
from ledger.client.signing import PlatformKey
from ledger.client.transport import RetryPolicy

__all__ = [
    "ChainConflict",
    "ClientError",
    "ClientRejected",
    "KeyUnreadableError",
    "LedgerClient",
    "NotFinalYet",
    "PlatformKey",
    "References",
    "RetryPolicy",
    "ServerUnavailable",
    "Stored",
    "UnexpectedAnswer",
    "record_from_document",
    "verify_proof",
    "verify_timeline_on",
]
