"""Which members of a record are keyed references, and the check that they look like ones.

A platform that signs its records itself computes its references itself; one that puts a raw
phone or ID number into a reference member would publish it on chain and in the log. The check
cannot prove a value is an HMAC output, but it refuses what is plainly not one (see
ledger.core.refs.raw_value_reason).
"""

from __future__ import annotations

import dataclasses

from ledger.core.records import Record
from ledger.core.refs import raw_value_reason
from ledger.errors import LedgerValueError

# bytes32 members that name a person, a phone, an account, a loan or a channel. Not `prev`
# (a record hash, zero before a subject's first record), `policyHash` (the plain hash of a
# public policy text) or `refused` (a record hash).
REFERENCE_NAMES = frozenset({"subject", "phone", "account", "loan", "channel"})
# Members where the protocol writes zero on purpose: a binding's account when there is none.
ZERO_MEANS_NONE = frozenset({"account"})

REFERENCE_EXPLANATION = (
    "references are HMAC-SHA256 outputs under the consortium's reference secret "
    "(bindledger/<kind>/v1 label, then the normalised value), never raw identifiers "
    "or their plain hashes"
)


class RawValueReferenceError(LedgerValueError):
    """A record's reference member holds what looks like a raw value, not a keyed reference."""


def reference_members(kind: type[Record]) -> tuple[str, ...]:
    """The attribute names of `kind`'s reference members, in member order."""
    return tuple(
        f.name
        for f in dataclasses.fields(kind)
        if f.metadata["sol"] == "bytes32" and f.name in REFERENCE_NAMES
    )


def check_references(record: Record) -> None:
    """Raise RawValueReferenceError naming the first reference member that looks raw."""
    for name in reference_members(type(record)):
        value: bytes = getattr(record, name)
        none = name in ZERO_MEANS_NONE and value == bytes(len(value))
        reason = None if none else raw_value_reason(value)
        if reason is not None:
            raise RawValueReferenceError(
                f"{record.TYPE_NAME}.{_member_name(type(record), name)} does not look like a "
                f"keyed reference: {reason}; {REFERENCE_EXPLANATION}"
            )


def _member_name(kind: type[Record], attribute: str) -> str:
    """The EIP-712 member name of an attribute (`policy_hash` -> `policyHash`): members are
    listed in the order of the dataclass fields."""
    attributes = [f.name for f in dataclasses.fields(kind)]
    return kind.members()[attributes.index(attribute)][0]
