"""Refusal records: read what a refusal says, and check it by replaying the refused call.

A Refusal record (ledger.core.records.Refusal) is the platform's signed, anchored statement
that the contract refused a record under a rule. Signed and anchored is not yet true: the
refusal check reads the refused record out of the call, requires it to be the record the
refusal names, on the subject's chain position the refusal names, and requires the revert to
be that rule's error; then it replays the call with eth_call at the block the refusal names,
and requires the contract to refuse it again with the same revert data. That needs a node that
serves the state of that block (anvil does; on a public network, an archive node).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3

from ledger.artifacts import Artifact, load_artifact
from ledger.chain.client import ChainClient, is_unreachable
from ledger.chain.redact import redact_text
from ledger.chain.reverts import UndecodableRevert, decode_revert, revert_data
from ledger.core.bundle import ProofBundle
from ledger.core.bundle_checks import bundle_domain
from ledger.core.encoding import to_hex
from ledger.core.records import Domain, Record, Refusal, SignedRecord
from ledger.core.verdict import Check, CheckName, failed, passed
from ledger.errors import LedgerValueError
from ledger.rules import CONTRACT_FUNCTION, REFUSALS, error_facts

CONTRACT_NAME = "BindLedger"
_RECORD_TYPE_OF = {function: kind for kind, function in CONTRACT_FUNCTION.items()}
_DECODERS: dict[int, tuple[Artifact, Any]] = {}


class RefusalDecodeError(LedgerValueError):
    """A refusal's call or revert data is not what the contract takes or raises."""


@dataclass(frozen=True)
class RefusalSummary:
    """What a refusal says, decoded: the refused record, the rule, the error and its facts."""

    refused: SignedRecord
    function: str
    rule: str
    error: str
    facts: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "refused": self.refused.to_json(),
            "function": self.function,
            "rule": self.rule,
            "error": self.error,
            "facts": self.facts,
        }


def describe_refusal(refusal: Refusal, artifact: Artifact | None = None) -> RefusalSummary:
    """Decode the refusal's call and revert data; raises RefusalDecodeError."""
    artifact = artifact or load_artifact(CONTRACT_NAME)
    abi = artifact.abi
    function, refused = _decode_call(_decoder(artifact), refusal.call)
    try:
        error, args = decode_revert(abi, refusal.revert)
    except UndecodableRevert as exc:
        raise RefusalDecodeError(str(exc)) from None
    return RefusalSummary(
        refused, function, f"R{refusal.rule}", error, error_facts(abi, error, args)
    )


def check_refusal(
    bundle: ProofBundle, chain: ChainClient, artifact: Artifact | None = None
) -> Check:
    """Requires a bundle of a Refusal record. The refused record is the one named, the error
    is the rule's, and the contract still refuses the call at the block named."""
    refusal = bundle.record.record
    assert isinstance(refusal, Refusal)
    return check_refusal_record(refusal, bundle_domain(bundle), chain, artifact)


def check_refusal_record(
    refusal: Refusal, domain: Domain, chain: ChainClient, artifact: Artifact | None = None
) -> Check:
    """`check_refusal` of a refusal record signed under `domain` (whose contract is the one
    the call is replayed on), without a bundle: for audits of whole logs."""
    name = CheckName.REFUSAL
    try:
        summary = describe_refusal(refusal, artifact)
    except RefusalDecodeError as exc:
        return failed(name, str(exc))
    refused = summary.refused.record
    refused_hash = refused.digest(domain)
    if refused_hash != refusal.refused:
        return failed(
            name,
            "the call carries another record than the one the refusal names",
            expected=to_hex(refusal.refused),
            actual=to_hex(refused_hash),
        )
    position = (refusal.platform, refusal.subject, refusal.prev)
    if (refused.platform, refused.subject, refused.prev) != position:
        return failed(
            name,
            "the refused record is of another platform, subject or chain position",
            expected=f"{refusal.platform} {to_hex(refusal.subject)} after {to_hex(refusal.prev)}",
            actual=f"{refused.platform} {to_hex(refused.subject)} after {to_hex(refused.prev)}",
        )
    expected_rule = REFUSALS.get(summary.error, (None, None))[0]
    if expected_rule != summary.rule:
        return failed(
            name,
            f"{summary.error} is not a refusal under {summary.rule}",
            expected=summary.rule,
            actual=str(expected_rule),
        )
    return _replay(name, refusal, domain.verifying_contract, chain, summary)


def _replay(
    name: CheckName, refusal: Refusal, contract: str, chain: ChainClient, summary: RefusalSummary
) -> Check:
    call = {"to": Web3.to_checksum_address(contract), "data": to_hex(refusal.call)}
    try:
        chain.web3.eth.call(call, refusal.block)  # type: ignore[arg-type]
    except Exception as exc:
        if is_unreachable(exc):
            raise  # nothing can be concluded: not a failed check
        data = revert_data(exc)
        if data is None:
            return failed(
                name, f"could not replay the call at block {refusal.block}: {redact_text(str(exc))}"
            )
        if data != refusal.revert:
            return failed(
                name,
                f"replayed at block {refusal.block}, the contract refuses it differently",
                expected=to_hex(refusal.revert),
                actual=to_hex(data),
            )
        facts = ", ".join(f"{k}={v}" for k, v in summary.facts.items())
        return passed(
            name,
            f"{summary.refused.record.TYPE_NAME} refused under {summary.rule}: replayed at "
            f"block {refusal.block}, the contract refuses it again with {summary.error}({facts})",
        )
    return failed(
        name,
        f"replayed at block {refusal.block}, the contract accepts the call",
        expected=to_hex(refusal.revert),
        actual="no revert",
    )


def _decoder(artifact: Artifact) -> Any:
    """A web3 contract object of the artifact's ABI, to decode calldata with. Building one walks
    the whole ABI (about 9 ms for BindLedger's), so each artifact object gets one."""
    known = _DECODERS.get(id(artifact))
    if known is None or known[0] is not artifact:  # the artifact is kept, so its id stays its
        known = _DECODERS[id(artifact)] = (artifact, Web3().eth.contract(abi=artifact.abi))
    return known[1]


def _decode_call(decoder: Any, data: bytes) -> tuple[str, SignedRecord]:
    """The contract function and the signed record of a rule call's calldata."""
    try:
        function, params = decoder.decode_function_input(data)
    except ValueError as exc:
        raise RefusalDecodeError(f"the call is no call of the contract: {exc}") from None
    kind = _RECORD_TYPE_OF.get(function.fn_name)
    if kind is None or "record" not in params or "signature" not in params:
        raise RefusalDecodeError(f"the call ({function.fn_name}) takes no record")
    return function.fn_name, SignedRecord(_record(kind, params["record"]), params["signature"])


def _record(kind: type[Record], struct: Any) -> Record:
    members = struct.values() if isinstance(struct, dict) else struct
    values: list[Any] = [tuple(v) if isinstance(v, list) else v for v in members]
    try:
        return kind(*values)
    except (TypeError, LedgerValueError) as exc:
        raise RefusalDecodeError(f"the call's record is not a {kind.TYPE_NAME}: {exc}") from None
