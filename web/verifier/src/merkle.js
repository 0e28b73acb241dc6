// RFC 9162 inclusion proofs over SHA-256 (docs/spec/merkle.md).
import { concat, sha256 } from "./bytes.js";

export const leafHash = (recordHash) => sha256(concat(new Uint8Array([0]), recordHash));
const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

/** A proof that is malformed (index out of range, a path of the wrong length). */
export class ProofShapeError extends Error {}

/** The root the path leads to from the leaf at `index` of `size` leaves (RFC 9162 2.1.3.2). */
export function rootFromInclusion(leaf, index, size, path) {
  if (index < 0n || index >= size) throw new ProofShapeError(`leaf index ${index} is not in a tree of size ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new ProofShapeError(`the inclusion path has ${path.length} nodes: more than the tree of size ${size} needs`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      // On the right edge of an incomplete subtree: climb the levels where this node has no sibling.
      while (fn !== 0n && (fn & 1n) === 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofShapeError(`the inclusion path has ${path.length} nodes: fewer than the tree of size ${size} needs`);
  return r;
}
