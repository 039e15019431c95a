import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triangulate.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality_report"))

from tiny_world import write_tiny_world  # noqa: E402


@pytest.mark.slow
def test_report_subcommand_writes_a_redacted_report(tmp_path):
    run = write_tiny_world(tmp_path / "run", people=60, seed=2)
    result = CliRunner().invoke(app, ["report", str(run), "--redact"])
    assert result.exit_code == 0, result.output
    index = run / "report" / "index.html"
    assert index.is_file() and "(redacted)" in result.output
    assert "redacted" in index.read_text(encoding="utf-8")


def test_report_subcommand_rejects_a_missing_folder(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "run folder not found" in result.output
    shutil.rmtree(tmp_path, ignore_errors=True)
