// Runs the verifier's sources on the known-answer vectors and prints what they compute, for
// tests/web/test_verifier_known_answers.py to compare with the vectors' answers.
// Usage: node known_answers.mjs records_eip712.json merkle_rfc9162.json
import { readFileSync } from "node:fs";
import { fromHex, toHex } from "../src/bytes.js";
import { JsonFraction, parseJson } from "../src/json.js";
import { leafHash, rootFromInclusion } from "../src/merkle.js";
import { readRecord, recordHash, recoverSigner } from "../src/records.js";

const [recordsPath, merklePath] = process.argv.slice(2);
// Read with the verifier's own parser: the records' integers must stay exact.
const records = parseJson(readFileSync(recordsPath, "utf8"));
const merkle = JSON.parse(readFileSync(merklePath, "utf8"));
const { chainId, verifyingContract } = records.domain;

const out = {
  records: records.records.map(({ record, signature }) => {
    const read = readRecord({ ...record, signature });
    const digest = recordHash(read, chainId, verifyingContract);
    return { type: read.type, recordHash: toHex(digest), signer: recoverSigner(digest, read.signature) };
  }),
  inclusion: merkle.inclusion_proofs.map(({ leaf_index: index, tree_size: size, proof }) => {
    const leaf = leafHash(fromHex("0x" + merkle.leaves[index]));
    const path = proof.map((node) => fromHex("0x" + node));
    return toHex(rootFromInclusion(leaf, BigInt(index), BigInt(size), path)).slice(2);
  }),
};
// How the strict reader reads a few texts: the value's shape, or the reason it refuses.
const shape = (v) => (typeof v === "bigint" ? `bigint ${v}` : v instanceof JsonFraction ? `fraction ${v.text}`
  : JSON.stringify(v));
out.json = JSON.parse(readFileSync(0, "utf8")).map((text) => {
  try {
    return shape(parseJson(text));
  } catch (err) {
    return `refused: ${err.message}`;
  }
});
console.log(JSON.stringify(out));
