"""The separation step: keyed hashes, the linkage key, month of birth, analysis inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from pathlib import Path

import polars as pl
import pytest

from analysis.population import age_at_month
from runcore.runs import ANALYSIS_INPUTS as FOLDER
from runcore.runs import RunFolder
from separation.pseudonyms import input_schema, pseudonymised
from separation.stage import (
    DEMO_KEY,
    KEY_ENV,
    KEY_FILE_ENV,
    RECORD,
    LocalTables,
    MissingKeyError,
    SeparationError,
    keyed_hash,
    linkage_key,
    month_of_birth,
    separate_linked_run,
    separate_run,
)

KEY = b"0123456789abcdef-test-key"
D = dt.date


def test_keyed_hash_is_hmac_sha256_of_the_namespaced_value():
    out = keyed_hash(pl.Series(["C01", None, "C01", "C02"]), KEY, "record").to_list()
    expected = hmac.new(KEY, b"record:C01", hashlib.sha256).hexdigest()
    assert out[0] == out[2] == expected
    assert out[1] is None
    assert out[3] != out[0]
    assert out[0] != hashlib.sha256(b"record:C01").hexdigest(), "keyed, not a plain hash"
    other = keyed_hash(pl.Series(["C01"]), KEY + b"x", "record").to_list()
    assert other[0] != out[0]
    assert keyed_hash(pl.Series(["C01"]), KEY, "person").to_list()[0] != out[0]


def test_keyed_hash_matches_hmac_for_long_keys_and_repeats_give_one_digest():
    long_key = bytes(range(100))  # longer than the SHA-256 block: hashed first, per RFC 2104
    out = keyed_hash(pl.Series(["G1", "ü-é", None, "G1"]), long_key, "person").to_list()
    expected = [
        hmac.new(long_key, f"person:{v}".encode(), hashlib.sha256).hexdigest()
        for v in ["G1", "ü-é"]
    ]
    assert out == [*expected, None, expected[0]]


def test_tables_written_a_batch_at_a_time_equal_the_table_pseudonymised_whole(tmp_path):
    # Seven rows in batches of two: four batches, the last one short, ids repeated across
    # batches (each batch hashes its own ids, so a repeat must still get the same digest).
    frame = pl.DataFrame(
        {
            "record_id": ["C1", "C2", "C3", "C1", "C4", "C2", "C5"],
            "person_id": ["P1", "P1", None, "P2", "P2", "P3", "P1"],
            "date_of_birth": [D(1980, 6, day) for day in (1, 2, 3, 4, 5, 6, 7)],
        }
    )
    ids = {"record_id": "record", "person_id": "person"}
    whole = pseudonymised(frame, KEY, ids)
    write = LocalTables(KEY, rows_per_batch=2)
    source = tmp_path / "table.parquet"
    frame.write_parquet(source, row_group_size=3)
    for given, name in ((source, "from_file"), (frame, "from_frame")):
        target = tmp_path / f"{name}.parquet"
        assert write(given, frame.columns, ids, target) == 7
        assert pl.read_parquet(target).equals(whole), name
    empty = tmp_path / "empty.parquet"
    assert write(frame.clear(), ["record_id", "person_id"], ids, empty) == 0
    assert pl.read_parquet(empty).schema == {"record_id": pl.Utf8, "person_id": pl.Utf8}


def test_key_from_environment_or_file(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with pytest.raises(SeparationError, match=KEY_ENV):
        linkage_key(demo=False)
    key_file = tmp_path / "key"
    key_file.write_bytes(b"from-a-file-0123456789\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    assert linkage_key(demo=False) == b"from-a-file-0123456789"
    monkeypatch.setenv(KEY_ENV, "from-the-environment-0123")
    assert linkage_key(demo=False) == b"from-the-environment-0123"
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(SeparationError, match="shorter than 16 bytes") as error:
        linkage_key(demo=False)
    assert "short'" not in str(error.value) and ": short" not in str(error.value)


def test_demo_key_only_in_demo_mode_with_a_warning(monkeypatch, caplog):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with caplog.at_level(logging.WARNING):
        assert linkage_key(demo=True) == DEMO_KEY
    assert "demo key" in caplog.text
    assert DEMO_KEY.decode() not in caplog.text, "the key itself is never logged"


BIRTHS = [D(1980, 6, 15), D(1980, 6, 1), D(2004, 1, 15), D(2004, 2, 29), D(1955, 12, 31)]


def test_month_of_birth_keeps_every_age_on_the_first_of_a_month():
    frame = pl.DataFrame({"date_of_birth": BIRTHS}).with_columns(
        month_of_birth(pl.col("date_of_birth")).alias("coarse")
    )
    assert frame["coarse"].to_list() == [
        D(1980, 6, 2),
        D(1980, 6, 1),
        D(2004, 1, 2),
        D(2004, 2, 2),
        D(1955, 12, 2),
    ]

    def ages(column: str) -> pl.DataFrame:
        parts = frame.select(
            pl.col(column).dt.year().cast(pl.Int32).alias("birth_year"),
            pl.col(column).dt.month().cast(pl.Int32).alias("birth_month"),
            pl.col(column).dt.day().cast(pl.Int32).alias("birth_day"),
        )
        return parts.select(
            *(age_at_month(pl.lit(k, dtype=pl.Int32)).alias(f"k{k}") for k in range(17))
        )

    assert ages("coarse").equals(ages("date_of_birth"))


def _run_folder(tmp_path):
    run = tmp_path / "run"
    for folder in ("sources", "linkage", "truth"):
        (run / folder).mkdir(parents=True)
    pl.DataFrame(
        {
            "census_person_id": ["C01", "C02"],
            "household_id": ["H1", "H1"],
            "forename": ["Amelia", "Oliver"],
            "middle_names": [None, None],
            "surname": ["Smith", "Jones"],
            "date_of_birth": [D(1980, 6, 15), D(1980, 6, 1)],
            "sex": ["2", "1"],
            "postcode": ["SW1A 1AA", "SW1A 1AA"],
            "lsoa11cd": ["E01000001", "E01000001"],
            "ethnic_group": ["01", "02"],
            "disability": ["3", "3"],
            "usual_resident": [True, True],
            "wholly_imputed": [False, False],
        },
        schema_overrides={"middle_names": pl.Utf8},
    ).write_parquet(run / "sources" / "census.parquet")
    pl.DataFrame(
        {
            "gp_record_id": ["G1"],
            "nhs_number": ["9434765919"],
            "forename": ["Amelia"],
            "surname": ["Smith"],
            "date_of_birth": [D(1980, 6, 15)],
            "sex": ["F"],
            "postcode": ["SW1A 1AA"],
            "registration_date": [D(2000, 1, 1)],
            "deregistration_date": [None],
            "date_of_death": [None],
        },
        schema_overrides={"deregistration_date": pl.Date, "date_of_death": pl.Date},
    ).write_parquet(run / "sources" / "gp_registrations.parquet")
    pl.DataFrame(
        {"gp_record_id": ["G1"], "nhs_number": ["9434765919"], "cluster": ["CVD"]}
    ).with_columns(pl.lit(D(2015, 1, 1)).alias("event_date")).write_parquet(
        run / "sources" / "gp_conditions.parquet"
    )
    pl.DataFrame(
        {"dwp_master_key": ["K1"], "benefit": ["UC"], "start_date": [D(2020, 4, 1)]}
    ).with_columns(pl.lit(None, dtype=pl.Date).alias("end_date")).write_parquet(
        run / "sources" / "dwp_benefit_spells.parquet"
    )
    spine = pl.DataFrame(
        {
            "source": ["census", "census", "gp", "dwp"],
            "record_id": ["C01", "C02", "G1", "K1"],
            "person_id": ["S1", "S2", "S1", "S1"],
            "match_probability": [1.0, 1.0, 0.99, 0.98],
        }
    )
    spine.write_parquet(run / "linkage" / "spine.parquet")
    spine.drop("match_probability").with_columns(
        pl.col("person_id").str.replace("S", "P")
    ).write_parquet(run / "truth" / "record_map.parquet")
    return run, spine


IDENTIFIER_COLUMNS = {"forename", "middle_names", "surname", "postcode", "nhs_number", "nino"}


def test_separated_inputs_hold_keyed_ids_and_attributes_only(tmp_path):
    run, spine = _run_folder(tmp_path)
    summary = separate_run(RunFolder.in_place(run), KEY, threshold_spines={0.9: spine})
    out = run / FOLDER
    assert summary["folder"] == str(out)
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert files == [
        "linkage/spine.parquet",
        "sources/census.parquet",
        "sources/dwp_benefit_spells.parquet",
        "sources/gp_conditions.parquet",
        "sources/gp_registrations.parquet",
        "spines/threshold_0.9.parquet",
        "truth/record_map.parquet",
    ]
    originals = {"C01", "C02", "G1", "K1", "S1", "S2", "P1", "P2"}
    for path in out.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        assert not IDENTIFIER_COLUMNS & set(frame.columns), path
        for column in frame.columns:
            if frame.schema[column] == pl.Utf8:
                assert not originals & set(frame[column].to_list()), (path, column)
    census = pl.read_parquet(out / "sources" / "census.parquet")
    assert census["date_of_birth"].to_list() == [D(1980, 6, 2), D(1980, 6, 1)]
    linked = pl.read_parquet(out / "linkage" / "spine.parquet")
    assert all(len(v) == 64 for v in linked["record_id"].to_list() + linked["person_id"].to_list())
    # Joins survive: every pseudonymised record id of the sources is in the spine, and the
    # census person and the GP and DWP records still share one person.
    gp = pl.read_parquet(out / "sources" / "gp_registrations.parquet")
    joined = linked.join(
        pl.concat(
            [
                census.select(pl.col("census_person_id").alias("record_id")),
                gp.select(pl.col("gp_record_id").alias("record_id")),
            ]
        ),
        on="record_id",
    )
    assert joined.height == 3
    first = linked.filter(pl.col("source") != "census")["person_id"].unique()
    assert first.len() == 1
    threshold = pl.read_parquet(out / "spines" / "threshold_0.9.parquet")
    assert threshold.equals(linked)


def _no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def test_a_current_folder_is_reused_without_the_key(tmp_path, monkeypatch):
    run, _ = _run_folder(tmp_path)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    first = separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)
    assert first["reused"] is False
    written = (run / FOLDER / "linkage" / "spine.parquet").stat().st_mtime_ns
    _no_key(monkeypatch)  # the analyst reusing the folder needs no key
    again = separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)
    assert again["reused"] is True
    assert (
        again["tables"]
        == first["tables"]
        == {
            "sources/census": 2,
            "sources/gp_registrations": 1,
            "sources/gp_conditions": 1,
            "sources/dwp_benefit_spells": 1,
            "linkage/spine": 4,
            "truth/record_map": 4,
        }
    )
    assert (run / FOLDER / "linkage" / "spine.parquet").stat().st_mtime_ns == written


def test_a_changed_input_makes_the_folder_stale(tmp_path, monkeypatch):
    run, spine = _run_folder(tmp_path)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)
    spine.with_columns(pl.lit("S1").alias("person_id")).write_parquet(
        run / "linkage" / "spine.parquet"
    )
    again = separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)
    assert again["reused"] is False
    persons = pl.read_parquet(run / FOLDER / "linkage" / "spine.parquet")["person_id"]
    assert persons.n_unique() == 1, "the folder was rewritten from the changed spine"


def test_a_demo_keyed_folder_is_not_reused_outside_demo_mode(tmp_path, monkeypatch):
    run, _ = _run_folder(tmp_path)
    _no_key(monkeypatch)
    assert separate_linked_run(RunFolder.in_place(run), demo=True, reuse=True)["reused"] is False
    assert separate_linked_run(RunFolder.in_place(run), demo=True, reuse=True)["reused"] is True
    with pytest.raises(MissingKeyError, match=KEY_ENV):
        separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    assert separate_linked_run(RunFolder.in_place(run), demo=False, reuse=True)["reused"] is False
    ids = pl.read_parquet(run / FOLDER / "sources" / "census.parquet")["census_person_id"]
    assert ids[0] == hmac.new(KEY, b"record:C01", hashlib.sha256).hexdigest()


def test_without_a_key_nothing_is_written(tmp_path, monkeypatch):
    run, _ = _run_folder(tmp_path)
    _no_key(monkeypatch)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    with pytest.raises(MissingKeyError, match=KEY_FILE_ENV):
        separate_linked_run(RunFolder.in_place(run), demo=False)
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(SeparationError, match="no such run folder"):
        separate_linked_run(RunFolder.in_place(tmp_path / "absent"), demo=True)
    run, _ = _run_folder(tmp_path)
    (run / "sources" / "gp_conditions.parquet").unlink()
    with pytest.raises(SeparationError, match=r"gp_conditions\.parquet: file not found"):
        separate_linked_run(RunFolder.in_place(run), demo=True)
    assert not (run / FOLDER).exists()


def test_the_record_names_the_digests_of_what_was_read(tmp_path, monkeypatch):
    run, _ = _run_folder(tmp_path)
    _no_key(monkeypatch)
    separate_linked_run(RunFolder.in_place(run), demo=True)
    saved = json.loads((run / FOLDER / RECORD).read_text())
    spine_bytes = (run / "linkage" / "spine.parquet").read_bytes()
    assert saved["inputs"]["linkage/spine.parquet"] == hashlib.sha256(spine_bytes).hexdigest()
    assert saved["demo_key"] is True
    assert saved["thresholds"] == [], "no saved predictions, so no threshold spines"


def test_pseudonymised_hashes_each_id_in_its_namespace_and_coarsens_the_birth_date():
    frame = pl.DataFrame(
        {"record_id": ["C01", "G1"], "person_id": ["S1", None], "date_of_birth": BIRTHS[:2]}
    )
    out = pseudonymised(frame, KEY, {"record_id": "record", "person_id": "person"})
    assert out["record_id"].to_list() == [
        hmac.new(KEY, b"record:C01", hashlib.sha256).hexdigest(),
        hmac.new(KEY, b"record:G1", hashlib.sha256).hexdigest(),
    ]
    assert out["person_id"].to_list() == [
        hmac.new(KEY, b"person:S1", hashlib.sha256).hexdigest(),
        None,
    ]
    assert out["date_of_birth"].to_list() == [D(1980, 6, 2), D(1980, 6, 1)]


def test_an_input_without_a_needed_column_is_named_before_any_engine_reads_it(tmp_path):
    path = tmp_path / "census.parquet"
    pl.DataFrame({"census_person_id": ["C01"], "sex": ["1"]}).write_parquet(path)
    assert input_schema(path, ["sex"]) == {"sex": pl.Utf8}
    with pytest.raises(SeparationError, match=r"census\.parquet: .*no column ethnic_group"):
        input_schema(path, ["census_person_id", "ethnic_group"])
    with pytest.raises(SeparationError, match="file not found"):
        input_schema(tmp_path / "absent.parquet", ["sex"])
    path.write_bytes(b"not parquet")
    with pytest.raises(SeparationError, match="cannot be read for separation"):
        input_schema(path, ["sex"])


@pytest.mark.slow
def test_spark_separates_the_hand_made_run_as_this_process_does(tmp_path, monkeypatch):
    # The Spark twin on the hand-made run: the same files, the keyed hash of C01 by hand.
    pytest.importorskip("pyspark", reason="the Spark twin needs the extra (make venv-spark)")
    from linkage.config import LinkageConfig

    run, _ = _run_folder(tmp_path)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    separate_linked_run(RunFolder.in_place(run), demo=False)
    local = {
        p.relative_to(run / FOLDER): pl.read_parquet(p) for p in (run / FOLDER).rglob("*.parquet")
    }
    spark = LinkageConfig(backend="spark", spark_master="local[1]", spark_shuffle_partitions=2)
    separate_linked_run(RunFolder.in_place(run), demo=False, linkage=spark)
    written = {
        p.relative_to(run / FOLDER): pl.read_parquet(p) for p in (run / FOLDER).rglob("*.parquet")
    }
    assert sorted(written) == sorted(local) and len(local) == 6
    for name, frame in local.items():
        assert written[name].equals(frame), name
    census = written[Path("sources/census.parquet")]
    assert census["census_person_id"][0] == hmac.new(KEY, b"record:C01", hashlib.sha256).hexdigest()
    assert census["date_of_birth"].to_list() == [D(1980, 6, 2), D(1980, 6, 1)]
