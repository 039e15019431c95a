"""The suites on a generated world: every suite passes, and one deliberately broken copy per
family of expectation fails on exactly the expected check."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from expectations import validate_linkage, validate_sources
from expectations.config import ExpectationsConfig
from expectations.prepare import key_exists
from expectations.runner import run_suite
from expectations.suites import SOURCE_SUITES
from synthetic_data import WorldConfig, generate_world
from tests.unit.expectations.helpers import failed

PEOPLE = 4000
CONFIG = ExpectationsConfig()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("gx-world")
    generate_world(WorldConfig(), people=PEOPLE, seed=3, out_dir=run)
    # A perfect spine from the ground truth: what a flawless linkage would write.
    truth = pl.read_parquet(run / "truth" / "record_map.parquet")
    (run / "linkage").mkdir()
    truth.select(
        "source", "record_id", "person_id", pl.lit(1.0).alias("match_probability")
    ).write_parquet(run / "linkage" / "spine.parquet")
    return run


def _source(world: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(world / "sources" / f"{name}.parquet")


def test_source_and_linkage_suites_pass_on_generated_world(world):
    out = world / "validation"
    sources = validate_sources(world / "sources", out, CONFIG, people=PEOPLE)
    assert sources["failed_critical"] == 0
    assert sources["evaluated"] > 100
    linkage = validate_linkage(world / "linkage", world / "sources", out, CONFIG)
    assert linkage["failed_critical"] == 0


def _row(frame: pl.DataFrame, column: str, position: int, value) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == position)
        .then(pl.lit(value, dtype=frame.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _first_non_null(frame: pl.DataFrame, column: str) -> int:
    return frame.with_row_index().filter(pl.col(column).is_not_null())["index"][0]


def _broken(world: Path, family: str) -> tuple[str, dict[str, pl.DataFrame], int]:
    census, gp = _source(world, "census"), _source(world, "gp_registrations")
    customers, spells = _source(world, "dwp_customers"), _source(world, "dwp_benefit_spells")
    if family == "schema":
        return "census", {"census": census.drop("disability")}, PEOPLE
    if family == "nulls":
        return "gp_registrations", {"gp_registrations": _row(gp, "gp_record_id", 0, None)}, PEOPLE
    if family == "format":
        i = _first_non_null(gp, "nhs_number")
        good = gp["nhs_number"][i]
        bad = good[:9] + str((int(good[9]) + 1) % 10)
        return "gp_registrations", {"gp_registrations": _row(gp, "nhs_number", i, bad)}, PEOPLE
    if family == "code_list":
        return "census", {"census": _row(census, "ethnic_group", 0, "19")}, PEOPLE
    if family == "uniqueness":
        key = customers["dwp_master_key"][0]
        return "dwp_customers", {"dwp_customers": _row(customers, "dwp_master_key", 1, key)}, PEOPLE
    if family == "referential_integrity":
        broken = _row(spells, "dwp_master_key", 0, "D999999999")
        relations = key_exists(
            broken, "dwp_master_key", customers["dwp_master_key"], "in_dwp_customers"
        )
        frames = {"dwp_benefit_spells": broken, "dwp_benefit_spells_relations": relations}
        return "dwp_benefit_spells", frames, PEOPLE
    if family == "row_count":
        return "census", {"census": census}, PEOPLE * 10
    if family == "range":
        broken = _row(spells, "end_date", 0, dt.date(1990, 1, 1))
        return "dwp_benefit_spells", {"dwp_benefit_spells": broken}, PEOPLE
    raise ValueError(family)


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        # A missing column also fails the checks that read it, reported as errors.
        (
            "schema",
            {"census_columns", "disability_type", "disability_code", "disability_not_all_missing"},
        ),
        ("nulls", {"gp_record_id_not_null"}),
        ("format", {"nhs_number_mod11"}),
        ("code_list", {"ethnic_group_code"}),
        ("uniqueness", {"dwp_master_key_unique"}),
        ("referential_integrity", {"dwp_master_key_in_dwp_customers"}),
        ("row_count", {"census_row_count"}),
        ("range", {"end_after_start"}),
    ],
)
def test_broken_copy_fails_on_the_expected_check(world, family, expected):
    name, frames, people = _broken(world, family)
    result = run_suite(SOURCE_SUITES[name](CONFIG, people=people), frames)
    assert failed(result, "critical") == expected
    families = {o.family for o in result.outcomes if o.check in expected}
    assert family in families
