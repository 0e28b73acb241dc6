"""The in-browser verifier's record hashing, signature recovery and RFC 9162 inclusion give the
known answers of tests/vectors/ for every record type (its sources run under Node, bundled by
the same esbuild as the page's script)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from tests.support.requires import require_node_package

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
HARNESS = ROOT / "web" / "verifier" / "test" / "known_answers.mjs"


# How the page's JSON reader reads a text: integers exact as BigInt, fractions kept apart (an
# integer member refuses them), a member named twice and deep nesting refused.
JSON_CASES = [
    ("12000000000000001", "bigint 12000000000000001"),
    ("340282366920938463463374607431768211455", "bigint 340282366920938463463374607431768211455"),
    ("12.0", "fraction 12.0"),
    ("1.2e1", "fraction 1.2e1"),
    ('"a\\u0041\\n"', '"aA\\n"'),
    ('{"a": 1, "a": 2}', 'refused: member "a" appears twice'),
    ("[" * 33 + "]" * 33, "refused: document nests deeper than 32 levels"),
    ("[" * 32 + "]" * 32, "[" * 31 + "[]" + "]" * 31),
    ("01", "refused: not JSON: trailing characters at character 1"),
    ("[1,]", "refused: not JSON: unexpected token at character 3"),
    ("{} x", "refused: not JSON: trailing characters at character 3"),
]


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_node_package("esbuild")
    script = tmp_path_factory.mktemp("verifier") / "known_answers.mjs"
    subprocess.run([str(ROOT / "node_modules" / ".bin" / "esbuild"), str(HARNESS), "--bundle",
                    "--platform=node", "--format=esm", f"--outfile={script}",
                    "--log-level=warning"], cwd=ROOT, check=True)
    out = subprocess.run(["node", str(script), str(VECTORS / "records_eip712.json"),
                          str(VECTORS / "merkle_rfc9162.json")],
                         input=json.dumps([text for text, _ in JSON_CASES]),
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def test_every_record_type_hashes_to_its_known_record_hash(computed: dict[str, Any]) -> None:
    vectors = json.loads((VECTORS / "records_eip712.json").read_text())
    assert len(computed["records"]) == len(vectors["records"]) == 15
    for got, vector in zip(computed["records"], vectors["records"], strict=True):
        assert (got["type"], got["recordHash"]) == (vector["record"]["type"],
                                                    vector["recordHash"])


def test_every_signature_recovers_the_platform(computed: dict[str, Any]) -> None:
    vectors = json.loads((VECTORS / "records_eip712.json").read_text())
    platform = Account.from_key(vectors["platformKey"]).address
    assert {got["signer"] for got in computed["records"]} == {platform}


def test_every_inclusion_proof_leads_to_its_known_root(computed: dict[str, Any]) -> None:
    merkle = json.loads((VECTORS / "merkle_rfc9162.json").read_text())
    expected = [merkle["roots"][str(p["tree_size"])] for p in merkle["inclusion_proofs"]]
    assert computed["inclusion"] == expected and len(expected) == 5


def test_the_json_reader_keeps_integers_exact_and_refuses_what_the_specification_refuses(
        computed: dict[str, Any]) -> None:
    assert computed["json"] == [expected for _, expected in JSON_CASES]
