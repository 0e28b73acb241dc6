// The refusal check (docs/spec/verification.md, Refusal): the call carries the refused record,
// the revert is an error of the rule named, and the contract, asked again at the block named,
// refuses the call with exactly that revert.
import ruleErrors from "../rule-errors.json";
import { decodeArguments, AbiDecodeError } from "./abi.js";
import { equalBytes, keccak, toHex, utf8 } from "./bytes.js";
import { enumName, RECORD_TYPES, recordHash } from "./records.js";
import { quantity, RpcError } from "./rpc.js";
import { CHECK, failed, passed } from "./verdict.js";

const RULE_FUNCTIONS = {
  Binding: "recordBinding",
  Verification: "recordVerification",
  Consent: "recordConsent",
  LoanCreation: "createLoan",
  Disbursement: "disburse",
  Repayment: "repay",
  ChannelChange: "changeRepaymentChannel",
  CollectionContact: "recordCollectionContact",
  Dispute: "recordDispute",
  RiskWarning: "recordRiskWarning",
};

const selector = (signature) => toHex(keccak(utf8(signature)).slice(0, 4));

// Each rule function takes the record as a tuple of its members (enums as uint8) and its
// signature; repay also takes the loan's schedule.
const FUNCTIONS = new Map(Object.entries(RULE_FUNCTIONS).map(([type, fn]) => {
  const tuple = RECORD_TYPES[type].members.map((m) => m.type);
  const args = [tuple, "bytes", ...(type === "Repayment" ? ["uint64[]", "uint128[]"] : [])];
  const signature = `${fn}((${tuple.join(",")}),${args.slice(1).join(",")})`;
  return [selector(signature), { type, fn, args }];
}));

const ERRORS = new Map(ruleErrors.map((e) => [selector(e.signature), e]));

function refusedRecord(call) {
  const fn = FUNCTIONS.get(toHex(call.slice(0, 4)));
  if (!fn) throw new AbiDecodeError("the call is no call of a rule function of the contract");
  const [tuple] = decodeArguments(fn.args, call);
  const values = {};
  RECORD_TYPES[fn.type].members.forEach((m, k) => {
    values[m.name] = tuple[k];
  });
  for (const m of RECORD_TYPES[fn.type].members) {
    if (m.type === "uint8" && enumName(fn.type, m.name, 0) !== undefined
        && enumName(fn.type, m.name, Number(values[m.name])) === undefined) {
      throw new AbiDecodeError(`the call's record is not a ${fn.type}: ${m.name} is out of range`);
    }
  }
  return { fn, record: { type: fn.type, values } };
}

/** The refusal check of a bundle whose record is a Refusal. Throws NodeUnreachableError. */
export async function checkRefusal(bundle, rpc) {
  const name = CHECK.REFUSAL;
  const refusal = bundle.record.values;
  const { chainId, contract } = bundle.anchor;
  let refused;
  try {
    refused = refusedRecord(refusal.call);
  } catch (err) {
    if (err instanceof AbiDecodeError) return failed(name, err.message);
    throw err;
  }
  const hash = recordHash(refused.record, chainId, contract);
  if (!equalBytes(hash, refusal.refused)) {
    return failed(name, "the call carries another record than the one the refusal names", toHex(refusal.refused), toHex(hash));
  }
  const r = refused.record.values;
  if (r.platform !== refusal.platform || !equalBytes(r.subject, refusal.subject) || !equalBytes(r.prev, refusal.prev)) {
    return failed(name, "the refused record is of another platform, subject or chain position",
      `${refusal.platform} ${toHex(refusal.subject)} after ${toHex(refusal.prev)}`,
      `${r.platform} ${toHex(r.subject)} after ${toHex(r.prev)}`);
  }
  const rule = `R${refusal.rule}`;
  const error = ERRORS.get(toHex(refusal.revert.slice(0, 4)));
  if (!error || error.rule !== rule) {
    return failed(name, `${error ? error.name : "the revert"} is not a refusal under ${rule}`, rule, error ? error.rule : "no rule");
  }
  try {
    await rpc.call("eth_call", { to: contract, data: toHex(refusal.call) }, quantity(refusal.block));
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    if (err.data === null) {
      return failed(name, `could not replay the call at block ${refusal.block} (the node, not the evidence, is the cause): ${err.message}`);
    }
    if (err.data.toLowerCase() !== toHex(refusal.revert)) {
      return failed(name, `replayed at block ${refusal.block}, the contract refuses it differently`, toHex(refusal.revert), err.data);
    }
    return passed(name, `${refused.record.type} refused under ${rule}: replayed at block ${refusal.block}, the contract refuses it again with ${error.name}`);
  }
  return failed(name, `replayed at block ${refusal.block}, the contract accepts the call`, toHex(refusal.revert), "no revert");
}
