"""Trials of several processes writing one log on PostgreSQL, one of them killed (SIGKILL) at a
random moment; then the log is checked: every platform's leaf indexes run 0..n-1, every head's
root is the Merkle root of the stored leaves at its size, no subject's hash chain forks, and
every acknowledged record is stored.

`run_trial` drives one trial from the test suite or scripts/multiprocess_trials.py. Each
writer is this module run as a program (`python -m tests.support.log_trials URL SEED SECONDS`):
a Ledger on the shared store, with threads that extend a few subjects' chains shared by all
writers (so that they race), in single records and in batches, and seal heads now and then.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from ledger.service import Ledger
    from ledger.store.base import Store

REPO = Path(__file__).resolve().parents[2]
SUBJECTS = 6  # few, so that writers of different processes race on the same chains
THREADS = 2  # per process: their records share commits
SIDE_TYPES = {"Refusal"}


@dataclass
class Trial:
    """What one trial wrote and what the checks found (`faults` empty: all held)."""

    processes: int
    killed_after: float
    records: int = 0
    acknowledged: int = 0
    heads: int = 0
    chain_refusals: int = 0
    faults: list[str] = field(default_factory=list)


def run_trial(url: str, processes: int = 3, seconds: float = 3.0, seed: int = 0) -> Trial:
    """Start `processes` writers on the migrated database at `url`, SIGKILL one of them at a
    random moment, let the others finish, and check the log."""
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.log_trials", url, str(seed * 100 + n),
             str(seconds)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(processes)
    ]
    outputs: list[list[str]] = [[] for _ in writers]
    readers = [
        threading.Thread(target=_read_lines, args=(w, out), daemon=True)
        for w, out in zip(writers, outputs, strict=True)
    ]
    for reader in readers:
        reader.start()
    # Writers print "ready" once they can write; the kill falls while all of them write.
    deadline = time.monotonic() + 120
    while not all("ready" in out for out in outputs):
        if time.monotonic() > deadline or any(w.poll() is not None for w in writers):
            break
        time.sleep(0.02)
    killed_after = rng.uniform(0.1, seconds * 0.9)
    time.sleep(killed_after)
    victim = rng.randrange(processes)
    writers[victim].send_signal(signal.SIGKILL)
    trial = Trial(processes, killed_after)
    for n, (writer, reader) in enumerate(zip(writers, readers, strict=True)):
        writer.wait(timeout=seconds + 120)
        reader.join(timeout=10)
        if n != victim and writer.returncode != 0:
            trial.faults.append(f"writer {n} failed: {writer.stderr.read() if writer.stderr else ''}")
    acknowledged = {line.split()[1] for out in outputs for line in out if line.startswith("ack ")}
    trial.acknowledged = len(acknowledged)
    trial.chain_refusals = sum(
        int(line.split()[1]) for out in outputs for line in out if line.startswith("refused ")
    )
    _seal_everything(url)
    check_log(url, acknowledged, trial)
    return trial


def _seal_everything(url: str) -> None:
    """A new process's ledger seals the whole log: its tree, read from the store, holds every
    record the writers committed, the killed one's included."""
    from ledger.store.postgres import PostgresStore

    store = PostgresStore(url)
    try:
        ledger = ledger_on(store)
        for platform in ledger.platforms:
            ledger.seal(platform)
    finally:
        store.close()


def _read_lines(writer: subprocess.Popen[str], out: list[str]) -> None:
    assert writer.stdout is not None
    for line in writer.stdout:
        out.append(line.strip())


def check_log(url: str, acknowledged: set[str], trial: Trial) -> None:
    """The invariants, read straight from the database (not through the code under test)."""
    from ledger.core.merkle import MerkleLog

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT platform, leaf_index, record_hash, subject, record_type, body FROM records"
            " ORDER BY platform, leaf_index"
        ).fetchall()
        heads = conn.execute(
            "SELECT platform, tree_size, root_hash FROM heads ORDER BY platform, tree_size"
        ).fetchall()
    trial.records, trial.heads = len(rows), len(heads)
    leaves: dict[str, list[bytes]] = {}
    for platform, leaf_index, record_hash, *_ in rows:
        log = leaves.setdefault(platform, [])
        if leaf_index != len(log):
            trial.faults.append(f"{platform}: leaf {leaf_index} where {len(log)} was due")
        log.append(bytes(record_hash))
    stored = {bytes(row[2]).hex() for row in rows}
    lost = acknowledged - stored
    if lost:
        trial.faults.append(f"{len(lost)} acknowledged records are not stored")
    for platform, tree_size, root_hash in heads:
        log = leaves.get(platform, [])
        if tree_size > len(log):
            trial.faults.append(f"{platform}: head {tree_size} is larger than the log")
        elif MerkleLog(log[:tree_size]).root() != bytes(root_hash):
            trial.faults.append(f"{platform}: head {tree_size}'s root is not the leaves' root")
    chains: dict[tuple[str, bytes], bytes] = {}
    for platform, _index, record_hash, subject, record_type, body in rows:
        key = (platform, bytes(subject))
        prev = bytes.fromhex(json.loads(body)["prev"].removeprefix("0x"))
        head = chains.get(key, bytes(32))
        if prev != head:
            trial.faults.append(f"subject 0x{bytes(subject).hex()[:8]} forks at 0x{prev.hex()[:8]}")
        if record_type not in SIDE_TYPES:
            chains[key] = bytes(record_hash)


# -- a writer process ----------------------------------------------------------------------


def ledger_on(store: Store) -> Ledger:
    """A ledger on `store` for the development platform, without a chain: the records' signing
    domain is all that writing and sealing need of a chain and a contract."""
    from ledger.anchoring import AnchorPolicy
    from ledger.config import DEV_REF_SECRET, Settings
    from ledger.drafts import Referencer
    from ledger.service import Ledger

    chain: Any = SimpleNamespace(chain_id=31337)
    contract: Any = SimpleNamespace(address="0x" + "ab" * 20)
    platforms = Settings(_env_file=None).platform_list  # type: ignore[call-arg]
    return Ledger(store, chain, contract, platforms, Referencer(DEV_REF_SECRET.encode()),
                  policy=AnchorPolicy())  # nothing is anchored: the policy is never used


def _writer(url: str, seed: int, seconds: float) -> None:
    from ledger.core.records import Consent, ConsentAction, Purpose, sign_record
    from ledger.errors import LedgerStateError
    from ledger.service import ChainBreakError
    from ledger.store.postgres import PostgresStore

    store = PostgresStore(url)
    ledger = ledger_on(store)
    platform = next(iter(ledger.platforms.values()))
    subjects = [ledger.refs.subject(f"trial-subject-{n}") for n in range(SUBJECTS)]
    out = threading.Lock()
    refused = [0]
    stop = time.monotonic() + seconds

    def say(line: str) -> None:
        with out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def consent(subject: bytes, prev: bytes) -> Consent:
        return Consent(
            platform=platform.address, subject=subject, prev=prev, timestamp=ledger.now(),
            action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
            policy_hash=os.urandom(32), expires_at=0,
        )

    def write(rng: random.Random) -> None:
        written = 0
        while time.monotonic() < stop:
            subject = rng.choice(subjects)
            try:
                if rng.random() < 0.7:
                    accepted = [ledger.sign_and_submit(platform, subject, lambda p, s=subject:
                                                       consent(s, p))]
                else:
                    # A batch of two records on the same chain, the second on top of the first.
                    first = consent(subject, ledger.subject_head(platform.address, subject))
                    second = consent(subject, first.digest(ledger.domain))
                    key = bytes(platform.account.key)
                    accepted = ledger.submit_many(
                        [sign_record(r, ledger.domain, key) for r in (first, second)]
                    )
            except ChainBreakError:
                with out:
                    refused[0] += 1
                continue
            for a in accepted:
                say(f"ack {a.row.record_hash.hex()}")
            written += len(accepted)
            if written % 10 < len(accepted):
                try:
                    ledger.seal(platform.address)
                except LedgerStateError:
                    pass  # another process sealed a larger head first

    say("ready")
    threads = [
        threading.Thread(target=write, args=(random.Random(seed * 10 + t),))
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say(f"refused {refused[0]}")
    store.close()


if __name__ == "__main__":
    _writer(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
