// A timeline: every entry as a proof bundle, its completeness and, for a loan's timeline, the
// loan as the contract holds it (docs/spec/timeline.md).
import { concat, equalBytes, fromHex, keccak, toBigInt, toHex, utf8 } from "./bytes.js";
import { verifyBundle } from "./bundle.js";
import { BESIDE_CHAIN } from "./records.js";
import { matchingRelease } from "./releases.js";
import { RpcError } from "./rpc.js";
import { CHECK, failed, passed, reasonOf } from "./verdict.js";

const ZERO = new Uint8Array(32);
const selector = (signature) => keccak(utf8(signature)).slice(0, 4);
const SUBJECT_STATE = selector("subjectState(address,bytes32)");
const LOAN_STATE = selector("loanState(address,bytes32,bytes32)");
const REFUSAL_STATE = selector("refusalState(address,bytes32)");
const addressWord = (address) => concat(new Uint8Array(12), fromHex(address));

async function view(rpc, contract, data) {
  const out = fromHex(await rpc.call("eth_call", { to: contract, data: toHex(data) }, "latest"));
  if (!out || out.length < 32) throw new RpcError("eth_call", { message: "the contract's answer is too short" });
  return out;
}

const refusalsOf = (count) => `${count} refusal${count === 1n ? "" : "s"}`;

/** The refusal chain the timeline's Refusal entries build, in order (timeline.md, step 7). */
export function refusalChain(timeline) {
  let head = ZERO;
  let count = 0n;
  for (const entry of timeline.entries) {
    if (entry.record.type !== "Refusal") continue;
    const r = entry.record.values;
    head = keccak(concat(head, keccak(r.call), keccak(r.revert)));
    count += 1n;
  }
  return { head, count };
}

/** A failed completeness check when the refusals are not those the contract attested. */
function checkRefusals(timeline, onChain) {
  const built = refusalChain(timeline);
  if (built.count === onChain.count && equalBytes(built.head, onChain.head)) return null;
  const expected = `${refusalsOf(onChain.count)}, head ${toHex(onChain.head)}`;
  const actual = `${refusalsOf(built.count)}, head ${toHex(built.head)}`;
  let what;
  if (built.count < onChain.count) {
    const missing = onChain.count - built.count;
    what = `the contract attested ${refusalsOf(onChain.count)} of this subject, the timeline holds ${built.count}: `
      + `${missing} refusal${missing > 1n ? "s are" : " is"} missing`;
  } else if (built.count > onChain.count) {
    what = `the timeline holds ${refusalsOf(built.count)}, the contract attested ${onChain.count}: a refusal in it was never attested`;
  } else {
    what = `the timeline's ${refusalsOf(built.count)} do not rebuild the contract's refusal chain: a refusal is missing, altered or reordered`;
  }
  return failed(CHECK.COMPLETENESS, what, expected, actual);
}

/** The subject's refusal chain as the contract holds it; null for a release that attests none. */
async function refusalsOnChain(rpc, contract, timeline) {
  const release = matchingRelease(fromHex(await rpc.call("eth_getCode", contract, "latest")) || new Uint8Array());
  // No release at all: the entries' "head on chain" checks say so; read it as the current one.
  if (release && !release.attestsRefusals) return null;
  const attested = await view(rpc, contract, concat(REFUSAL_STATE, addressWord(timeline.platform), timeline.subject));
  return { head: attested.slice(0, 32), count: toBigInt(attested.slice(32, 64)) };
}

export function checkCompleteness(timeline, head, refusalsOnChain = { head: ZERO, count: 0n }) {
  const name = CHECK.COMPLETENESS;
  if (!timeline.entries.length) return failed(name, "the timeline has no records");
  let prev = ZERO;
  let lastIndex = -1n;
  let lastChained = -1;
  const seen = [ZERO];
  for (const [i, entry] of timeline.entries.entries()) {
    const r = entry.record.values;
    if (!equalBytes(r.subject, timeline.subject) || r.platform !== timeline.platform) {
      return failed(name, `entry ${i} belongs to another subject or platform`,
        `${timeline.platform} ${toHex(timeline.subject)}`, `${r.platform} ${toHex(r.subject)}`);
    }
    if (!equalBytes(r.prev, prev)) {
      const what = lastChained < 0 ? "the first record must start the chain"
        : `entry ${i} does not follow entry ${lastChained}: a record is missing, reordered or altered between them`;
      return failed(name, what, toHex(prev), toHex(r.prev));
    }
    if (entry.leafIndex <= lastIndex) {
      return failed(name, `entry ${i} is not after entry ${i - 1} in the log`, `leaf index > ${lastIndex}`, entry.leafIndex);
    }
    lastIndex = entry.leafIndex;
    if (!BESIDE_CHAIN.has(entry.record.type)) {
      prev = entry.recordHash;
      lastChained = i;
      seen.push(prev);
    }
  }
  if (!seen.some((h) => equalBytes(h, head))) {
    return failed(name, "the chain holds a later record of this subject than the timeline shows: records are missing at the end",
      toHex(head), toHex(prev));
  }
  const refusalFailure = refusalsOnChain ? checkRefusals(timeline, refusalsOnChain) : null;
  if (refusalFailure) return refusalFailure;
  const beside = timeline.entries.filter((e) => BESIDE_CHAIN.has(e.record.type)).length;
  const onChain = equalBytes(head, ZERO) ? "no record of the subject is held by the contract yet"
    : `the contract's head of the subject, ${toHex(head)}, is among them`;
  const refused = timeline.entries.filter((e) => e.record.type === "Refusal").length;
  // Evidence, erasures and the like sit beside the chain too; only refusals are attested.
  const which = !refusalsOnChain ? "a contract release that attests none"
    : refused === beside ? `${beside > 1 ? "all" : "the one"} the contract attested`
      : `${refused} of them refusals the contract attested`;
  const refusals = beside ? ` (and ${beside} refusal${beside > 1 ? "s" : ""} beside the chain, ${which})` : "";
  return passed(name, `${timeline.entries.length - beside} records chained from the first to ${toHex(prev)}${refusals}; ${onChain}`);
}

export function checkLoan(timeline, held, head) {
  const name = CHECK.LOAN;
  const loan = timeline.loan;
  const created = timeline.entries.findIndex((e) => e.record.type === "LoanCreation" && equalBytes(e.record.values.loan, loan));
  if (created < 0) return failed(name, `the timeline holds no creation record of loan ${toHex(loan)}`);
  if (held.platform !== timeline.platform) {
    return failed(name, "the contract holds no such loan of this subject at this platform", timeline.platform, held.platform);
  }
  // The repayments up to the subject's head on chain: later records are not on chain yet.
  let upTo = timeline.entries.findIndex((e) => equalBytes(e.recordHash, head)) + 1;
  if (upTo === 0) upTo = equalBytes(head, ZERO) ? 0 : timeline.entries.length;
  const repayments = timeline.entries.slice(0, upTo)
    .filter((e) => e.record.type === "Repayment" && equalBytes(e.record.values.loan, loan))
    .map((e) => e.record.values.amount);
  const sum = repayments.reduce((a, b) => a + b, 0n);
  if (sum !== held.repaid) {
    return failed(name, `the loan's ${repayments.length} repayments in the timeline add up to another amount than the contract holds as repaid`,
      held.repaid, sum);
  }
  return passed(name, `loan ${toHex(loan)} created at entry ${created}; its ${repayments.length} repayments, ${sum} in all, are what the contract holds`);
}

/** The verdict of a timeline. Throws NodeUnreachableError when the node does not answer. */
export async function verifyTimeline(timeline, rpc) {
  const cache = new Map();
  const entries = [];
  for (const [index, entry] of timeline.entries.entries()) {
    entries.push({ index, type: entry.record.type, ...(await verifyBundle(entry, rpc, cache)) });
  }
  let completeness;
  let loan = null;
  if (!entries.length) {
    completeness = failed(CHECK.COMPLETENESS, "the timeline has no records");
  } else {
    const contract = timeline.entries[0].anchor.contract;
    try {
      const state = await view(rpc, contract, concat(SUBJECT_STATE, addressWord(timeline.platform), timeline.subject));
      const head = state.slice(0, 32);
      completeness = checkCompleteness(timeline, head, await refusalsOnChain(rpc, contract, timeline));
      if (timeline.loan) {
        const held = await view(rpc, contract, concat(LOAN_STATE, addressWord(timeline.platform), timeline.subject, timeline.loan));
        const phase = toBigInt(held.slice(0, 32));
        const holder = phase !== 0n ? timeline.platform : "0x" + "00".repeat(20);
        loan = checkLoan(timeline, { platform: holder, repaid: toBigInt(held.slice(7 * 32, 8 * 32)) }, head);
      }
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      completeness = failed(CHECK.COMPLETENESS, `could not read the subject's head, refusals or loan on chain: ${err.message}`,
        toHex(timeline.chainHead), "unknown");
    }
  }
  const whole = [completeness, ...(loan ? [loan] : [])];
  const verified = whole.every((c) => c.outcome === "passed") && entries.every((e) => e.verified);
  let reason = "all checks passed";
  const badWhole = whole.find((c) => c.outcome !== "passed");
  const badEntry = entries.find((e) => !e.verified);
  if (badWhole) reason = reasonOf([badWhole], false);
  else if (badEntry) reason = `entry ${badEntry.index}: ${badEntry.reason}`;
  return { verified, reason, completeness, ...(loan ? { loan } : {}), entries };
}
