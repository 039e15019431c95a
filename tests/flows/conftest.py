"""Fixtures of the flow tests: one reference run of the command line per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cli_runs import CliRun, run_cli  # noqa: E402


@pytest.fixture(scope="session")
def cli_environment(tmp_path_factory) -> dict[str, str]:
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    return env


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, cli_environment) -> CliRun:
    return run_cli(tmp_path_factory.mktemp("reference"), cli_environment)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server (as ``make ui`` starts) shared by a module's commands, so each
    command need not start a temporary one. Yields the server and its PREFECT_HOME."""
    from triangulate.server import free_port, start_server

    home = tmp_path_factory.mktemp("prefect-home")
    running = start_server(port=free_port(), home=home)
    try:
        yield running, home
    finally:
        running.stop()
