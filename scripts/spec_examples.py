"""Write the specification's example documents, docs/spec/examples/*.json.

The examples are real evidence, made the way a deployment makes it: records signed with the
known-answer platform key of tests/vectors/records_eip712.json under its domain, appended to
one platform's RFC 9162 log, with inclusion proofs against two heads. Only the anchor's chain
facts (transaction and block hashes, block numbers and times) are made up, since no chain
holds them: the examples exercise every check a verifier runs without a chain.

    python scripts/spec_examples.py           # rewrite the examples
    python scripts/spec_examples.py --check   # exit 1 if they differ from what is committed

tests/spec/test_spec_examples.py checks the committed examples with an implementation of its
own; tests/spec/test_examples_fresh.py runs --check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's ledger, whichever one is installed

from ledger.artifacts import load_artifact
from ledger.core.bundle import AnchorRef, ProofBundle
from ledger.core.merkle import MerkleLog
from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Disbursement,
    Domain,
    LoanCreation,
    Purpose,
    Record,
    Refusal,
    Repayment,
    SignedRecord,
    Verification,
    VerificationMethod,
    factor_mask,
    sign_record,
)
from ledger.core.refs import account_ref, phone_ref, subject_ref
from ledger.core.timeline import Timeline
from ledger.rules import _abi_struct

VECTORS = json.loads((ROOT / "tests" / "vectors" / "records_eip712.json").read_text())
OUT = ROOT / "docs" / "spec" / "examples"

SECRET = VECTORS["secret"].encode()
KEY = bytes.fromhex(VECTORS["platformKey"][2:])
DOMAIN = Domain(VECTORS["domain"]["chainId"], VECTORS["domain"]["verifyingContract"])
PLATFORM = Web3().eth.account.from_key(KEY).address
SUBJECT = subject_ref(SECRET, "110105199001011234")
PHONE = phone_ref(SECRET, "+86 138 0013 8000")
LOAN = account_ref(SECRET, "LOAN-0001")
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


def _fake(label: str) -> bytes:
    """A made-up 32-byte chain fact, recognisably not a real one."""
    return keccak(f"bindledger spec example: {label}".encode())


def build() -> dict[str, str]:
    """The example documents, by file name."""
    signed: list[SignedRecord] = []

    def add(record: Record) -> SignedRecord:
        item = sign_record(record, DOMAIN, KEY)
        signed.append(item)
        return item

    def head() -> bytes:
        chained = [s for s in signed if s.record.EXTENDS_CHAIN]
        return chained[-1].record.digest(DOMAIN) if chained else bytes(32)

    base = {"platform": PLATFORM, "subject": SUBJECT}
    two_factors = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])
    add(Binding(**base, prev=head(), timestamp=T0, action=BindingAction.BIND, phone=PHONE,
                account=LOAN, factors=two_factors))
    add(Verification(**base, prev=head(), timestamp=T0 + 60, method=VerificationMethod.SMS_OTP,
                     passed=True, phone=PHONE))
    add(Consent(**base, prev=head(), timestamp=T0 + 120, action=ConsentAction.GIVEN,
                purpose=Purpose.LENDING, policy_hash=_fake("privacy policy v3"),
                expires_at=T0 + 365 * DAY))
    # An amount beyond 2^53: JSON numbers carry it exactly, a double would not.
    schedule = (T0 + 31 * DAY, T0 + 59 * DAY, T0 + 90 * DAY)
    add(LoanCreation(**base, prev=head(), timestamp=T0 + 180, loan=LOAN, due_times=schedule,
                     amounts=(12_000_000_000_000_001, 12_000_000_000_000_001, 12_000_000_000_000_002)))
    # A disbursement the contract refused (R2: the binding lacks the liveness factor's check),
    # logged as a Refusal beside the chain; the next record still follows the loan's creation.
    refused = sign_record(
        Disbursement(**base, prev=head(), timestamp=T0 + 240, loan=LOAN,
                     amount=9_000_000_000_000_001),
        DOMAIN, KEY)
    abi = load_artifact("BindLedger").abi
    call = bytes.fromhex(
        Web3().eth.contract(abi=abi)
        .encode_abi("disburse", [_abi_struct(refused.record), refused.signature])[2:])
    error = keccak(b"RiskRulesTooFewFactors(bytes32,uint8,uint8)")[:4]
    revert = error + SUBJECT + (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    add(Refusal(**base, prev=head(), timestamp=T0 + 241, refused=refused.record.digest(DOMAIN),
                rule=2, call=call, revert=revert, block=8))
    add(Verification(**base, prev=head(), timestamp=T0 + 300, method=VerificationMethod.LIVENESS,
                     passed=True, phone=PHONE))
    add(Repayment(**base, prev=head(), timestamp=T0 + 31 * DAY, loan=LOAN,
                  amount=12_000_000_000_000_001))

    hashes = [s.record.digest(DOMAIN) for s in signed]
    log = MerkleLog(hashes)
    # Two heads: the first three records anchored in block 5, all of them in block 12.
    anchors = {
        3: AnchorRef(DOMAIN.chain_id, DOMAIN.verifying_contract, PLATFORM, _fake("tx 1"), 5,
                     _fake("block 5"), T0 + 150),
        len(signed): AnchorRef(DOMAIN.chain_id, DOMAIN.verifying_contract, PLATFORM,
                               _fake("tx 2"), 12, _fake("block 12"), T0 + 31 * DAY + 30),
    }
    entries = []
    for index, item in enumerate(signed):
        size = min(s for s in anchors if s > index)
        entries.append(ProofBundle(
            record=item, record_hash=hashes[index], leaf_index=index, tree_size=size,
            inclusion_path=log.inclusion_proof(index, size), head_size=size,
            head_root=log.root(size), anchor=anchors[size]))
    timeline = Timeline(PLATFORM, SUBJECT, chain_head=hashes[-1], entries=entries, loan=LOAN)
    return {
        "proof.json": entries[3].dumps(),
        "timeline.json": timeline.dumps(),
        "heads.json": json.dumps(_heads(log, anchors), indent=2) + "\n",
    }


def _heads(log: MerkleLog, anchors: dict[int, AnchorRef]) -> dict[str, Any]:
    """The heads the examples are anchored under, with the consistency proof between them."""
    first, second = sorted(anchors)
    return {
        "description": "The two heads of the example log and the RFC 9162 consistency proof "
        "the platform sent with the second anchorHead call.",
        "heads": [{"treeSize": size, "rootHash": "0x" + log.root(size).hex()}
                  for size in (first, second)],
        "consistencyProof": ["0x" + node.hex() for node in log.consistency_proof(first, second)],
    }


def main(argv: list[str]) -> int:
    documents = build()
    if "--check" in argv:
        stale = [name for name, text in documents.items()
                 if not (OUT / name).exists() or (OUT / name).read_text() != text]
        if stale:
            print(f"stale: {stale}; run python scripts/spec_examples.py", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
