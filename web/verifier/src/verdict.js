// Checks and verdicts, named and shaped as ledger/core/verdict.py reports them, so the page's
// verdict can be compared with `bindledger verify` check by check.

export const CHECK = {
  RECORD_HASH: "record hash",
  SIGNATURE: "signature",
  INCLUSION: "inclusion",
  HEAD_ON_CHAIN: "head on chain",
  ANCHOR_TRANSACTION: "anchor transaction",
  REFUSAL: "refusal",
  COMPLETENESS: "completeness",
  LOAN: "loan",
};

export const passed = (check, detail) => ({ check, outcome: "passed", detail });
export const skipped = (check, detail) => ({ check, outcome: "skipped", detail });

export function failed(check, detail, expected, actual) {
  const out = { check, outcome: "failed", detail };
  if (expected !== undefined) {
    out.expected = String(expected);
    out.actual = String(actual);
  }
  return out;
}

export function bundleVerdict(checks) {
  const verified = checks.length > 0 && checks.every((c) => c.outcome === "passed");
  return { verified, reason: reasonOf(checks, verified), checks };
}

export function reasonOf(checks, verified) {
  const failure = checks.find((c) => c.outcome === "failed") || checks.find((c) => c.outcome !== "passed");
  if (!failure) return verified ? "all checks passed" : "no checks ran";
  let reason = `${failure.check}: ${failure.detail}`;
  if (failure.expected !== undefined) reason += ` (expected ${failure.expected}, got ${failure.actual})`;
  return reason;
}
