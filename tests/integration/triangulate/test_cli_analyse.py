"""`triangulate analyse RUN_DIR` separates identifiers first, as the pipeline does.

One tiny world from the project's generator, linked with Splink on DuckDB; the command is
compared with the pipeline's own ``analyse`` stage flow (real Prefect, test harness) on a
copy of the same run.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from linkage import link_sources
from runcore.config import load_config
from runcore.runs import ANALYSIS_INPUTS as FOLDER
from separation.stage import KEY_ENV, KEY_FILE_ENV, RECORD
from synthetic_data import generate_world
from triangulate.cli import app

pytestmark = pytest.mark.slow

PEOPLE = 800
SEED = 5
IDENTIFIER_COLUMNS = {"forename", "middle_names", "surname", "postcode", "nhs_number", "nino"}
SOURCE_IDS = {
    "census": "census_person_id",
    "gp_registrations": "gp_record_id",
    "gp_conditions": "gp_record_id",
    "dwp_customers": "dwp_master_key",
    "dwp_benefit_spells": "dwp_master_key",
}


@pytest.fixture(scope="module")
def linked_run(tmp_path_factory) -> Path:
    """A generated and linked run folder with its config.yaml, as the pipeline leaves it."""
    run = tmp_path_factory.mktemp("analyse-cli") / "linked"
    config = load_config(overrides={"run": {"people": PEOPLE, "seed": SEED}})
    generate_world(config.world, people=PEOPLE, seed=SEED, out_dir=run)
    (run / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    link_sources(run / "sources", run / "linkage", config.linkage)
    return run


def _copy(run: Path, name: str) -> Path:
    return Path(shutil.copytree(run, run.parent / name))


def _no_key(monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "published").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def cli_run(linked_run, tmp_path_factory):
    run = _copy(linked_run, "cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, "a-test-key-of-at-least-16-bytes")
        result = CliRunner().invoke(app, ["analyse", str(run)])
    return run, result


def test_analyse_writes_inputs_without_identifiers(linked_run, cli_run):
    run, result = cli_run
    assert result.exit_code == 0, result.output
    assert "Wrote pseudonymised analysis inputs" in result.output
    inputs = run / FOLDER
    files = sorted(p.relative_to(inputs).as_posix() for p in inputs.rglob("*.parquet"))
    assert "sources/census.parquet" in files and "linkage/spine.parquet" in files
    assert any(name.startswith("spines/threshold_") for name in files)
    raw_ids: set[str] = set()
    for name, column in SOURCE_IDS.items():
        raw_ids |= set(pl.read_parquet(linked_run / "sources" / f"{name}.parquet")[column])
    spine = pl.read_parquet(linked_run / "linkage" / "spine.parquet")
    raw_ids |= set(spine["record_id"]) | set(spine["person_id"])
    for path in inputs.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        assert not IDENTIFIER_COLUMNS & set(frame.columns), path
        for column in frame.columns:
            if frame.schema[column] == pl.Utf8:
                assert not raw_ids & set(frame[column].drop_nulls()), (path, column)
    assert len(_digests(run / "analysis")) >= 10


def test_analyse_publishes_what_the_pipeline_publishes(linked_run, cli_run, monkeypatch):
    from prefect.testing.utilities import prefect_test_harness

    from flows.stages import analyse_stage

    run, result = cli_run
    assert result.exit_code == 0, result.output
    piped = _copy(linked_run, "pipeline")
    _no_key(monkeypatch)  # the pipeline pseudonymises with the demo key: other pseudonyms
    with prefect_test_harness(server_startup_timeout=180):
        analyse_stage(str(piped))
    cli_tables, pipeline_tables = _digests(run / "analysis"), _digests(piped / "analysis")
    assert cli_tables and cli_tables == pipeline_tables
    # Reusing the current inputs gives the same tables again, without a key.
    again = CliRunner().invoke(app, ["analyse", str(run), "--out", str(run / "again")])
    assert again.exit_code == 0, again.output
    assert "Reused the current pseudonymised analysis inputs" in again.output
    assert _digests(run / "again") == cli_tables


def test_missing_key_stops_before_writing_anything(linked_run, tmp_path, monkeypatch):
    _no_key(monkeypatch)
    run = _copy(linked_run, "no-key")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    result = CliRunner().invoke(app, ["analyse", str(run)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert KEY_ENV in message and KEY_FILE_ENV in message and "--demo" in message
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_missing_run_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["analyse", str(tmp_path / "absent"), "--demo"])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {tmp_path / 'absent'}: no such run folder"


def test_demo_mode_warns_and_records_the_demo_key(linked_run, monkeypatch, caplog):
    _no_key(monkeypatch)
    run = _copy(linked_run, "demo")
    (run / "linkage" / "predictions.parquet").unlink()  # no threshold spines: quicker
    result = CliRunner().invoke(app, ["analyse", str(run), "--demo"])
    assert result.exit_code == 0, result.output
    assert "demo key" in caplog.text
    assert yaml.safe_load((run / FOLDER / RECORD).read_text())["demo_key"] is True
