// Records: reading their JSON, the EIP-712 record hash, the platform's signature
// (docs/spec/records.md).
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { CannotReadError } from "./json.js";
import { checksumAddress, concat, equalBytes, fromHex, keccak, toBigInt, toHex, utf8, word } from "./bytes.js";

// Exact type strings of docs/spec/records.md: each member's order and type come from here.
export const TYPE_STRINGS = [
  "Binding(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 action,bytes32 phone,bytes32 account,uint8 factors)",
  "Verification(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 method,bool passed,bytes32 phone)",
  "Consent(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 action,uint8 purpose,bytes32 policyHash,uint64 expiresAt)",
  "LoanCreation(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint64[] dueTimes,uint128[] amounts)",
  "Disbursement(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint128 amount)",
  "Repayment(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint128 amount)",
  "ChannelChange(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,bytes32 channel)",
  "CollectionContact(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,bytes32 channel)",
  "Dispute(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint8 action)",
  "Refusal(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 refused,uint8 rule,bytes call,bytes revert,uint64 block)",
  "Evidence(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 record,bytes32 commitment)",
  "Erasure(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 reason,uint32 items)",
  "Access(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 role,bytes holder,uint8 purpose,bytes route,address owner,bytes32 target)",
  "ModelRelease(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 model,bytes32 features,uint64 seed,uint16 threshold)",
  "RiskWarning(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 model,bytes32 features,uint16 score,uint16 threshold,uint8[] top)",
];

export const RECORD_TYPES = Object.fromEntries(
  TYPE_STRINGS.map((typeString) => {
    const [, name, body] = /^(\w+)\((.*)\)$/.exec(typeString);
    const members = body.split(",").map((m) => {
      const [type, member] = m.split(" ");
      return { type, name: member };
    });
    return [name, { name, typeString, typeHash: keccak(utf8(typeString)), members }];
  }),
);

const ENUMS = {
  BindingAction: ["BIND", "REBIND", "UNBIND"],
  VerificationMethod: ["SMS_OTP", "LIVENESS", "CARRIER_MATCH", "SIM_SWAP_CHECK"],
  ConsentAction: ["GIVEN", "WITHDRAWN"],
  Purpose: ["LENDING", "CONTACT"],
  DisputeAction: ["OPEN", "CLOSE"],
  ErasureReason: ["REQUEST", "RETENTION"],
  AccessRole: ["PLATFORM", "REGULATOR", "ADMIN"],
  AccessPurpose: ["SERVICE", "SUPERVISION", "OPERATION", "SUBJECT_COPY"],
};
// The members written by name in JSON; every other uint8 (factors, rule) is a plain number.
export const ENUM_MEMBERS = {
  "Binding.action": "BindingAction",
  "Verification.method": "VerificationMethod",
  "Consent.action": "ConsentAction",
  "Consent.purpose": "Purpose",
  "Dispute.action": "DisputeAction",
  "Erasure.reason": "ErasureReason",
  "Access.role": "AccessRole",
  "Access.purpose": "AccessPurpose",
};

// Refusals, evidence, erasures and model releases sit beside the subject's chain (a risk
// warning extends it: the contract holds it, rule R9)
// (docs/spec/records.md).
export const BESIDE_CHAIN = new Set(["Refusal", "Evidence", "Erasure", "ModelRelease"]);

export const MAX_ARRAY = 36; // installments of a schedule
export const MAX_BYTES = 8192; // a bytes member
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export function enumNumber(typeName, member, name) {
  const values = ENUMS[ENUM_MEMBERS[`${typeName}.${member}`]];
  return values.indexOf(name);
}

export function enumName(typeName, member, number) {
  return ENUMS[ENUM_MEMBERS[`${typeName}.${member}`]][number];
}

/** An address in EIP-55 or all-lowercase form (any other case is refused); its checksummed form. */
export function readAddress(text, what) {
  const bytes = typeof text === "string" && /^0x[0-9a-fA-F]{40}$/.test(text) ? fromHex(text) : null;
  if (!bytes) throw new CannotReadError(`${what} must be an address (0x and 40 hex digits)`);
  const checksummed = checksumAddress(bytes);
  if (text !== checksummed && text !== text.toLowerCase()) {
    throw new CannotReadError(`${what} is neither EIP-55 checksummed nor all lowercase`);
  }
  return checksummed;
}

export function readBytes32(text, what) {
  const bytes = fromHex(text);
  if (!bytes || bytes.length !== 32) throw new CannotReadError(`${what} must be 0x and 64 hex digits`);
  return bytes;
}

export function readUint(value, bits, what) {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << BigInt(bits)) {
    throw new CannotReadError(`${what} must be an integer in [0, 2^${bits})`);
  }
  return value;
}

function readMember(typeName, member, value) {
  const what = `record.${member.name}`;
  const enumName_ = ENUM_MEMBERS[`${typeName}.${member.name}`];
  if (enumName_) {
    const number = typeof value === "string" ? ENUMS[enumName_].indexOf(value) : -1;
    if (number < 0) throw new CannotReadError(`${what} must be one of ${ENUMS[enumName_].join(", ")}`);
    return BigInt(number);
  }
  switch (member.type) {
    case "address":
      return readAddress(value, what);
    case "bytes32":
      return readBytes32(value, what);
    case "bytes": {
      const bytes = fromHex(value);
      if (!bytes) throw new CannotReadError(`${what} must be 0x and an even number of hex digits`);
      if (bytes.length > MAX_BYTES) throw new CannotReadError(`${what} is longer than ${MAX_BYTES} bytes`);
      return bytes;
    }
    case "bool":
      if (typeof value !== "boolean") throw new CannotReadError(`${what} must be true or false`);
      return value;
    case "uint8[]":
    case "uint64[]":
    case "uint128[]": {
      if (!Array.isArray(value)) throw new CannotReadError(`${what} must be a JSON array`);
      if (value.length > MAX_ARRAY) throw new CannotReadError(`${what} has more than ${MAX_ARRAY} elements`);
      const bits = Number(member.type.slice(4, -2));
      return value.map((v, k) => readUint(v, bits, `${what}[${k}]`));
    }
    default:
      return readUint(value, Number(member.type.slice(4)), what);
  }
}

/** A signed record from its JSON: { type, values (by member name), signature }. */
export function readRecord(doc) {
  if (!isObject(doc)) throw new CannotReadError("record must be a JSON object");
  const type = RECORD_TYPES[doc.type];
  if (!type) throw new CannotReadError(`record.type ${JSON.stringify(String(doc.type)).slice(0, 60)} is not a record type`);
  const allowed = new Set(["type", "signature", ...type.members.map((m) => m.name)]);
  const unknown = Object.keys(doc).filter((k) => !allowed.has(k));
  if (unknown.length) throw new CannotReadError(`unknown member(s) ${unknown.map((k) => "record." + k).join(", ")}`);
  for (const name of allowed) {
    if (!(name in doc)) throw new CannotReadError(`missing member record.${name}`);
  }
  const values = {};
  for (const member of type.members) values[member.name] = readMember(type.name, member, doc[member.name]);
  const signature = fromHex(doc.signature);
  if (!signature || signature.length !== 65) throw new CannotReadError("record.signature must be 0x and 130 hex digits (65 bytes)");
  return { type: type.name, values, signature };
}

export function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function encodeMember(member, value) {
  switch (member.type) {
    case "address":
      return concat(new Uint8Array(12), fromHex(value));
    case "bytes32":
      return value;
    case "bytes":
      return keccak(value);
    case "bool":
      return word(value ? 1n : 0n);
    case "uint8[]":
    case "uint64[]":
    case "uint128[]":
      return keccak(concat(...value.map(word)));
    default:
      return word(value);
  }
}

export function domainSeparator(chainId, contract) {
  const typeHash = keccak(utf8("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));
  return keccak(concat(typeHash, keccak(utf8("BindLedger")), keccak(utf8("1")), word(chainId),
    word(toBigInt(fromHex(contract)))));
}

/** The record hash: the EIP-712 digest of the record under the deployment's domain. */
export function recordHash(record, chainId, contract) {
  const type = RECORD_TYPES[record.type];
  const struct = keccak(concat(type.typeHash, ...type.members.map((m) => encodeMember(m, record.values[m.name]))));
  return keccak(concat(new Uint8Array([0x19, 0x01]), domainSeparator(chainId, contract), struct));
}

export class SignatureError extends Error {}

/** The address whose key signed `digest`; throws SignatureError for a malformed or high-s one. */
export function recoverSigner(digest, signature) {
  if (signature.length !== 65) throw new SignatureError(`the signature is ${signature.length} bytes, not 65`);
  const v = signature[64];
  if (v !== 27 && v !== 28) throw new SignatureError(`the signature's v is ${v}, not 27 or 28`);
  const s = toBigInt(signature.slice(32, 64));
  if (s === 0n || s > SECP256K1_N / 2n) throw new SignatureError("the signature's s is zero or high (malleable)");
  let point;
  try {
    point = secp256k1.Signature.fromBytes(signature.slice(0, 64), "compact")
      .addRecoveryBit(v - 27)
      .recoverPublicKey(digest);
  } catch (err) {
    throw new SignatureError(`no key recovers from the signature (${err.message})`);
  }
  const publicKey = point.toBytes(false).slice(1);
  return checksumAddress(keccak(publicKey).slice(12));
}

export { equalBytes, toHex };
