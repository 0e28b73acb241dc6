"""A verifier of BindLedger evidence written from docs/spec/ alone.

It imports nothing from ledger/ or api/: only eth-account (EIP-712 hashing, signature recovery),
eth-abi (calldata), eth-utils' keccak (which eth-account is built on) and the standard library.
Even the record types, the enum names and the rule tables are read out of the specification's
text, so a test that passes here shows the text is enough to build a verifier.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.crypto import keccak

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EMPTY_ROOT = hashlib.sha256(b"").digest()
ZERO = bytes(32)
# records.md: the types that do not extend their subject's chain.
BESIDE_THE_CHAIN = frozenset({"Refusal", "Evidence", "Erasure", "ModelRelease"})


class Unreadable(ValueError):
    """The document breaks a rule of the format: "cannot read"."""


class Failed(ValueError):
    """A check failed: "not verified"."""


# --- What the specification's text says -------------------------------------------------------


def spec_text(name: str) -> str:
    return (SPEC / name).read_text(encoding="utf-8")


def fenced_blocks(text: str, info: str) -> list[str]:
    """The contents of the fenced code blocks of `text` whose info string is `info`."""
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def record_types() -> dict[str, list[tuple[str, str]]]:
    """Each record type's members (name, Solidity type), from the type strings of records.md."""
    (block,) = fenced_blocks(spec_text("records.md"), "eip712-types")
    types = {}
    for line in block.strip().splitlines():
        match = re.fullmatch(r"(\w+)\((.*)\)", line)
        assert match, line
        members = [tuple(m.split(" ")[::-1]) for m in match.group(2).split(",")]
        types[match.group(1)] = [(name, sol) for name, sol in members]
    return types


def domain_type_string() -> str:
    (block,) = fenced_blocks(spec_text("records.md"), "eip712-domain")
    return block.strip()


def enums() -> dict[str, dict[str, int]]:
    """Each enumeration's names and numbers, from the table of records.md."""
    text = spec_text("records.md")
    out: dict[str, dict[str, int]] = {}
    for name, values in re.findall(r"^\| `(\w+)` \| ((?:`\w+` = \d+(?:, )?)+) \|$", text,
                                   re.MULTILINE):
        out[name] = {n: int(v) for n, v in re.findall(r"`(\w+)` = (\d+)", values)}
    return out


# Which members are enums: the sentence of records.md that lists them, read as a table.
ENUM_MEMBERS = {
    ("Binding", "action"): "BindingAction",
    ("Verification", "method"): "VerificationMethod",
    ("Consent", "action"): "ConsentAction",
    ("Consent", "purpose"): "Purpose",
    ("Dispute", "action"): "DisputeAction",
    ("Erasure", "reason"): "ErasureReason",
    ("Access", "role"): "AccessRole",
    ("Access", "purpose"): "AccessPurpose",
}


def rule_functions() -> dict[str, str]:
    """Refused record type -> the contract function's ABI signature (verification.md)."""
    text = spec_text("verification.md")
    return dict(re.findall(r"^   \| ([A-Z][a-z]\w+) \| `(\w+\(.*\))`", text, re.MULTILINE))


def rule_errors() -> dict[str, list[str]]:
    """Rule (R1..R8) -> the custom errors' signatures (verification.md)."""
    text = spec_text("verification.md")
    return {rule: re.findall(r"`(RiskRules\w+\([^`]*\))`", errors)
            for rule, errors in re.findall(r"^   \| (R\d) \| (.*) \|$", text, re.MULTILINE)}


# --- Reading documents ---------------------------------------------------------------------------


def parse_document(text: str | bytes) -> Any:
    def no_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names):
            raise Unreadable(f"a member is named twice in {names}")
        return dict(pairs)

    return json.loads(text, object_pairs_hook=no_twice)


def _hex(value: Any, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value):
        raise Unreadable(f"not 0x-hex: {value!r:.40}")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise Unreadable(f"{value!r:.40} is not {length} bytes")
    return data


def _address(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise Unreadable(f"not an address: {value!r:.60}")
    expected = _eip55(value)
    if value not in (expected, value.lower()):
        raise Unreadable(f"{value} fails its EIP-55 checksum")
    return expected


def _eip55(address: str) -> str:
    lower = address[2:].lower()
    digest = keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest))


def _uint(value: Any, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise Unreadable(f"not an integer in [0, 2^{bits}): {value!r:.40}")
    return value


def _exact(doc: Mapping[str, Any], required: set[str], optional: set[str] = frozenset()) -> None:
    if not isinstance(doc, Mapping):
        raise Unreadable("not a JSON object")
    if unknown := set(doc) - required - optional:
        raise Unreadable(f"unknown member(s) {sorted(unknown)}")
    if missing := required - set(doc):
        raise Unreadable(f"missing member(s) {sorted(missing)}")


@dataclass(frozen=True)
class Record:
    type: str
    message: dict[str, Any]  # EIP-712 message values: enums as numbers, bytes as bytes
    signature: bytes

    @property
    def platform(self) -> str:
        return str(self.message["platform"])


def read_record(doc: Any) -> Record:
    types, enum_values = record_types(), enums()
    if not isinstance(doc, Mapping) or doc.get("type") not in types:
        raise Unreadable("unknown record type")
    kind = doc["type"]
    members = types[kind]
    _exact(doc, {"type", "signature", *(name for name, _ in members)})
    message: dict[str, Any] = {}
    for name, sol in members:
        raw = doc[name]
        enum = ENUM_MEMBERS.get((kind, name))
        if enum is not None:
            if not isinstance(raw, str) or raw not in enum_values[enum]:
                raise Unreadable(f"{kind}.{name} is not a {enum} name")
            message[name] = enum_values[enum][raw]
        elif sol == "address":
            message[name] = _address(raw)
        elif sol == "bytes32":
            message[name] = _hex(raw, 32)
        elif sol == "bytes":
            message[name] = _hex(raw)
        elif sol == "bool":
            if not isinstance(raw, bool):
                raise Unreadable(f"{kind}.{name} is not a boolean")
            message[name] = raw
        elif sol.endswith("[]"):
            if not isinstance(raw, list) or len(raw) > 36:
                raise Unreadable(f"{kind}.{name} is not an array of at most 36")
            bits = int(sol[4:-2])
            message[name] = [_uint(v, bits) for v in raw]
        else:
            message[name] = _uint(raw, int(sol[4:]))
    signature = _hex(doc["signature"], 65)
    return Record(kind, message, signature)


@dataclass(frozen=True)
class Bundle:
    record: Record
    record_hash: bytes
    leaf_index: int
    tree_size: int
    path: list[bytes]
    head_size: int
    head_root: bytes
    chain_id: int
    contract: str
    platform: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_time: int


def read_bundle(doc: Any) -> Bundle:
    if not isinstance(doc, Mapping) or doc.get("format") != "bindledger.proof/1":
        raise Unreadable("not a bindledger.proof/1 document")
    _exact(doc, {"format", "record", "recordHash", "leafIndex", "treeSize", "inclusionPath",
                 "head", "anchor"})
    head, anchor = doc["head"], doc["anchor"]
    _exact(head, {"treeSize", "rootHash"})
    _exact(anchor, {"chainId", "contract", "platform", "txHash", "blockNumber", "blockHash",
                    "blockTime"})
    path = doc["inclusionPath"]
    if not isinstance(path, list) or len(path) > 64:
        raise Unreadable("inclusionPath is not an array of at most 64 nodes")
    return Bundle(
        read_record(doc["record"]), _hex(doc["recordHash"], 32), _uint(doc["leafIndex"], 64),
        _uint(doc["treeSize"], 64), [_hex(node, 32) for node in path],
        _uint(head["treeSize"], 64), _hex(head["rootHash"], 32), _uint(anchor["chainId"], 64),
        _address(anchor["contract"]), _address(anchor["platform"]), _hex(anchor["txHash"], 32),
        _uint(anchor["blockNumber"], 64), _hex(anchor["blockHash"], 32),
        _uint(anchor["blockTime"], 64))


@dataclass(frozen=True)
class TimelineDoc:
    platform: str
    subject: bytes
    chain_head: bytes
    loan: bytes | None
    entries: list[Bundle]


def read_timeline(doc: Any) -> TimelineDoc:
    if not isinstance(doc, Mapping) or doc.get("format") != "bindledger.timeline/1":
        raise Unreadable("not a bindledger.timeline/1 document")
    _exact(doc, {"format", "platform", "subject", "chainHead", "entries"}, {"loan"})
    entries = doc["entries"]
    if not isinstance(entries, list) or len(entries) > 10_000:
        raise Unreadable("entries is not an array of at most 10 000")
    return TimelineDoc(_address(doc["platform"]), _hex(doc["subject"], 32),
                       _hex(doc["chainHead"], 32),
                       None if "loan" not in doc else _hex(doc["loan"], 32),
                       [read_bundle(e) for e in entries])


# --- Hashes and signatures -------------------------------------------------------------------------


def typed_data(record: Record, chain_id: int, contract: str) -> SignableMessage:
    domain_members = re.fullmatch(r"EIP712Domain\((.*)\)", domain_type_string())
    assert domain_members
    domain_fields = [
        {"name": m.split(" ")[1], "type": m.split(" ")[0]}
        for m in domain_members.group(1).split(",")
    ]
    return encode_typed_data(full_message={
        "types": {
            "EIP712Domain": domain_fields,
            record.type: [{"name": n, "type": t} for n, t in record_types()[record.type]],
        },
        "primaryType": record.type,
        "domain": {"name": "BindLedger", "version": "1", "chainId": chain_id,
                   "verifyingContract": contract},
        "message": record.message,
    })


def record_hash(record: Record, chain_id: int, contract: str) -> bytes:
    """keccak(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(record))."""
    signable = typed_data(record, chain_id, contract)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def struct_hash(record: Record, chain_id: int, contract: str) -> bytes:
    return bytes(typed_data(record, chain_id, contract).body)


def signer(record: Record, digest: bytes) -> str:
    sig = record.signature
    v, s = sig[64], int.from_bytes(sig[32:64], "big")
    if v not in (27, 28):
        raise Failed(f"v is {v}, not 27 or 28")
    if not 0 < s <= SECP256K1_N // 2:
        raise Failed("high s")
    return str(Account._recover_hash(digest, signature=sig))


# --- Merkle ------------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Failed("leaf index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Failed("inclusion path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("inclusion path too short")
    return r


def verify_consistency(m: int, n: int, old: bytes, new: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2, with merkle.md's rules for the degenerate sizes."""
    if m > n:
        raise Failed("a tree cannot shrink")
    if m == n:
        if proof or old != new:
            raise Failed("equal sizes need equal roots and no proof")
        return
    if m == 0:
        if proof or old != EMPTY_ROOT:
            raise Failed("from size 0: no proof, and the old root must be SHA-256('')")
        return
    if not proof:
        raise Failed("empty proof")
    nodes = list(proof)
    if m & (m - 1) == 0:
        nodes.insert(0, old)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise Failed("proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old or sr != new:
        raise Failed("roots do not match")


# --- The checks --------------------------------------------------------------------------------------


def offline_checks(bundle: Bundle) -> None:
    """Checks 1 to 3 of verification.md; raises Failed naming the first that fails."""
    digest = record_hash(bundle.record, bundle.chain_id, bundle.contract)
    if digest != bundle.record_hash:
        raise Failed("record hash")
    if signer(bundle.record, digest) != bundle.record.platform:
        raise Failed("signature: not the platform's")
    if bundle.record.platform != bundle.platform:
        raise Failed("signature: not the anchoring platform")
    if bundle.tree_size != bundle.head_size:
        raise Failed("inclusion: another tree size")
    if inclusion_root(leaf_hash(bundle.record_hash), bundle.leaf_index, bundle.tree_size,
                      bundle.path) != bundle.head_root:
        raise Failed("inclusion: another root")


def refusal_offline(bundle: Bundle) -> tuple[str, str]:
    """Refusal steps 1 to 4 (all but the replay): the refused function and error."""
    refusal = bundle.record.message
    call = refusal["call"]
    functions = {keccak(text=sig)[:4]: (kind, sig) for kind, sig in rule_functions().items()}
    if call[:4] not in functions:
        raise Failed("refusal: the call is no rule function")
    kind, signature = functions[call[:4]]
    arg_types = _split_args(signature[signature.index("(") + 1 : -1])
    args = abi_decode(arg_types, call[4:])
    members = record_types()[kind]
    message = {name: _abi_value(value) for (name, _), value in zip(members, args[0], strict=True)}
    refused = Record(kind, message, args[1])
    if record_hash(refused, bundle.chain_id, bundle.contract) != refusal["refused"]:
        raise Failed("refusal: the call carries another record")
    if any(message[k] != refusal[k] for k in ("platform", "subject", "prev")):
        raise Failed("refusal: another position")
    errors = {keccak(text=sig)[:4]: sig for sig in rule_errors().get(f"R{refusal['rule']}", [])}
    if refusal["revert"][:4] not in errors:
        raise Failed("refusal: not an error of its rule")
    return signature.split("(")[0], errors[refusal["revert"][:4]]


def _split_args(text: str) -> list[str]:
    out, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    return [*out, current] if current else out


def _abi_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        return _eip55(value)
    return value


def refusal_chain(timeline: TimelineDoc) -> tuple[bytes, int]:
    """timeline.md, "Completeness" step 7: the refusal chain the Refusal entries build."""
    head, count = ZERO, 0
    for entry in timeline.entries:
        if entry.record.type == "Refusal":
            message = entry.record.message
            head = keccak(head + keccak(message["call"]) + keccak(message["revert"]))
            count += 1
    return head, count


def completeness(timeline: TimelineDoc, head: bytes,
                 refusals: tuple[bytes, int] | None = (ZERO, 0)) -> None:
    """timeline.md, "Completeness", with `refusals` the (head, count) of refusalState (None
    under version 1, which attests none); raises Failed."""
    if not timeline.entries:
        raise Failed("no entries")
    prev, last_index, heads = ZERO, -1, {ZERO}
    for entry in timeline.entries:
        message = entry.record.message
        if (message["platform"], message["subject"]) != (timeline.platform, timeline.subject):
            raise Failed("another subject or platform")
        if message["prev"] != prev:
            raise Failed("chain broken")
        if entry.leaf_index <= last_index:
            raise Failed("out of log order")
        last_index = entry.leaf_index
        if entry.record.type not in BESIDE_THE_CHAIN:
            prev = entry.record_hash
            heads.add(prev)
    if head not in heads:
        raise Failed("records missing at the end")
    if refusals is not None and refusal_chain(timeline) != refusals:
        raise Failed("refusals missing, altered or never attested")


# --- On chain ---------------------------------------------------------------------------------------


RpcCall = Callable[[str, list[Any]], Any]


def json_rpc(url: str) -> RpcCall:
    counter = iter(range(1, 1 << 62))

    def call(method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": next(counter), "method": method,
                           "params": params}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        if "error" in answer:
            raise Failed(f"{method}: {answer['error']}")
        return answer["result"]

    return call


def _eth_call(rpc: RpcCall, to: str, signature: str, types: list[str], values: list[Any],
              out: list[str]) -> tuple[Any, ...]:
    data = keccak(text=signature)[:4] + abi_encode(types, values)
    result = rpc("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
    return tuple(abi_decode(out, bytes.fromhex(result[2:])))


def runtime_code_matches(code: bytes, artifact: Mapping[str, Any]) -> bool:
    """A2: the deployed code is the artifact's, the immutables' bytes compared as zeros."""
    expected = bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
    if len(code) != len(expected):
        return False
    masked = bytearray(code)
    for ranges in artifact["immutableReferences"].values():
        for item in ranges:
            masked[item["start"] : item["start"] + item["length"]] = bytes(item["length"])
    return bytes(masked) == expected


def anchored(bundle: Bundle, rpc: RpcCall, releases: Sequence[Mapping[str, Any]]) -> int:
    """A1 to A6 of verification.md; returns the anchor's depth (tip - its block). `releases`
    are the artifacts of every released version of the contract."""
    if int(rpc("eth_chainId", []), 16) != bundle.chain_id:
        raise Failed("A1 another chain")
    code = bytes.fromhex(rpc("eth_getCode", [bundle.contract, "latest"])[2:])
    if not any(runtime_code_matches(code, artifact) for artifact in releases):
        raise Failed("A2 not a released BindLedger contract")
    receipt = rpc("eth_getTransactionReceipt", ["0x" + bundle.tx_hash.hex()])
    if receipt is None or int(receipt["status"], 16) != 1:
        raise Failed("A3 no successful anchor transaction")
    if (int(receipt["blockNumber"], 16) != bundle.block_number
            or _hex(receipt["blockHash"], 32) != bundle.block_hash):
        raise Failed("A4 receipt")
    block = rpc("eth_getBlockByNumber", [hex(bundle.block_number), False])
    if (block is None or _hex(block["hash"], 32) != bundle.block_hash
            or int(block["timestamp"], 16) != bundle.block_time):
        raise Failed("A5 block")
    topic = keccak(text="HeadAnchored(address,uint256,uint64,bytes32,uint64)")
    platform_topic = bytes(12) + bytes.fromhex(bundle.platform[2:])
    for log in receipt["logs"]:
        topics = [_hex(t, 32) for t in log["topics"]]
        if (_address(log["address"].lower()) == bundle.contract and topics[:1] == [topic]
                and topics[1] == platform_topic):
            size, root, _time = abi_decode(["uint64", "bytes32", "uint64"],
                                           bytes.fromhex(log["data"][2:]))
            if (size, root) == (bundle.head_size, bundle.head_root):
                return int(rpc("eth_blockNumber", []), 16) - bundle.block_number
    raise Failed("A3 no HeadAnchored event for this head")


def subject_head(rpc: RpcCall, contract: str, platform: str, subject: bytes) -> bytes:
    (state,) = _eth_call(rpc, contract, "subjectState(address,bytes32)", ["address", "bytes32"],
                         [platform, subject],
                         ["(bytes32,bool,uint8,uint64,bool,uint64,bool,uint64)"])
    return bytes(state[0])


def refusal_state(rpc: RpcCall, contract: str, platform: str,
                  subject: bytes) -> tuple[bytes, int]:
    head, count = _eth_call(rpc, contract, "refusalState(address,bytes32)",
                            ["address", "bytes32"], [platform, subject], ["bytes32", "uint64"])
    return bytes(head), int(count)


def replay_refusal(bundle: Bundle, rpc: RpcCall) -> None:
    """Refusal step 5: the call reverts again, with exactly the recorded revert data."""
    refusal = bundle.record.message
    try:
        rpc("eth_call", [{"to": bundle.contract, "data": "0x" + refusal["call"].hex()},
                         hex(refusal["block"])])
    except Failed as exc:
        data = re.search(r"'data': '(0x[0-9a-fA-F]*)'", str(exc))
        if data and _hex(data.group(1)) == refusal["revert"]:
            return
        raise Failed(f"refusal replay: another answer ({exc})") from None
    raise Failed("refusal replay: the contract accepts the call")
