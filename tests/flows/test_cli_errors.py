"""What a failed ``triangulate run`` prints (#20): the real command, as a subprocess.

A run stopped for a reason the user can act on (a bad configuration file, a failed data
gate, a locked run folder) prints a one-line error and no traceback; the traceback is in
the run's log file, named on the next line. ``TRIANGULATE_DEBUG=1`` puts it back on the
console. A genuine bug keeps its traceback on the console and in the log file.

The commands share one real Prefect server (as under ``make ui``), so each need not start a
temporary one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runcore.config import config_from_parameters, run_id
from runcore.run_lock import acquire_run_lock, release_run_lock

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--people", "300", "--seed", "5"]


@pytest.fixture
def env(prefect_server, tmp_path):
    running, home = prefect_server
    return {
        **os.environ,
        "PREFECT_API_URL": running.api_url,
        "PREFECT_HOME": str(home),
        "TRIANGULATE_LOG_DIR": str(tmp_path / "logs"),
    }


def _run(env: dict[str, str], *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    start = ["-c", code] if code else ["-m", "triangulate"]
    return subprocess.run(
        [sys.executable, *start, "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def _log_named_in(stderr: str) -> str:
    found = re.search(r"^The run's log, with the details: (.+)$", stderr, re.MULTILINE)
    assert found, stderr[-3000:]
    return Path(found.group(1)).read_text(encoding="utf-8")


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error: ")]


def test_bad_configuration_file_is_one_line(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: {people: [unclosed\n", encoding="utf-8")
    result = _run(env, "--config", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (error,) = _errors(result.stderr)
    assert str(bad) in error and "not valid YAML" in error


def test_failed_data_gate_prints_its_message_and_logs_the_traceback(env, tmp_path):
    # A world of 300 people cannot give 5 census rows per person: the sources gate stops it.
    config = tmp_path / "strict.yaml"
    config.write_text(
        "expectations:\n  rows_per_person: {census: 5.0}\n  row_count_tolerance: 0.0\n",
        encoding="utf-8",
    )
    result = _run(env, *TINY, "--config", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (error,) = _errors(result.stderr)
    assert error.startswith("Error: the run stopped: Suite 'sources'")
    assert "census_row_count" in result.stderr.split(error, 1)[1]  # the failed checks follow
    log = _log_named_in(result.stderr)
    assert "Traceback" in log and "ValidationFailed" in log


def test_refused_lock_prints_its_message_and_debug_shows_the_traceback(env, tmp_path):
    out = tmp_path / "out"
    identifier = run_id(config_from_parameters(None, people=300, seed=5, out=str(out)))
    acquire_run_lock(out, identifier)  # this test's process is the other run
    try:
        refused = _run(env, *TINY, "--out", str(out))
        debugged = _run({**env, "TRIANGULATE_DEBUG": "1"}, *TINY, "--out", str(out))
    finally:
        release_run_lock(out, identifier)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "Traceback" not in refused.stderr
    (error,) = _errors(refused.stderr)
    assert "is already running" in error and f"pid {os.getpid()} on host" in error
    assert "RunLockedError" in _log_named_in(refused.stderr)
    assert debugged.returncode == 2
    assert "Traceback" in debugged.stderr and "RunLockedError" in debugged.stderr


def test_genuine_bug_keeps_its_traceback_on_the_console_and_in_the_log(env, tmp_path):
    # A bug planted in the generate task: not a user's mistake, so nothing hides it.
    code = (
        "import sys; sys.argv[0] = 'triangulate'; import flows.tasks as t\n"
        "def broken(*args, **kwargs): return 1 / 0\n"
        "t.generate_world = broken\n"
        "from triangulate.cli import main; main()\n"
    )
    result = _run(env, *TINY, "--out", str(tmp_path / "out"), code=code)
    assert result.returncode not in (0, 2), result.stderr[-3000:]
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr
    assert not _errors(result.stderr)  # not dressed up as a user's mistake
    logs = list((tmp_path / "logs").glob("*.log"))
    assert len(logs) == 1 and "ZeroDivisionError" in logs[0].read_text(encoding="utf-8")
