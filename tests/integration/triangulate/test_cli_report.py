import sys
from pathlib import Path

from typer.testing import CliRunner

from triangulate.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality_report"))

from conftest import make_run  # noqa: E402


def test_report_subcommand_writes_a_redacted_report_for_an_unlinked_run(tmp_path):
    run = make_run(tmp_path / "run", people=300, seed=2, linked=False)
    result = CliRunner().invoke(app, ["report", str(run), "--redact"])
    assert result.exit_code == 0, result.output
    index = run / "report" / "index.html"
    assert index.is_file() and "(redacted)" in result.output
    text = index.read_text(encoding="utf-8")
    assert "redacted" in text and 'data-absent="linkage/spine.parquet"' in text


def test_report_subcommand_rejects_a_missing_folder(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "run folder not found" in result.output
