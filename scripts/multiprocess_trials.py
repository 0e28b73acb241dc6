"""Many trials of several processes writing one PostgreSQL log, one killed with SIGKILL at a
random moment in each (tests/support/log_trials.py says what is checked). Prints one line per
trial and a summary; exits 1 if any trial found a fault.

    BINDLEDGER_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python scripts/multiprocess_trials.py --trials 30
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.log_trials import run_trial
from tests.support.postgres import ENV, HOW, fresh_database, fresh_schema


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="each trial's writing time")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    server = os.environ.get(ENV)
    if not server:
        print(f"{ENV} is not set: {HOW}", file=sys.stderr)
        return 2
    totals = {"records": 0, "acknowledged": 0, "heads": 0, "refused": 0}
    failed = 0
    started = time.monotonic()
    with fresh_database(server) as database:
        for n in range(args.trials):
            with fresh_schema(database) as url:
                trial = run_trial(url, args.processes, args.seconds, seed=args.seed + n)
            totals["records"] += trial.records
            totals["acknowledged"] += trial.acknowledged
            totals["heads"] += trial.heads
            totals["refused"] += trial.chain_refusals
            verdict = "ok" if not trial.faults else "FAULT " + "; ".join(trial.faults[:3])
            failed += bool(trial.faults)
            print(
                f"trial {n + 1:3d}: killed after {trial.killed_after:4.2f} s, "
                f"{trial.records:5d} records ({trial.acknowledged} acknowledged), "
                f"{trial.heads:3d} heads, {trial.chain_refusals:4d} stale prevs refused: "
                f"{verdict}",
                flush=True,
            )
    print(
        f"{args.trials} trials of {args.processes} processes (seed {args.seed}), "
        f"{time.monotonic() - started:.0f} s: {totals['records']} records "
        f"({totals['acknowledged']} acknowledged, all stored unless reported), "
        f"{totals['heads']} heads, {totals['refused']} stale prevs refused; "
        f"{failed} trial(s) with a fault"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
