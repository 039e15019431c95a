"""Each source suite passes on the tiny contract world and fails, on the expected check, on a
deliberately broken copy (one copy per family of expectation)."""

import datetime as dt

import polars as pl
import pytest

from expectations.config import ExpectationsConfig
from expectations.prepare import key_exists
from expectations.runner import run_suite
from expectations.suites import SOURCE_SUITES
from tests.unit.expectations import tiny_world as w
from tests.unit.expectations.helpers import failed

CONFIG = ExpectationsConfig()


def _run(name: str, frame: pl.DataFrame, *, people: int | None = w.PEOPLE, relations=None):
    frames = {name: frame}
    if relations is not None:
        frames[f"{name}_relations"] = relations
    return run_suite(SOURCE_SUITES[name](CONFIG, people=people), frames)


@pytest.mark.parametrize("name", list(SOURCE_SUITES))
def test_each_source_suite_passes_on_contract_data(name):
    result = _run(name, w.SOURCES[name]())
    assert failed(result) == set()
    assert result.evaluated >= 10


def _set(frame: pl.DataFrame, column: str, row: int, value) -> pl.DataFrame:
    values = frame[column].to_list()
    values[row] = value
    return frame.with_columns(pl.Series(column, values, dtype=frame.schema[column]))


def test_schema_missing_column_and_wrong_type():
    broken = w.census().drop("disability").with_columns(pl.col("usual_resident").cast(pl.String))
    assert failed(_run("census", broken), "critical") >= {
        "census_columns",
        "disability_type",
        "usual_resident_type",
    }


def test_nulls_in_required_id():
    broken = _set(w.gp_registrations(), "gp_record_id", 2, None)
    assert failed(_run("gp_registrations", broken)) == {"gp_record_id_not_null"}


def test_format_nhs_number_fails_mod11():
    good = w.gp_registrations()["nhs_number"][0]
    bad = good[:9] + str((int(good[9]) + 1) % 10)
    result = _run("gp_registrations", _set(w.gp_registrations(), "nhs_number", 0, bad))
    assert failed(result) == {"nhs_number_mod11"}
    outcome = next(o for o in result.outcomes if o.check == "nhs_number_mod11")
    assert outcome.sample == ("G000000001",)  # record id only
    assert bad not in outcome.describe()


def test_format_nino_and_banned_prefix():
    broken = _set(_set(w.dwp_customers(), "nino", 0, "QQ123456C"), "nino", 1, "GB123456A")
    assert failed(_run("dwp_customers", broken)) == {"nino_format", "nino_prefix_allowed"}


def test_format_postcode_is_a_warning():
    frame = w.census().with_columns(pl.lit("NOT A POSTCODE").alias("postcode"))
    result = _run("census", frame)
    assert failed(result, "warning") == {"postcode_format"}
    assert failed(result, "critical") == set()


def test_code_list_ethnic_group_and_benefit():
    assert failed(_run("census", _set(w.census(), "ethnic_group", 0, "19"))) == {
        "ethnic_group_code"
    }
    spells = _set(w.dwp_benefit_spells(), "benefit", 0, "IB_")
    relations = key_exists(
        spells, "dwp_master_key", w.dwp_customers()["dwp_master_key"], "in_dwp_customers"
    )
    assert failed(_run("dwp_benefit_spells", spells, relations=relations)) == {"benefit_code"}
    conditions = _set(w.gp_conditions(), "cluster", 0, "ASTHMA")
    assert failed(_run("gp_conditions", conditions)) == {"cluster_code"}


def test_uniqueness_duplicate_customer_key():
    frame = w.dwp_customers()
    broken = _set(frame, "dwp_master_key", 1, frame["dwp_master_key"][0])
    assert failed(_run("dwp_customers", broken)) == {"dwp_master_key_unique"}


def test_referential_integrity_spells_and_conditions():
    spells = _set(w.dwp_benefit_spells(), "dwp_master_key", 0, "D999999999")
    relations = key_exists(
        spells, "dwp_master_key", w.dwp_customers()["dwp_master_key"], "in_dwp_customers"
    )
    result = _run("dwp_benefit_spells", spells, relations=relations)
    assert failed(result) == {"dwp_master_key_in_dwp_customers"}
    outcome = next(o for o in result.outcomes if o.check == "dwp_master_key_in_dwp_customers")
    assert outcome.sample == ("D999999999 (in_dwp_customers=False)",)

    conditions = _set(w.gp_conditions(), "gp_record_id", 0, "G999999999")
    relations = key_exists(
        conditions, "gp_record_id", w.gp_registrations()["gp_record_id"], "in_gp_registrations"
    )
    assert failed(_run("gp_conditions", conditions, relations=relations)) == {
        "gp_record_id_in_gp_registrations"
    }


def test_row_count_out_of_bounds_for_configured_people():
    # 30 census rows cannot come from 1000 people at 0.81 rows per person.
    assert failed(_run("census", w.census(), people=1000)) == {"census_row_count"}
    assert "census_row_count" not in failed(_run("census", w.census(), people=None))


def test_range_birth_in_future_and_spell_end_before_start():
    broken = _set(w.census(), "date_of_birth", 0, dt.date(2012, 1, 1))
    assert failed(_run("census", broken)) == {"date_of_birth_not_in_future"}
    spells = _set(w.dwp_benefit_spells(), "end_date", 0, dt.date(2018, 1, 1))
    assert failed(_run("dwp_benefit_spells", spells)) == {"end_after_start"}


def test_birth_error_tolerance_is_the_share_but_never_less_than_one_record():
    from expectations.suites.sources import birth_error_tolerance

    # 801 recorded births at 0.1%: 0.8 of a record, so one mistyped year is tolerated, two not.
    assert 800 / 801 >= birth_error_tolerance(0.001, 801) > 799 / 801
    # 100,000 births: the configured share, 100 records, applies as before.
    assert 99_900 / 100_000 >= birth_error_tolerance(0.001, 100_000) > 99_899 / 100_000
    # Without the count (the command line's `validate --suite`), the share alone.
    assert birth_error_tolerance(0.001, None) == pytest.approx(0.999, abs=1e-9)


def test_one_mistyped_birth_year_passes_a_small_extract_and_two_do_not():
    census = w.census()
    births = census.height - census["date_of_birth"].null_count()
    one = _set(census, "date_of_birth", 0, dt.date(2012, 1, 1))
    two = _set(one, "date_of_birth", 1, dt.date(2012, 1, 1))
    suite = SOURCE_SUITES["census"](CONFIG, people=w.PEOPLE, births=births)
    assert "date_of_birth_not_in_future" not in failed(run_suite(suite, {"census": one}))
    assert "date_of_birth_not_in_future" in failed(run_suite(suite, {"census": two}))
