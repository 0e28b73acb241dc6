"""The README's "Integrating a platform" section works as written, against a served ledger:
its Python example prints True (a proof verified on the chain), and its shell block signs and
submits a record. Only the URLs (a free port, the test run's anvil) and the binaries' paths
(this checkout's code) are replaced."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ledger.config import DEV_PLATFORM_API_KEY, DEV_PLATFORM_KEY, DEV_REF_SECRET
from tests.client.conftest import REPO, clean_env

README_API = "http://127.0.0.1:8000"
README_CHAIN = "http://127.0.0.1:8545"
ENV = {"platform_key": DEV_PLATFORM_KEY, "ref_secret": DEV_REF_SECRET,
       "api_key": DEV_PLATFORM_API_KEY}


def section_blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Integrating a platform"):]
    section = section[: section.index("\n## ", 1)]
    return re.findall(rf"^```{language}\n(.*?)^```", section, re.DOTALL | re.MULTILINE)


def test_the_readme_python_example_verifies_a_proof(api: str, chain_url: str) -> None:
    [example] = section_blocks("python")
    code = example.replace(README_API, api).replace(README_CHAIN, chain_url)

    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean_env(**ENV),
                          capture_output=True, text=True, timeout=180, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_the_readme_shell_block_signs_and_submits(api: str, tmp_path: Path) -> None:
    [block] = section_blocks("sh")
    script = (block.replace(README_API, api)
              .replace(".venv/bin/bindledger", f"{sys.executable} -m ledger.cli"))

    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          env=clean_env(**ENV) | {"PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=180, check=False)

    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    record_id, record_hash, outcome = line.split("\t")
    assert int(record_id) >= 1 and len(record_hash) == 66 and outcome == "created"
    assert (tmp_path / "signed.json").read_text().count('"signature"') == 1
