"""Bad inputs stop before training, naming file, column and problem; nothing is written."""

import shutil

import polars as pl
import pytest

from linkage import LinkageConfig, LinkageInputError, link_sources


@pytest.fixture
def sources(small_world, tmp_path):
    copy = tmp_path / "sources"
    shutil.copytree(small_world / "sources", copy)
    return copy


def _break(path, change):
    frame = pl.read_parquet(path)
    change(frame).write_parquet(path)


def _expect_error(sources, tmp_path, *fragments):
    out = tmp_path / "linkage"
    with pytest.raises(LinkageInputError) as info:
        link_sources(sources, out, LinkageConfig())
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not out.exists()
    assert not any(p.name.startswith(".linkage") for p in tmp_path.iterdir())


def test_missing_column(sources, tmp_path):
    _break(sources / "gp_registrations.parquet", lambda f: f.rename({"surname": "last_name"}))
    _expect_error(sources, tmp_path, "gp_registrations.parquet", "'surname'", "missing column")


def test_duplicate_ids(sources, tmp_path):
    _break(sources / "dwp_customers.parquet", lambda f: pl.concat([f, f.head(2)]))
    _expect_error(sources, tmp_path, "dwp_customers.parquet", "dwp_master_key", "share a record id")


def test_mostly_unparseable_dates(sources, tmp_path):
    # A few impossible dates are repaired (made missing and counted); a column mostly
    # unreadable (here every third value, over the default max_invalid_share 0.2) is refused.
    _break(
        sources / "census.parquet",
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) % 3 == 0)
            .then(pl.lit("not a date"))
            .otherwise(pl.col("date_of_birth").cast(pl.Utf8))
            .alias("date_of_birth")
        ),
    )
    _expect_error(
        sources, tmp_path, "census.parquet", "date_of_birth", "are not a date of birth", "rows: [1,"
    )


def test_empty_table(sources, tmp_path):
    _break(sources / "gp_registrations.parquet", lambda f: f.head(0))
    _expect_error(sources, tmp_path, "gp_registrations.parquet", "empty")


def test_mismatched_types(sources, tmp_path):
    _break(sources / "census.parquet", lambda f: f.with_columns(pl.lit(3.5).alias("surname")))
    _expect_error(sources, tmp_path, "census.parquet", "surname", "expected text")


def test_failed_run_keeps_the_previous_output(linked_world, tmp_path):
    run, _, _ = linked_world
    out = tmp_path / "linkage"
    shutil.copytree(run / "linkage", out)
    with pytest.raises(LinkageInputError):
        link_sources(tmp_path / "nowhere", out, LinkageConfig())
    assert (out / "spine.parquet").exists()
