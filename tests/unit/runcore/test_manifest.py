"""The run manifest: versions, configuration, seeds and input digests."""

from __future__ import annotations

import datetime as dt
import json
from importlib import metadata

from runcore.config import RunConfig, load_config
from runcore.manifest import (
    MANIFEST_NAME,
    collect_seeds,
    input_digests,
    sha256_file,
    write_manifest,
)

# FIPS 180-2 test vectors.
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _run_folder(tmp_path):
    run = tmp_path / "people10-seed1-abc"
    (run / "sources" / "nested").mkdir(parents=True)
    (run / "linkage").mkdir()
    (run / "truth").mkdir()
    (run / "sources" / "census.parquet").write_bytes(b"abc")
    (run / "sources" / "nested" / "empty.csv").write_bytes(b"")
    (run / "linkage" / "model.json").write_bytes(b"abc")
    (run / "linkage" / "spine.parquet").write_bytes(b"not an input")
    (run / "truth" / "people.parquet").write_bytes(b"not an input")
    return run


def test_sha256_matches_the_standard_vectors(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "abc") == SHA256_ABC
    assert sha256_file(tmp_path / "empty") == SHA256_EMPTY


def test_input_digests_cover_sources_and_the_model_only(tmp_path):
    run = _run_folder(tmp_path)
    assert input_digests(run) == {
        "sources/census.parquet": SHA256_ABC,
        "sources/nested/empty.csv": SHA256_EMPTY,
        "linkage/model.json": SHA256_ABC,
    }


def test_seeds_are_found_at_any_depth():
    values = {"run": {"seed": 3, "people": 10}, "linkage": {"seed": 42, "em": {"em_seed": 7}}}
    assert collect_seeds(values) == {"run.seed": 3, "linkage.seed": 42, "linkage.em.em_seed": 7}


def test_manifest_records_versions_configuration_seeds_and_inputs(tmp_path):
    run = _run_folder(tmp_path)
    config = load_config(None)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    path = write_manifest(run, config)
    assert path == run / MANIFEST_NAME
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []  # no temp left
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest["run_id"] == run.name
    assert dt.datetime.fromisoformat(manifest["run_date"]) >= before
    versions = manifest["versions"]
    assert set(versions) == {
        "python",
        "splink",
        "duckdb",
        "polars",
        "great-expectations",
        "prefect",
    }
    assert versions["splink"] == metadata.version("splink")
    assert versions["polars"] == metadata.version("polars")
    assert RunConfig.model_validate(manifest["configuration"]) == config
    assert manifest["seeds"]["run.seed"] == config.run.seed
    assert manifest["seeds"]["linkage.seed"] == config.linkage.seed
    assert manifest["inputs_sha256"]["sources/census.parquet"] == SHA256_ABC
    assert manifest["inputs_sha256"]["linkage/model.json"] == SHA256_ABC
