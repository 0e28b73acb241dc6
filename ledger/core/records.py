"""Typed evidence records and their EIP-712 hashing and signatures.

Every fact BindLedger keeps is one of these records. A record names its platform (the
signer), its subject (a keyed reference, never a raw identifier), the hash of the
subject's previous record (so a subject's records form a hash chain) and the time the
platform asserts for it. Its hash is the EIP-712 digest under the deployment's domain,
which is exactly what the platform signs and what the contract recovers signers from.

Hashing is done here directly, each member encoded to its 32 bytes by hand and hashed with
keccak, rather than through eth-account's generic typed-data encoder or eth-abi: the schemas
are fixed and flat, and this path is many times faster; tests check both agree on every
kind. The only non-atomic members are arrays of unsigned integers (a loan's schedule),
hashed as EIP-712 says: keccak256 of the concatenated 32-byte encodings of the elements, and
byte strings (a refusal's call and revert data), hashed as keccak256 of their content.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Self

from coincurve import PublicKey as _PublicKey
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak as _keccak256
from eth_keys import keys  # type: ignore[attr-defined]
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.core.encoding import HexDecodeError, from_hex, parse_address, to_hex
from ledger.errors import LedgerValueError

HASH_SIZE = 32
SIGNATURE_SIZE = 65
ZERO_HASH = bytes(HASH_SIZE)
DOMAIN_NAME = "BindLedger"
DOMAIN_VERSION = "1"
# secp256k1 group order; signatures with s above half of it are malleable twins, which
# OpenZeppelin's ECDSA refuses, so we refuse them too.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_UINT_BITS = re.compile(r"uint(\d+)")
_ARRAY_SUFFIX = "[]"
# Three years of monthly installments: the contract walks a loan's schedule on creation and on
# each repayment, and refuses longer schedules to keep both under its gas budget.
MAX_INSTALLMENTS = 36
# A refused call carries one record (a 36-installment loan's is the largest, about 2.6 KB).
MAX_BYTES_MEMBER = 8 * 1024


class RecordDecodeError(LedgerValueError):
    """A record document is missing a field, has an unknown one, or a value of the wrong shape."""


class SignatureError(LedgerValueError):
    """A record's signature is malformed or was not made by the record's platform."""


class BindingAction(IntEnum):
    BIND = 0
    REBIND = 1
    UNBIND = 2


class VerificationMethod(IntEnum):
    SMS_OTP = 0
    LIVENESS = 1
    CARRIER_MATCH = 2
    SIM_SWAP_CHECK = 3


class ConsentAction(IntEnum):
    """What the subject did about a purpose (ISO/IEC TS 27560, W3C DPV ConsentStatus): gave
    consent, withdrew it, or refused it when asked. An expired consent is a GIVEN one whose
    `expiresAt` has passed (ledger.privacy.consent)."""

    GIVEN = 0
    WITHDRAWN = 1
    REFUSED = 2


class Purpose(IntEnum):
    """Why a subject's data is processed, in the lending process: each needs its own consent
    (or another legal basis, api/purposes.py); consent to one never covers another."""

    LENDING = 0  # the credit decision, the loan and its disbursement
    CONTACT = 1  # collection contact about an overdue loan (rule R3)
    IDENTITY_VERIFICATION = 2  # before the loan: OTP, liveness, carrier match, phone binding
    RISK_SHARING = 3  # the consortium's shared signals about the subject's phone and loans
    REPAYMENT_NOTICE = 4  # reminders of installments due: not part of lending consent
    MARKETING = 5  # offers of further credit: never implied by any other consent


class DisputeAction(IntEnum):
    OPEN = 0
    CLOSE = 1


def factor_mask(methods: Iterable[VerificationMethod]) -> int:
    """The bit set of verification methods, as carried in a binding's `factors` field."""
    mask = 0
    for method in methods:
        mask |= 1 << VerificationMethod(method)
    return mask


def factors_of(mask: int) -> list[VerificationMethod]:
    """The verification methods named by a `factors` bit set."""
    return [m for m in VerificationMethod if mask >> m & 1]


def _sol(sol_type: str, enum: type[IntEnum] | None = None) -> Any:
    return field(metadata={"sol": sol_type, "enum": enum})


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one BindLedger deployment."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    @functools.cached_property
    def separator(self) -> bytes:
        type_hash = keccak(
            b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
        )
        return keccak(
            abi_encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    type_hash,
                    keccak(self.name.encode()),
                    keccak(self.version.encode()),
                    self.chain_id,
                    self.verifying_contract,
                ],
            )
        )

    def to_eip712(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True)
class Record:
    """Fields every record has. Subclasses append their own, in EIP-712 member order."""

    platform: str = _sol("address")
    subject: bytes = _sol("bytes32")
    prev: bytes = _sol("bytes32")
    timestamp: int = _sol("uint64")

    TYPE_NAME: ClassVar[str] = ""
    # Whether the record becomes its subject's head, the `prev` of the subject's next record.
    EXTENDS_CHAIN: ClassVar[bool] = True
    # Whether a platform may submit records of this type (others only BindLedger writes).
    PLATFORM_WRITES: ClassVar[bool] = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _check_value(self.TYPE_NAME, f, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    @classmethod
    def members(cls) -> list[tuple[str, str]]:
        """The EIP-712 members (camelCase name, Solidity type), in order."""
        return [(_camel(f.name), f.metadata["sol"]) for f in dataclasses.fields(cls)]

    @classmethod
    def type_string(cls) -> str:
        inner = ",".join(f"{sol} {name}" for name, sol in cls.members())
        return f"{cls.TYPE_NAME}({inner})"

    @classmethod
    def type_hash(cls) -> bytes:
        return _type_hash(cls)

    def struct_hash(self) -> bytes:
        """EIP-712 hashStruct: keccak256(typeHash || encodeData of each member, in order)."""
        encoded = [encode(getattr(self, name)) for name, encode in _member_encoders(type(self))]
        return _keccak256(b"".join([self.type_hash(), *encoded]))

    def digest(self, domain: Domain) -> bytes:
        """The record hash: keccak256(0x1901 || domain separator || struct hash)."""
        return _keccak256(b"\x19\x01" + domain.separator + self.struct_hash())

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object: `type`, then each member; hex for bytes, names for enums."""
        out: dict[str, Any] = {"type": self.TYPE_NAME}
        for f in dataclasses.fields(self):
            out[_camel(f.name)] = _json_value(getattr(self, f.name))
        return out

    def to_eip712_message(self) -> dict[str, Any]:
        """The record as eth-account's typed-data message (for cross-checks and wallets)."""
        return {
            _camel(f.name): _eip712_value(v)
            for f, v in zip(dataclasses.fields(self), self._values(), strict=True)
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        """Parse the JSON form written by `to_json`; refuses missing and unknown members."""
        expected = {_camel(f.name): f for f in dataclasses.fields(cls)}
        present = set(doc) - {"type", "signature"}
        if unknown := present - set(expected):
            raise RecordDecodeError(f"{cls.TYPE_NAME}: unknown field(s) {sorted(unknown)}")
        if missing := set(expected) - present:
            raise RecordDecodeError(f"{cls.TYPE_NAME}: missing field(s) {sorted(missing)}")
        kwargs = {f.name: _parse_value(cls.TYPE_NAME, f, doc[name]) for name, f in expected.items()}
        return cls(**kwargs)

    def _values(self) -> list[Any]:
        return [getattr(self, f.name) for f in dataclasses.fields(self)]


@dataclass(frozen=True)
class Binding(Record):
    """A phone number bound to, re-bound to or unbound from a subject's loan account."""

    action: BindingAction = _sol("uint8", BindingAction)
    phone: bytes = _sol("bytes32")
    account: bytes = _sol("bytes32")
    factors: int = _sol("uint8")

    TYPE_NAME: ClassVar[str] = "Binding"


@dataclass(frozen=True)
class Verification(Record):
    """One verification of the subject's phone: its method, whether it passed, and when.

    For SIM_SWAP_CHECK, `passed` false means a swap was detected (a positive check).
    """

    method: VerificationMethod = _sol("uint8", VerificationMethod)
    passed: bool = _sol("bool")
    phone: bytes = _sol("bytes32")

    TYPE_NAME: ClassVar[str] = "Verification"


@dataclass(frozen=True)
class Consent(Record):
    """Consent given or withdrawn for one purpose, under one privacy-policy version."""

    action: ConsentAction = _sol("uint8", ConsentAction)
    purpose: Purpose = _sol("uint8", Purpose)
    policy_hash: bytes = _sol("bytes32")
    expires_at: int = _sol("uint64")

    TYPE_NAME: ClassVar[str] = "Consent"


@dataclass(frozen=True)
class LoanCreation(Record):
    """A loan created for the subject with its installment schedule.

    Installment i of `amounts[i]` is due at `due_times[i]` (seconds since the Unix epoch). The
    contract requires at least one and at most MAX_INSTALLMENTS installments, strictly
    increasing due times, and no zero amount.
    """

    loan: bytes = _sol("bytes32")
    due_times: tuple[int, ...] = _sol("uint64[]")
    amounts: tuple[int, ...] = _sol("uint128[]")

    TYPE_NAME: ClassVar[str] = "LoanCreation"


@dataclass(frozen=True)
class Disbursement(Record):
    """The subject's loan paid out (rules R1, R2, R3, R4, R7 apply)."""

    loan: bytes = _sol("bytes32")
    amount: int = _sol("uint128")

    TYPE_NAME: ClassVar[str] = "Disbursement"


@dataclass(frozen=True)
class Repayment(Record):
    """A repayment of `amount` received on the subject's loan."""

    loan: bytes = _sol("bytes32")
    amount: int = _sol("uint128")

    TYPE_NAME: ClassVar[str] = "Repayment"


@dataclass(frozen=True)
class ChannelChange(Record):
    """The loan's repayment channel changed to `channel`, a keyed reference (rule R4)."""

    loan: bytes = _sol("bytes32")
    channel: bytes = _sol("bytes32")

    TYPE_NAME: ClassVar[str] = "ChannelChange"


@dataclass(frozen=True)
class CollectionContact(Record):
    """The subject contacted about the loan through `channel`, a keyed reference (rule R3)."""

    loan: bytes = _sol("bytes32")
    channel: bytes = _sol("bytes32")

    TYPE_NAME: ClassVar[str] = "CollectionContact"


@dataclass(frozen=True)
class Dispute(Record):
    """A channel-takeover dispute on the loan opened or closed (rule R6 suspends late status)."""

    loan: bytes = _sol("bytes32")
    action: DisputeAction = _sol("uint8", DisputeAction)

    TYPE_NAME: ClassVar[str] = "Dispute"


@dataclass(frozen=True)
class Refusal(Record):
    """The contract refused a record of the subject under a rule: which record, and why.

    BindLedger writes it, signed with the platform's key, when a rule (R1-R9) refuses a record,
    so the subject's timeline shows the refusal where it happened. Like the refused record it
    is judged against the subject's head (`prev`), but it does not extend the subject's chain:
    the contract never holds it, and the next record still follows `prev`.

    `call` is the refused contract call's calldata (the record and its signature), so anyone
    can replay it with eth_call at `block` and get `revert`, the custom error, again. The
    contract attested the refusal first (attestRefusal, in block `block`), extending the
    subject's refusal chain with `call` and `revert`: a timeline without it is incomplete.
    """

    refused: bytes = _sol("bytes32")  # the refused record's hash
    rule: int = _sol("uint8")  # n of Rn
    call: bytes = _sol("bytes")
    revert: bytes = _sol("bytes")
    block: int = _sol("uint64")

    TYPE_NAME: ClassVar[str] = "Refusal"
    EXTENDS_CHAIN: ClassVar[bool] = False
    PLATFORM_WRITES: ClassVar[bool] = False


@dataclass(frozen=True)
class ModelRelease(Record):
    """A risk model put into service: the SHA-256 of its file, of its feature list, the seed of
    the synthetic population it was trained on, and the warning threshold it is governed by.

    BindLedger writes it, signed with the platform's key, under the fixed subject
    RISK_MODEL_SUBJECT and beside that subject's (empty) chain, so a platform's releases are
    all in one timeline. A RiskWarning names the model it came from by the same hash.
    """

    model: bytes = _sol("bytes32")  # SHA-256 of the model file's bytes
    features: bytes = _sol("bytes32")  # SHA-256 of the feature names, one per line, UTF-8
    seed: int = _sol("uint64")
    threshold: int = _sol("uint16")  # basis points of the calibrated probability

    TYPE_NAME: ClassVar[str] = "ModelRelease"
    EXTENDS_CHAIN: ClassVar[bool] = False
    PLATFORM_WRITES: ClassVar[bool] = False


# The subject under which a platform's model releases are logged: no keyed reference of a
# person (an HMAC output) can be expected to equal it.
RISK_MODEL_SUBJECT = keccak(b"bindledger.risk.model-releases")


@dataclass(frozen=True)
class RiskWarning(Record):
    """The risk model scored the subject at or above its threshold (rule R9 applies).

    `score` and `threshold` are basis points of the model's calibrated probability; `top` are
    the ids (positions in the model's feature list, whose hash is `features`) of the features
    that contributed most to the score, largest first. Written by BindLedger, signed with the
    platform's key, and relayed to the contract like the rule records: it extends the subject's
    chain, and the contract refuses the subject's disbursements at the platform (R9) until a
    passed liveness check and a passed SIM-swap check follow it in that chain.
    """

    model: bytes = _sol("bytes32")  # SHA-256 of the model file, as in its ModelRelease
    features: bytes = _sol("bytes32")
    score: int = _sol("uint16")
    threshold: int = _sol("uint16")
    top: tuple[int, ...] = _sol("uint8[]")

    TYPE_NAME: ClassVar[str] = "RiskWarning"
    PLATFORM_WRITES: ClassVar[bool] = False


class ErasureReason(IntEnum):
    REQUEST = 0  # the subject (through its platform) or a regulator asked for it
    RETENTION = 1  # the retention period of the data's purpose ended


class AccessRole(IntEnum):
    PLATFORM = 0
    REGULATOR = 1
    ADMIN = 2


class AccessPurpose(IntEnum):
    SERVICE = 0  # a platform serving its own customer
    SUPERVISION = 1  # a regulator supervising
    OPERATION = 2  # an operator running the service
    SUBJECT_COPY = 3  # a copy of the subject's data for the subject (PIPL art. 45)


@dataclass(frozen=True)
class Evidence(Record):
    """Evidence behind the record `record` (a carrier's answer, an OTP receipt, a consent
    text) is held encrypted in BindLedger's vault; `commitment` is its salted SHA-256.

    Written by BindLedger beside the subject's chain, signed with the platform's key. The salt
    stays in the vault: the anchored commitment reveals nothing and cannot be brute-forced,
    and once the subject is erased it is all that remains of the evidence.
    """

    record: bytes = _sol("bytes32")
    commitment: bytes = _sol("bytes32")

    TYPE_NAME: ClassVar[str] = "Evidence"
    EXTENDS_CHAIN: ClassVar[bool] = False
    PLATFORM_WRITES: ClassVar[bool] = False


@dataclass(frozen=True)
class Erasure(Record):
    """The subject's data key was destroyed: `items` pieces of evidence became unreadable.

    Written by BindLedger beside the subject's chain, signed with the platform's key; the
    subject's records (keyed references and hashes only) stay, and still verify.
    """

    reason: ErasureReason = _sol("uint8", ErasureReason)
    items: int = _sol("uint32")

    TYPE_NAME: ClassVar[str] = "Erasure"
    EXTENDS_CHAIN: ClassVar[bool] = False
    PLATFORM_WRITES: ClassVar[bool] = False


@dataclass(frozen=True)
class Access(Record):
    """A read of a subject's data through the API (PIPL art. 54), in BindLedger's access log.

    `platform` is the access log's own account, `subject` the subject read about (its keyed
    reference), `owner` the platform whose records were read, and `target` the record read
    (its hash) or, for a read of the whole subject, the subject's reference. `holder` is the
    name of the API key's holder (UTF-8) and `route` the method and route template. The reads
    of one subject form a hash chain in the access log (`prev`), as a platform's records do:
    a read left out of it breaks the chain.
    """

    role: AccessRole = _sol("uint8", AccessRole)
    holder: bytes = _sol("bytes")
    purpose: AccessPurpose = _sol("uint8", AccessPurpose)
    route: bytes = _sol("bytes")
    owner: str = _sol("address")
    target: bytes = _sol("bytes32")

    TYPE_NAME: ClassVar[str] = "Access"
    PLATFORM_WRITES: ClassVar[bool] = False


RECORD_TYPES: dict[str, type[Record]] = {
    t.TYPE_NAME: t
    for t in (
        Binding,
        Verification,
        Consent,
        LoanCreation,
        Disbursement,
        Repayment,
        ChannelChange,
        CollectionContact,
        Dispute,
        Refusal,
        Evidence,
        Erasure,
        Access,
        ModelRelease,
        RiskWarning,
    )
}


@dataclass(frozen=True)
class SignedRecord:
    """A record with its platform's 65-byte signature (r || s || v, v in {27, 28})."""

    record: Record
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {**self.record.to_json(), "signature": to_hex(self.signature)}

    @classmethod
    def from_json(cls, doc: object) -> SignedRecord:
        """Parse a record document with its `signature`; raises RecordDecodeError."""
        if not isinstance(doc, Mapping):
            raise RecordDecodeError("record must be a JSON object")
        type_name = doc.get("type")
        record_type = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
        if record_type is None:
            raise RecordDecodeError(
                f"unknown record type {doc.get('type')!r}; expected one of {sorted(RECORD_TYPES)}"
            )
        if "signature" not in doc:
            raise RecordDecodeError("record has no signature")
        try:
            signature = from_hex(doc["signature"], length=SIGNATURE_SIZE, what="signature")
        except HexDecodeError as exc:
            raise RecordDecodeError(str(exc)) from None
        return cls(record_type.from_json(doc), signature)


def sign_record(record: Record, domain: Domain, private_key: bytes) -> SignedRecord:
    """Sign `record` under `domain`. Requires the key to be the record's platform key."""
    key = keys.PrivateKey(private_key)
    if key.public_key.to_checksum_address() != record.platform:
        raise SignatureError(
            f"signing key {key.public_key.to_checksum_address()} is not the record's "
            f"platform {record.platform}"
        )
    sig = key.sign_msg_hash(record.digest(domain))
    return SignedRecord(record, sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27]))


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed `digest`; raises SignatureError if malformed."""
    return to_checksum_address(_recover_address(digest, signature))


def signer_address(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address that signed `digest`, unchecksummed: for checking records in bulk,
    where checksumming each recovered address would cost more than recovering it. Raises
    SignatureError if the signature is malformed, with the checks `verify_signature` makes."""
    return _recover_address(digest, signature)


def _recover_address(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address that signed `digest`; raises SignatureError if malformed.

    Recovers with coincurve (libsecp256k1) directly: through eth-keys' objects the same
    recovery costs three times as much. A signature coincurve refuses goes through eth-keys,
    which raises the error with the reason the API has always given.
    """
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if v not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    if not 0 < s <= _SECP256K1_N // 2:
        raise SignatureError("signature s is out of range (high-s signatures are malleable)")
    try:
        public = _PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
        return _keccak256(public.format(compressed=False)[1:])[-20:]
    except ValueError:
        pass
    try:
        sig = keys.Signature(r + signature[32:64] + bytes([v - 27]))
        return bytes(sig.recover_public_key_from_msg_hash(digest).to_canonical_address())
    except (BadSignature, ValueError) as exc:
        raise SignatureError(f"signature does not recover a key: {exc}") from None


def verify_signature(signed: SignedRecord, domain: Domain) -> bytes:
    """Check that the record's platform signed it; return the record hash.

    Raises SignatureError naming the recovered signer when it is not the platform.
    """
    digest = signed.record.digest(domain)
    signer = _recover_address(digest, signed.signature)
    # Compared as bytes: checksumming the recovered address costs more than recovering it.
    if signer != bytes.fromhex(signed.record.platform[2:]):
        raise SignatureError(
            f"signed by {to_checksum_address(signer)}, but the record names platform "
            f"{signed.record.platform}"
        )
    return digest


_TYPE_HASHES: dict[str, bytes] = {}


def _type_hash(cls: type[Record]) -> bytes:
    cached = _TYPE_HASHES.get(cls.TYPE_NAME)
    if cached is None:
        cached = _TYPE_HASHES[cls.TYPE_NAME] = keccak(cls.type_string().encode())
    return cached


_Encoder = Callable[[Any], bytes]
_MEMBER_ENCODERS: dict[type[Record], list[tuple[str, _Encoder]]] = {}


def _member_encoders(cls: type[Record]) -> list[tuple[str, _Encoder]]:
    """Each member's attribute name and EIP-712 encodeData function, in member order."""
    cached = _MEMBER_ENCODERS.get(cls)
    if cached is None:
        cached = _MEMBER_ENCODERS[cls] = [
            (f.name, _encoder(f.metadata["sol"])) for f in dataclasses.fields(cls)
        ]
    return cached


def _encoder(sol: str) -> _Encoder:
    """EIP-712 encodeData of one member of Solidity type `sol`, as 32 bytes. Values were
    checked against their type when the record was made (_check_typed)."""
    if sol == "address":
        return _encode_address
    if sol == "bytes32":
        return bytes
    if sol == "bytes":
        return _keccak256  # dynamic bytes: their hash
    if sol == "bool" or _UINT_BITS.fullmatch(sol):
        return _encode_uint  # bools and enums as integers
    if sol.endswith(_ARRAY_SUFFIX):
        element = _encoder(sol.removesuffix(_ARRAY_SUFFIX))
        # An array: the hash of its elements' encodings, concatenated.
        return lambda values: _keccak256(b"".join([element(v) for v in values]))
    return lambda value: abi_encode([sol], [value])  # any other (static) type, by eth-abi


def _encode_address(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


def _encode_uint(value: int) -> bytes:
    return int(value).to_bytes(32, "big")


def _eip712_value(value: Any) -> Any:
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@functools.cache  # a handful of member names, asked for on every record parsed
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _json_value(value: Any) -> Any:
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bytes):
        return to_hex(value)
    return value


def _parse_value(type_name: str, f: dataclasses.Field[Any], raw: Any) -> Any:
    sol, enum = f.metadata["sol"], f.metadata["enum"]
    where = f"{type_name}.{_camel(f.name)}"
    if enum is not None:
        if not isinstance(raw, str) or raw not in enum.__members__:
            raise RecordDecodeError(f"{where} must be one of {list(enum.__members__)}, got {raw!r:.40}")
        return enum[raw]
    if sol == "bytes32":
        try:
            return from_hex(raw, length=HASH_SIZE, what=where)
        except HexDecodeError as exc:
            raise RecordDecodeError(str(exc)) from None
    if sol == "bytes":
        try:
            return from_hex(raw, what=where)
        except HexDecodeError as exc:
            raise RecordDecodeError(str(exc)) from None
    if sol.endswith(_ARRAY_SUFFIX):
        if not isinstance(raw, list):
            raise RecordDecodeError(f"{where} must be a JSON array, got {raw!r:.40}")
        return tuple(raw)
    return raw


def _check_value(type_name: str, f: dataclasses.Field[Any], value: Any) -> Any:
    """Validate one member against its Solidity type; returns the canonical Python value."""
    where = f"{type_name or 'Record'}.{_camel(f.name)}"
    return _check_typed(where, f.metadata["sol"], f.metadata["enum"], value)


def _check_typed(where: str, sol: str, enum: type[IntEnum] | None, value: Any) -> Any:
    if enum is not None:
        try:
            return enum(value)
        except ValueError:
            raise RecordDecodeError(f"{where}: {value!r} is not a valid {enum.__name__}") from None
    if sol == "address":
        try:
            return parse_address(value, where)
        except HexDecodeError as exc:
            raise RecordDecodeError(str(exc)) from None
    if sol == "bytes32":
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise RecordDecodeError(f"{where} must be {HASH_SIZE} bytes")
        return value
    if sol == "bytes":
        if not isinstance(value, bytes) or len(value) > MAX_BYTES_MEMBER:
            raise RecordDecodeError(f"{where} must be at most {MAX_BYTES_MEMBER} bytes")
        return value
    if sol.endswith(_ARRAY_SUFFIX):
        if not isinstance(value, (list, tuple)):
            raise RecordDecodeError(f"{where} must be a list, got {value!r:.40}")
        if len(value) > MAX_INSTALLMENTS:
            raise RecordDecodeError(f"{where} has {len(value)} items, at most {MAX_INSTALLMENTS}")
        element = sol.removesuffix(_ARRAY_SUFFIX)
        return tuple(
            _check_typed(f"{where}[{i}]", element, enum, item) for i, item in enumerate(value)
        )
    if sol == "bool":
        if not isinstance(value, bool):
            raise RecordDecodeError(f"{where} must be true or false, got {value!r:.40}")
        return value
    if match := _UINT_BITS.fullmatch(sol):
        bits = int(match.group(1))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise RecordDecodeError(f"{where} must be an integer in [0, 2^{bits}), got {value!r:.40}")
        return value
    raise AssertionError(f"unsupported Solidity type {sol}")  # a schema bug, not bad input
