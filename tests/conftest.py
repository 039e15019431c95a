"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Chromium:
    """Headless Chromium from Debian's package, driven from the command line."""

    binary: str
    profile: Path

    def _run(self, *args: str, timeout: int = 120) -> str:
        result = subprocess.run(
            [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return result.stdout

    def dom(self, url: str, *, budget_ms: int = 10_000) -> str:
        """The page's DOM after its scripts have run (virtual time lets charts draw)."""
        return self._run(f"--virtual-time-budget={budget_ms}", "--dump-dom", url)

    def screenshot(self, url: str, path: Path, *, size: str = "1280,2400") -> Path:
        """Write a PNG screenshot of the page."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run(
            "--virtual-time-budget=10000", f"--window-size={size}", f"--screenshot={path}", url
        )
        return path


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    """Headless Chromium; .ci/run installs Debian's ``chromium`` package."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Chromium is not installed: run `apt-get install chromium` (as .ci/run does).")
    return Chromium(binary=binary, profile=tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="session")
def test_output_dir() -> Path:
    """A folder kept after the run for screenshots a person may want to look at."""
    path = Path(__file__).resolve().parent.parent / "test-output"
    path.mkdir(exist_ok=True)
    return path
