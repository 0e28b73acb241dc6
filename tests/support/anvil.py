"""Start the anvil binary from the npm package on a free loopback port, and stop it."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_anvil(*extra_args: str, port: int | None = None) -> Iterator[str]:
    """Yields the node's URL (on `port`, to restart a node where it was); the process is
    stopped when the block ends."""
    if not ANVIL.exists():
        raise RuntimeError(f"{ANVIL} is missing: run `npm ci` (make test does)")
    port = port or free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent", *extra_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"anvil exited with {proc.returncode}: {stderr}")
        try:
            requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
                          timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"anvil did not answer at {url} within {START_TIMEOUT} s")


@contextmanager
def mining(url: str, every: float = 0.2) -> Iterator[None]:
    """A node that mines a block every `every` seconds while the block runs, as a chain with a
    block time does (the session's anvil mines only when a transaction comes)."""
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(every):
            requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine",
                                     "params": []}, timeout=5)

    thread = threading.Thread(target=mine, name="miner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
