"""Tools a test needs and cannot run without: when one is missing the test fails, naming the
command that installs it. A skip would hide the missing tool, and with it the guard the test
is, wherever the install step did not run (`make test` runs every one of them first)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.anvil import ANVIL

ROOT = Path(__file__).resolve().parents[2]
NPM_INSTALL = f"run `npm ci` in {ROOT} (`make test` does)"
APT_INSTALL = "run `sudo apt-get install chromium chromium-driver` (`make test` does)"


def require_node_package(package: str) -> None:
    """Fail unless the npm package (solc, OpenZeppelin, EAS, ...) is in node_modules."""
    if not (ROOT / "node_modules" / package / "package.json").is_file():
        pytest.fail(f"node_modules/{package} is not installed: {NPM_INSTALL}", pytrace=False)


def require_anvil() -> None:
    """Fail unless the anvil binary of the npm package @foundry-rs/anvil is installed."""
    if not ANVIL.is_file():
        pytest.fail(f"anvil is not installed ({ANVIL} is missing): {NPM_INSTALL}", pytrace=False)


def require_programs(*names: str) -> None:
    """Fail unless every Debian program named (chromium, chromedriver) is installed."""
    if missing := [name for name in names if shutil.which(name) is None]:
        pytest.fail(f"{', '.join(missing)} not installed: {APT_INSTALL}", pytrace=False)
