"""The API as `bindledger serve` runs it, for the bench: `python -m ledger.bench.server`.

One uvicorn process (uvloop and httptools, picked by uvicorn[standard]), the anchoring worker
inside it, a fresh contract deployed at start. Differences from `serve`: no access log (one line
per request is not what is measured) and the anchoring period is set from the command line.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from api.main import create_app
from ledger.bench.throughput import BENCH_CONFIRMATIONS
from ledger.config import Settings
from ledger.runtime import open_ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--anchor-every-records", type=int, default=1024)
    parser.add_argument("--anchor-every-seconds", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(
        chain=args.chain,
        database=args.database,
        contract=None,
        anchor_every_records=args.anchor_every_records,
        anchor_every_seconds=args.anchor_every_seconds,
        confirmations=BENCH_CONFIRMATIONS,
    )
    ledger = open_ledger(settings)
    uvicorn.run(
        create_app(settings, ledger),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
