"""Running the real command line as a subprocess, for the rerun and identifier-scan tests.

``python -m triangulate run`` runs as a subprocess in Prefect's local mode, against a Prefect
database kept in a temporary PREFECT_HOME (so its logs and artifacts can be read back).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEOPLE = "3000"
RUN_TIMEOUT = 900


def run_command(out: Path) -> list[str]:
    """The command every test of a CLI run uses: the same configuration, another folder."""
    return [sys.executable, "-m", "triangulate", "run", "--people", PEOPLE, "--out", str(out)]


def published_run(out: Path) -> Path:
    """The one published run folder under ``out``."""
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] != "."]
    assert len(runs) == 1, runs
    return runs[0]


@dataclass(frozen=True)
class CliRun:
    run_dir: Path
    stdout: str
    stderr: str
    prefect_home: Path


def run_cli(out: Path, env: dict[str, str]) -> CliRun:
    """Run the pipeline to completion and return its published folder and output."""
    result = subprocess.run(
        run_command(out), env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return CliRun(published_run(out), result.stdout, result.stderr, Path(env["PREFECT_HOME"]))
