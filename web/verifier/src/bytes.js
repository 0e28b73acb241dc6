// Bytes, hex and addresses as the specification writes them (docs/spec/records.md, JSON encoding).
import { keccak_256 } from "@noble/hashes/sha3.js";
import { sha256 } from "@noble/hashes/sha2.js";

export const keccak = (bytes) => keccak_256(bytes);
export { sha256 };

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes) {
  return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `0x` + an even number of hex digits (either case) to bytes; null when it is not that. */
export function fromHex(text) {
  if (typeof text !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(text)) return null;
  const out = new Uint8Array((text.length - 2) / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(text.slice(2 + 2 * k, 4 + 2 * k), 16);
  return out;
}

export function utf8(text) {
  return new TextEncoder().encode(text);
}

export function equalBytes(a, b) {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/** A non-negative integer as a 32-byte big-endian word. */
export function word(n) {
  const out = new Uint8Array(32);
  let v = BigInt(n);
  for (let k = 31; k >= 0 && v > 0n; k--) {
    out[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function toBigInt(bytes) {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** The EIP-55 checksummed form of a 20-byte address. */
export function checksumAddress(bytes) {
  const lower = toHex(bytes).slice(2);
  const hash = toHex(keccak(utf8(lower))).slice(2);
  let out = "0x";
  for (let k = 0; k < 40; k++) out += parseInt(hash[k], 16) >= 8 ? lower[k].toUpperCase() : lower[k];
  return out;
}
