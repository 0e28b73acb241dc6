"""Tampering with a proof bundle: every single field, changed minimally, is caught, and by the
check that owns that field.

Bundles are produced through the API (records written, anchored, proofs fetched over HTTP) and
checked through POST /v1/verify, on the embedded chain and on anvil. For each field we
change one hex digit (hashes, signature parts), add one (integers), name another address or
enum member, or negate (booleans), and compare the failed checks with the table below, which
follows ledger/core/bundle_checks.py and ledger/verify.py:

- record hash: the record's EIP-712 digest under the anchor's domain (chainId, contract)
  must equal recordHash;
- signature: the digest must be signed by the record's platform, which must be the anchor's;
- inclusion: leaf(recordHash) at leafIndex of a tree of treeSize (= head.treeSize) must lead
  to head.rootHash along inclusionPath;
- head on chain: the contract at anchor.contract on chain anchor.chainId is a released
  BindLedger, and anchor.txHash succeeded and carries its HeadAnchored event of
  (anchor.platform, head.treeSize, head.rootHash);
- anchor transaction: anchor.txHash is mined in anchor.blockNumber, whose hash and time are
  anchor.blockHash and anchor.blockTime.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.main import create_app
from ledger.config import Settings
from ledger.core.encoding import from_hex, to_hex
from ledger.core.merkle import ProofError, leaf_hash, root_from_inclusion_proof
from ledger.core.records import (
    BindingAction,
    ConsentAction,
    Domain,
    Purpose,
    SignedRecord,
    VerificationMethod,
)
from ledger.service import Ledger
from tests.core.test_records import eth_account_digest
from tests.support.api import BINDING, CONSENT, DRAFTS, VERIFICATION
from tests.support.server import serving

Path = tuple[str | int, ...]

# anvil's account #3: a valid address that is neither a platform nor a contract here.
OTHER_ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
ADDRESSES = {("record", "platform"), ("anchor", "contract"), ("anchor", "platform")}
ENUMS = {"action": None, "method": VerificationMethod, "purpose": Purpose}
ACTIONS = {"Binding": BindingAction, "Consent": ConsentAction}
RECORD_TYPE_CYCLE = {"Binding": "Verification", "Verification": "Consent", "Consent": "Binding"}

RECORD_HASH, SIGNATURE, INCLUSION = "record hash", "signature", "inclusion"
HEAD_ON_CHAIN, ANCHOR_TX = "head on chain", "anchor transaction"

# Which checks fail when one field changes (first failure first); a string is the reason a
# changed document is not a readable bundle at all (422 from the API).
OWNERS: dict[str, tuple[str, ...] | str] = {
    "format": "format must be 'bindledger.proof/1', got 'bindledger.proof/2'",
    "record.type[Binding]": "record: Verification: unknown field(s) ['account', 'action', "
                            "'factors']",
    "record.type[Verification]": "record: Consent: unknown field(s) ['method', 'passed', "
                                 "'phone']",
    "record.type[Consent]": "record: Binding: unknown field(s) ['expiresAt', 'policyHash', "
                            "'purpose']",
    "record.signature[r]": (SIGNATURE,),
    "record.signature[s]": (SIGNATURE,),
    "record.signature[v]": (SIGNATURE,),
    "record.*": (RECORD_HASH, SIGNATURE),  # every other member of the record
    "recordHash": (RECORD_HASH, INCLUSION),
    "leafIndex": (INCLUSION,),
    "treeSize": (INCLUSION,),
    "inclusionPath[*]": (INCLUSION,),
    "head.treeSize": (INCLUSION, HEAD_ON_CHAIN),
    "head.rootHash": (INCLUSION, HEAD_ON_CHAIN),
    "anchor.chainId": (RECORD_HASH, SIGNATURE, HEAD_ON_CHAIN),  # the domain of the signature
    "anchor.contract": (RECORD_HASH, SIGNATURE, HEAD_ON_CHAIN),  # likewise
    "anchor.platform": (SIGNATURE, HEAD_ON_CHAIN),
    "anchor.txHash": (HEAD_ON_CHAIN,),
    "anchor.blockNumber": (ANCHOR_TX,),
    "anchor.blockHash": (ANCHOR_TX,),
    "anchor.blockTime": (ANCHOR_TX,),
}


def owner(label: str, record_type: str) -> tuple[str, ...] | str:
    if label == "record.type":
        return OWNERS[f"record.type[{record_type}]"]
    if label.startswith("inclusionPath["):
        return OWNERS["inclusionPath[*]"]
    if label.startswith("record.") and label not in OWNERS:
        return OWNERS["record.*"]
    return OWNERS[label]


def label_of(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def leaves(doc: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar of the document with its path."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from leaves(value, (*path, i))
    else:
        yield path, doc


def flip_last_digit(hex_text: str) -> str:
    return hex_text[:-1] + format(int(hex_text[-1], 16) ^ 1, "x")


def flip_digit(hex_text: str, index: int) -> str:
    return hex_text[:index] + format(int(hex_text[index], 16) ^ 1, "x") + hex_text[index + 1:]


def next_member(enum: Any, name: str) -> str:
    names = list(enum.__members__)
    return names[(names.index(name) + 1) % len(names)]


def minimal_changes(bundle: dict[str, Any]) -> Iterator[tuple[str, Path, Any]]:
    """(label, path, changed value) for every scalar field of the bundle."""
    record_type = bundle["record"]["type"]
    for path, value in leaves(bundle):
        label = label_of(path)
        if path == ("format",):
            yield label, path, "bindledger.proof/2"
        elif path == ("record", "type"):
            yield label, path, RECORD_TYPE_CYCLE[value]
        elif path == ("record", "signature"):
            # r is hex digits 2..65, s 66..129, v 130..131: change one digit inside each
            for part, index in (("r", 2 + 63), ("s", 2 + 64 + 63), ("v", 2 + 128 + 1)):
                yield f"{label}[{part}]", path, flip_digit(value, index)
        elif path in ADDRESSES:
            yield label, path, OTHER_ADDRESS
        elif isinstance(value, bool):
            yield label, path, not value
        elif isinstance(value, int):
            yield label, path, value + 1
        elif isinstance(value, str) and value.startswith("0x"):
            yield label, path, flip_last_digit(value)
        elif path[0] == "record" and path[-1] in ENUMS:
            enum = ENUMS[str(path[-1])] or ACTIONS[record_type]
            yield label, path, next_member(enum, value)
        else:
            raise AssertionError(f"no minimal change defined for {label} = {value!r}")


def with_value(bundle: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(bundle)
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def answer(verifier: httpx.Client,
           document: dict[str, Any]) -> tuple[tuple[str, ...] | str, dict[str, Any] | None]:
    """The failed checks of the verdict, in order, and the first failure as the verdict shows
    it; or the reason it is not a bundle (and None)."""
    response = verifier.post("/v1/verify", json=document)
    if response.status_code == 422:
        return str(response.json()["detail"]), None
    assert response.status_code == 200, response.text
    verdict = response.json()
    failures = [c for c in verdict["checks"] if c["outcome"] == "failed"]
    failed = tuple(c["check"] for c in failures)
    assert verdict["verified"] is (not failed)
    if not failures:
        return failed, None
    first = failures[0]
    values = f" (expected {first['expected']}, got {first['actual']})" if "expected" in first \
        else ""
    assert verdict["reason"] == f"{first['check']}: {first['detail']}{values}"
    return failed, first


def outcome(verifier: httpx.Client, document: dict[str, Any]) -> tuple[str, ...] | str:
    """The failed checks of the verdict, in order; or the reason it is not a bundle."""
    return answer(verifier, document)[0]


# What a regulator is shown for the first failure of a changed bundle: the check's words and
# the bundle's claim (`expected`) beside what was found (`actual`), recomputed here from the
# changed document, independently of the verifier (EIP-712 by eth-account's encoder).
HASH_DIFFERS = "the record's EIP-712 hash under the anchor's domain differs from recordHash"
NOT_THE_PLATFORMS = "the signature was not made by the record's platform"
NO_KEY = "signature does not recover a key: "


def first_failure_shown(original: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    record, anchor, head = changed["record"], changed["anchor"], changed["head"]
    signed = SignedRecord.from_json(record)
    digest = to_hex(eth_account_digest(signed.record,
                                       Domain(anchor["chainId"], anchor["contract"])))
    if digest != changed["recordHash"]:
        return failure(RECORD_HASH, HASH_DIFFERS, changed["recordHash"], digest)
    if record["signature"] != original["record"]["signature"]:
        v = int(record["signature"][-2:], 16)
        if v not in (27, 28):
            return failure(SIGNATURE, f"signature v must be 27 or 28, got {v}")
        # r or s changed: the signature recovers no key or some key: which is chance.
        return failure(SIGNATURE, NOT_THE_PLATFORMS, record["platform"], SOME_OTHER_SIGNER)
    if anchor["platform"] != record["platform"]:
        return failure(SIGNATURE, "the record's platform is not the anchoring platform",
                       anchor["platform"], record["platform"])
    if changed["treeSize"] != head["treeSize"]:
        return failure(INCLUSION, "the proof is for another tree size than the head",
                       str(head["treeSize"]), str(changed["treeSize"]))
    try:
        root = root_from_inclusion_proof(
            leaf_hash(from_hex(changed["recordHash"])), changed["leafIndex"],
            changed["treeSize"], [from_hex(node) for node in changed["inclusionPath"]])
    except ProofError as exc:
        return failure(INCLUSION, str(exc))
    if to_hex(root) != head["rootHash"]:
        return failure(INCLUSION, "the inclusion path does not lead to the head's root",
                       head["rootHash"], to_hex(root))
    was = original["anchor"]
    if anchor["txHash"] != was["txHash"]:
        return failure(HEAD_ON_CHAIN, f"the contract anchored no head of size {head['treeSize']} "
                       f"with this root for platform {anchor['platform']} in this transaction: "
                       f"transaction {anchor['txHash']} is not on this chain",
                       head["rootHash"], "not anchored")
    if anchor["blockNumber"] != was["blockNumber"]:
        return failure(ANCHOR_TX, "the transaction is in another block",
                       str(anchor["blockNumber"]), str(was["blockNumber"]))
    if anchor["blockHash"] != was["blockHash"]:
        return failure(ANCHOR_TX, "the block hash differs (reorganised chain or altered bundle)",
                       anchor["blockHash"], was["blockHash"])
    assert anchor["blockTime"] != was["blockTime"], "no change that a check owns"
    return failure(ANCHOR_TX, "the block time differs", str(anchor["blockTime"]),
                   str(was["blockTime"]))


SOME_OTHER_SIGNER = "<an address other than the platform's>"


def failure(check: str, detail: str, expected: str | None = None,
            actual: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {"check": check, "outcome": "failed", "detail": detail}
    if expected is not None:
        shown |= {"expected": expected, "actual": actual}
    return shown


def as_predicted(shown: dict[str, Any] | None, predicted: dict[str, Any]) -> dict[str, Any] | None:
    """`shown`, with a changed signature's chance outcome replaced by the prediction's words
    when it is one of the two a changed r or s can have."""
    if shown is None or predicted.get("actual") != SOME_OTHER_SIGNER:
        return shown
    if shown["detail"].startswith(NO_KEY) and "expected" not in shown:
        return predicted  # recovers no key: the reason is libsecp256k1's
    if shown.get("actual") not in (None, predicted["expected"]) and \
            re.fullmatch(r"0x[0-9a-fA-F]{40}", shown["actual"]):
        return {**shown, "actual": SOME_OTHER_SIGNER}
    return shown


@pytest.fixture
def verifier(settings: Settings, ledger_: Ledger) -> Iterator[httpx.Client]:
    with serving(create_app(settings, ledger_, run_worker=False)) as url:
        platform = next(iter(ledger_.platforms.values()))
        with httpx.Client(base_url=url, headers={"X-API-Key": platform.api_key},
                          timeout=30, verify=False) as c:
            yield c


@pytest.fixture
def bundles(verifier: httpx.Client) -> dict[str, dict[str, Any]]:
    """One anchored bundle of each type the API drafts, from a log of 7 records (so every proof
    path has nodes), fetched through the API."""
    ids: dict[str, int] = {}
    for i in range(2):
        for draft in (VERIFICATION, BINDING, CONSENT):
            subject = {"subjectId": f"T-{i}"}
            created = verifier.post("/v1/records", json={**draft, **subject})
            assert created.status_code == 201, created.text
            ids[draft["type"]] = created.json()["id"]
    assert verifier.post("/v1/records", json={**VERIFICATION, "subjectId": "T-9"}).status_code \
        == 201
    [head] = verifier.post("/v1/anchor").json()["heads"]
    assert head["treeSize"] == 7
    found = {}
    for record_type, record_id in ids.items():
        response = verifier.get(f"/v1/records/{record_id}/proof")
        assert response.status_code == 200, response.text
        found[record_type] = response.json()
        assert found[record_type]["inclusionPath"], "the proof should have nodes to tamper with"
    assert set(found) == set(DRAFTS)
    return found


def test_the_untampered_bundles_verify(verifier: httpx.Client,
                                       bundles: dict[str, dict[str, Any]]) -> None:
    for record_type, bundle in bundles.items():
        assert outcome(verifier, bundle) == (), record_type


def test_every_single_field_change_is_caught_by_the_check_that_owns_the_field(
        verifier: httpx.Client, bundles: dict[str, dict[str, Any]]) -> None:
    labels = {label for b in bundles.values() for label, _, _ in minimal_changes(b)}
    assert labels >= {  # every member of every record type, and every bundle member
        "format", "record.type", "record.platform", "record.subject", "record.prev",
        "record.timestamp", "record.signature[r]", "record.signature[s]", "record.signature[v]",
        "record.action", "record.phone", "record.account", "record.factors",  # Binding
        "record.method", "record.passed",  # Verification
        "record.purpose", "record.policyHash", "record.expiresAt",  # Consent
        "recordHash", "leafIndex", "treeSize", "inclusionPath[0]", "head.treeSize",
        "head.rootHash", "anchor.chainId", "anchor.contract", "anchor.platform",
        "anchor.txHash", "anchor.blockNumber", "anchor.blockHash", "anchor.blockTime",
    }
    for record_type, bundle in bundles.items():
        changes = list(minimal_changes(bundle))
        # every scalar of the bundle is changed at least once
        assert {path for _, path, _ in changes} == {path for path, _ in leaves(bundle)}

        answers = {label: (answer(verifier, with_value(bundle, path, value)),
                           with_value(bundle, path, value))
                   for label, path, value in changes}

        actual = {label: failed for label, ((failed, _), _) in answers.items()}
        expected = {label: owner(label, record_type) for label, _, _ in changes}
        assert actual == expected, record_type

        # The first failure shows its words and the claimed and found values exactly.
        shown, predicted = {}, {}
        for label, ((_, first), changed) in answers.items():
            if first is None:
                continue  # not a readable bundle: its reason was compared above
            predicted[label] = first_failure_shown(bundle, changed)
            shown[label] = as_predicted(first, predicted[label])
        assert shown == predicted, record_type
