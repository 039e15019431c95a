"""``triangulate generate``: writes a run folder and prints a summary; bad config writes nothing."""

from typer.testing import CliRunner

from triangulate.cli import app

runner = CliRunner()


def test_generate_writes_a_run_folder_and_prints_a_summary(tmp_path):
    result = runner.invoke(
        app, ["generate", "--people", "800", "--seed", "2", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert (run / "config.yaml").exists()
    assert (run / "sources" / "census.parquet").exists()
    assert (run / "truth" / "record_map.parquet").exists()
    assert "800 people" in result.output and "seed 2" in result.output
    for name in ("census", "gp_registrations", "dwp_customers"):
        assert name in result.output
    assert str(run) in result.output.replace("\n", "")


def test_invalid_config_stops_before_anything_is_written(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("world:\n  census:\n    non_response: 1.5\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 2
    assert "world.census.non_response" in result.output
    assert not out.exists()


def test_non_positive_people_is_a_config_error(tmp_path):
    result = runner.invoke(app, ["generate", "--people", "0", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "run.people" in result.output
    assert not (tmp_path / "o").exists()


def test_help_lists_the_options():
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    for option in ("--people", "--seed", "--config", "--out"):
        assert option in result.output
