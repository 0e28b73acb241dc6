// Reading proof bundles and timelines (docs/spec/proof-bundle.md, timeline.md): anything that
// breaks the format is "cannot read", before any check runs.
import { CannotReadError, parseJson } from "./json.js";
import { isObject, readAddress, readBytes32, readRecord, readUint } from "./records.js";

export const BUNDLE_FORMAT = "bindledger.proof/1";
export const TIMELINE_FORMAT = "bindledger.timeline/1";
export const MAX_BUNDLE_BYTES = 64 * 1024;
export const MAX_TIMELINE_BYTES = 32 * 1024 * 1024;
export const MAX_ENTRIES = 10000;
export const MAX_PATH = 64;

function members(doc, required, optional, prefix) {
  const unknown = Object.keys(doc).filter((k) => !required.includes(k) && !optional.includes(k));
  if (unknown.length) throw new CannotReadError(`unknown member(s) ${unknown.map((k) => prefix + k).join(", ")}`);
  for (const name of required) {
    if (!(name in doc)) throw new CannotReadError(`missing member ${prefix}${name}`);
  }
}

function object(value, what) {
  if (!isObject(value)) throw new CannotReadError(`${what} must be a JSON object`);
  return value;
}

/** A proof bundle from its parsed JSON. */
export function readBundle(doc, prefix = "") {
  object(doc, prefix ? prefix.slice(0, -1) : "a proof bundle");
  if (doc.format !== BUNDLE_FORMAT) {
    throw new CannotReadError(`${prefix}format must be ${BUNDLE_FORMAT}, got ${String(doc.format).slice(0, 60)}`);
  }
  members(doc, ["format", "record", "recordHash", "leafIndex", "treeSize", "inclusionPath", "head", "anchor"], [], prefix);
  const head = object(doc.head, `${prefix}head`);
  const anchor = object(doc.anchor, `${prefix}anchor`);
  members(head, ["treeSize", "rootHash"], [], `${prefix}head.`);
  members(anchor, ["chainId", "contract", "platform", "txHash", "blockNumber", "blockHash", "blockTime"], [], `${prefix}anchor.`);
  if (!Array.isArray(doc.inclusionPath)) throw new CannotReadError(`${prefix}inclusionPath must be a JSON array`);
  if (doc.inclusionPath.length > MAX_PATH) throw new CannotReadError(`${prefix}inclusionPath has more than ${MAX_PATH} nodes`);
  let record;
  try {
    record = readRecord(doc.record);
  } catch (err) {
    if (err instanceof CannotReadError) throw new CannotReadError(prefix + err.message);
    throw err;
  }
  const u64 = (value, what) => readUint(value, 64, prefix + what);
  return {
    record,
    recordHash: readBytes32(doc.recordHash, `${prefix}recordHash`),
    leafIndex: u64(doc.leafIndex, "leafIndex"),
    treeSize: u64(doc.treeSize, "treeSize"),
    inclusionPath: doc.inclusionPath.map((node, k) => readBytes32(node, `${prefix}inclusionPath[${k}]`)),
    head: { treeSize: u64(head.treeSize, "head.treeSize"), rootHash: readBytes32(head.rootHash, `${prefix}head.rootHash`) },
    anchor: {
      chainId: u64(anchor.chainId, "anchor.chainId"),
      contract: readAddress(anchor.contract, `${prefix}anchor.contract`),
      platform: readAddress(anchor.platform, `${prefix}anchor.platform`),
      txHash: readBytes32(anchor.txHash, `${prefix}anchor.txHash`),
      blockNumber: u64(anchor.blockNumber, "anchor.blockNumber"),
      blockHash: readBytes32(anchor.blockHash, `${prefix}anchor.blockHash`),
      blockTime: u64(anchor.blockTime, "anchor.blockTime"),
    },
  };
}

export function readTimeline(doc) {
  object(doc, "a timeline");
  members(doc, ["format", "platform", "subject", "chainHead", "entries"], ["loan"], "");
  if (!Array.isArray(doc.entries)) throw new CannotReadError("entries must be a JSON array");
  if (doc.entries.length > MAX_ENTRIES) throw new CannotReadError(`more than ${MAX_ENTRIES} entries`);
  return {
    platform: readAddress(doc.platform, "platform"),
    subject: readBytes32(doc.subject, "subject"),
    chainHead: readBytes32(doc.chainHead, "chainHead"),
    loan: "loan" in doc ? readBytes32(doc.loan, "loan") : null,
    entries: doc.entries.map((entry, k) => readBundle(entry, `entries[${k}].`)),
  };
}

/** The document in `text`: { kind: "bundle" | "timeline", doc }. Throws CannotReadError. */
export function readDocument(text) {
  const size = new TextEncoder().encode(text).length;
  if (size > MAX_TIMELINE_BYTES) throw new CannotReadError(`document is larger than ${MAX_TIMELINE_BYTES} bytes`);
  const doc = parseJson(text);
  if (isObject(doc) && doc.format === TIMELINE_FORMAT) return { kind: "timeline", doc: readTimeline(doc) };
  if (size > MAX_BUNDLE_BYTES) throw new CannotReadError(`document is larger than ${MAX_BUNDLE_BYTES} bytes`);
  return { kind: "bundle", doc: readBundle(doc) };
}
