"""What every bench part shares: chains, accounts, the bench contracts, timing helpers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.artifacts import Artifact
from ledger.chain.client import ChainClient, EmbeddedChain, RpcChain
from ledger.config import DEV_ADMIN_KEY, DEV_PLATFORM_KEY
from ledger.errors import LedgerLookupError

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_BUILD = REPO_ROOT / "bench" / "build"
ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
CHAIN_KINDS = ("eth-tester", "anvil")
_ANVIL_START_TIMEOUT = 30.0


def admin() -> LocalAccount:
    account: LocalAccount = Account.from_key(DEV_ADMIN_KEY)
    return account


def platform_account() -> LocalAccount:
    account: LocalAccount = Account.from_key(DEV_PLATFORM_KEY)
    return account


def bench_artifact(name: str) -> Artifact:
    """An artifact of bench/build/ (scripts/compile_bench_contracts.py writes them)."""
    path = BENCH_BUILD / f"{name}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerLookupError(
            f"{path} is missing: run python scripts/compile_bench_contracts.py"
        ) from None
    return Artifact(name, doc["abi"], doc["bytecode"], doc["deployedBytecode"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_anvil() -> Iterator[str]:
    """Starts anvil (from the pinned npm package) on a free port; yields its URL."""
    if not ANVIL.exists():
        raise LedgerLookupError(f"{ANVIL} is missing: run npm ci")
    port = free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _ANVIL_START_TIMEOUT
        while True:
            try:
                RpcChain(url)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise LedgerLookupError(f"anvil did not start at {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chain_of(kind: str, url: str | None) -> Iterator[ChainClient]:
    """A fresh chain of `kind`: eth-tester in process, or anvil at `url`."""
    if kind == "eth-tester":
        yield EmbeddedChain()
    else:
        assert url is not None
        yield RpcChain(url)


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile (0..1) of already sorted values, nearest rank."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def backends() -> dict[str, str]:
    """The keccak and secp256k1 implementations in use (both sit on every record)."""
    from eth_hash.auto import keccak
    from eth_keys.backends import get_backend

    keccak(b"")  # eth-hash picks its backend on first use
    return {
        "keccakBackend": type(keccak.hasher.__self__).__name__,  # type: ignore[attr-defined]
        "secp256k1Backend": type(get_backend()).__name__,
    }


def machine() -> dict[str, Any]:
    """The machine the bench ran on, for the report."""
    import platform as _platform

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    return {
        **backends(),
        "cpu": cpu or _platform.processor(),
        "cores": os.cpu_count(),
        "memoryGiB": round(memory / 2**30, 1),
        "python": _platform.python_version(),
        "system": f"{_platform.system()} {_platform.release()}",
    }
