"""The README's "Using it" section works as written, top to bottom.

Its shell blocks are run as they stand, on an anvil with a block time of 1 s as the README
starts it, with `serve` as a real subprocess in the background, from an empty folder, and with
no BINDLEDGER_* setting but the defaults. Only what cannot be run literally is replaced: the
binaries' paths (this checkout's code), the ports (free ones) and the `0x...` the reader copies
from `deploy`'s output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.anvil import free_port, running_anvil

ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 180.0
README_CHAIN = "http://127.0.0.1:8545"
README_API = "http://127.0.0.1:8000"


def using_it_commands() -> list[str]:
    """The commands of the README's "Using it" shell blocks, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Using it"):]
    section = section[: section.index("\n## ", 1)]
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", section, re.DOTALL | re.MULTILINE):
        joined = re.sub(r"\\\n\s*", "", block)
        commands += [line for line in joined.splitlines()
                     if line.strip() and not line.lstrip().startswith("#")]
    return commands


@pytest.fixture
def chain() -> Iterator[str]:
    with running_anvil("--block-time", "1") as url:
        yield url


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_the_readme_using_it_section_runs_as_written(chain: str, tmp_path: Path) -> None:
    commands = using_it_commands()
    assert commands[0].startswith("node_modules/.bin/anvil --block-time 1 &")
    api = f"http://127.0.0.1:{free_port()}"
    bindledger = f"{sys.executable} -m ledger.cli"
    env = _environment()
    contract: str | None = None
    outputs: dict[str, str] = {}
    server: subprocess.Popen[bytes] | None = None
    try:
        for command in commands[1:]:
            line = (command.replace(".venv/bin/bindledger", bindledger)
                    .replace(README_CHAIN, chain).replace(README_API, api))
            if " serve " in line:
                assert contract is not None, "serve comes after deploy"
                line = line.replace("0x...", contract).replace(
                    " &", f" --port {api.rsplit(':', 1)[1]} &")
                assert line.split("#")[0].rstrip().endswith("&")
                server = subprocess.Popen(
                    ["bash", "-c", line.split("#")[0].rstrip().removesuffix("&")], cwd=tmp_path,
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _wait_for(api, server)
                continue
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                                  check=False)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            outputs[command] = done.stdout
            if " deploy " in line:
                contract = done.stdout.strip().splitlines()[-1]
                assert "--contract" in done.stderr  # it says what to do next
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
            if server.stderr is not None:
                server.stderr.close()

    said = "\n".join(outputs.values())
    assert said.count("VERIFIED") >= 2 and "NOT VERIFIED" not in said
    verdicts = [json.loads(out) for cmd, out in outputs.items() if "/v1/verify" in cmd]
    assert [v["verified"] for v in verdicts] == [True]
    timeline = json.loads((tmp_path / "timeline.json").read_text())
    assert [e["record"]["type"] for e in timeline["entries"]] == ["Binding", "Verification"]
    assert (tmp_path / "report.html").exists()
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


def _wait_for(api: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"serve exited with {server.returncode}: {stderr[-2000:]}")
        try:
            if httpx.get(f"{api}/healthz", timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"serve did not answer at {api}")
