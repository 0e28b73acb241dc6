// A2: the contract's code is a released BindLedger version. The releases are listed in
// web/verifier/releases.json (written by scripts/build_verifier.py from ledger/releases.py: the
// frozen earlier releases, whose anchors stay valid, and the current contracts/build).
import releases from "../releases.json";
import { equalBytes, fromHex } from "./bytes.js";

const known = releases.map((release) => ({ ...release, code: fromHex(release.deployedBytecode) }));

/** The release whose runtime code `code` is, the constructor's immutables compared as zeros. */
export function matchingRelease(code) {
  return known.find((release) => {
    if (release.code.length !== code.length) return false;
    const masked = code.slice();
    for (const [start, length] of release.immutableRanges) masked.fill(0, start, start + length);
    return equalBytes(masked, release.code);
  }) || null;
}
