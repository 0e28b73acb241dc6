// Just enough of the Solidity ABI to read a rule function's calldata: the record tuple, its
// signature, and (for repay) the loan's schedule.
import { checksumAddress, toBigInt } from "./bytes.js";

export class AbiDecodeError extends Error {}

function isDynamic(type) {
  return Array.isArray(type) ? type.some(isDynamic) : type === "bytes" || type.endsWith("[]");
}

function wordAt(data, at) {
  if (at + 32 > data.length) throw new AbiDecodeError("the call data ends early");
  return data.slice(at, at + 32);
}

function offsetAt(data, at) {
  const v = toBigInt(wordAt(data, at));
  if (v > BigInt(data.length)) throw new AbiDecodeError("an offset points outside the call data");
  return Number(v);
}

/** Decode a value of `type` ("address", "uint64", "bytes", "uint128[]", or a tuple as an array
 * of types) from the head slot at `at` of `data`, relative to `base`. */
function decodeAt(type, data, base, at) {
  if (isDynamic(type)) {
    const start = base + offsetAt(data, at);
    return decodeTail(type, data, start);
  }
  if (Array.isArray(type)) return decodeTuple(type, data, at);
  return decodeStatic(type, wordAt(data, at));
}

function decodeTail(type, data, start) {
  if (Array.isArray(type)) return decodeTuple(type, data, start);
  if (type === "bytes") {
    const length = offsetAt(data, start);
    if (start + 32 + length > data.length) throw new AbiDecodeError("a bytes value ends outside the call data");
    return data.slice(start + 32, start + 32 + length);
  }
  const element = type.slice(0, -2);
  const length = offsetAt(data, start);
  const out = [];
  for (let k = 0; k < length; k++) out.push(decodeStatic(element, wordAt(data, start + 32 + 32 * k)));
  return out;
}

function decodeTuple(types, data, start) {
  let at = start;
  return types.map((type) => {
    const value = decodeAt(type, data, start, at);
    at += !isDynamic(type) && Array.isArray(type) ? 32 * type.length : 32;
    return value;
  });
}

function decodeStatic(type, w) {
  const v = toBigInt(w);
  if (type === "address") {
    if (v >> 160n) throw new AbiDecodeError("an address has more than 20 bytes");
    return checksumAddress(w.slice(12));
  }
  if (type === "bytes32") return w;
  if (type === "bool") {
    if (v > 1n) throw new AbiDecodeError("a bool is neither 0 nor 1");
    return v === 1n;
  }
  const bits = BigInt(type.slice(4));
  if (v >> bits) throw new AbiDecodeError(`a ${type} is out of range`);
  return v;
}

/** The arguments of a call's data after its 4-byte selector. */
export function decodeArguments(types, data) {
  return decodeTuple(types, data.slice(4), 0);
}
