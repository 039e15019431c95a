import datetime as dt

import polars as pl

from expectations import prepare
from expectations.config import ExpectationsConfig
from expectations.runner import run_suite
from expectations.suites import linkage_suite
from tests.unit.expectations import tiny_world as w
from tests.unit.expectations.helpers import failed

CONFIG = ExpectationsConfig(min_group_records=1)
RECORDS = 3 * w.N


def _frames(spine=None, census=None, gp=None, spells=None):
    spine = w.spine() if spine is None else spine
    census = w.census() if census is None else census
    gp = w.gp_registrations() if gp is None else gp
    spells = w.dwp_benefit_spells() if spells is None else spells
    sources = {"census": census, "gp_registrations": gp, "dwp_customers": w.dwp_customers()}
    return {
        "spine": spine,
        "spine_relations": prepare.spine_relations(spine, sources),
        "linkage_rates": prepare.linkage_rates(spine, census),
        "benefit_timing": prepare.benefit_timing(spine, census, gp, spells),
    }


def _run(frames, config=CONFIG, records=RECORDS):
    return run_suite(linkage_suite(config, records=records), frames)


def test_linkage_suite_passes_on_contract_data():
    assert failed(_run(_frames())) == set()


def test_linkage_rates_hand_computed():
    # Drop the GP records of people 1-6: 24 of 30 census records keep a GP link.
    spine = w.spine().filter(~((pl.col("source") == "gp") & (pl.col("record_id") <= "G000000006")))
    rates = prepare.linkage_rates(spine, w.census())
    overall = rates.filter(pl.col("breakdown") == "all").row(0, named=True)
    assert overall["records"] == 30 and overall["linked_gp"] == 24 / 30
    assert overall["linked_dwp"] == 1.0
    # Ethnic group "01" holds census people 1 and 19 (k = 0, 18): person 1 lost the GP link.
    group = rates.filter(pl.col("group") == "01").row(0, named=True)
    assert group["records"] == 2 and group["linked_gp"] == 0.5


def test_rate_family_fails_below_minimum_overall_and_by_group():
    spine = w.spine().filter(~((pl.col("source") == "gp") & (pl.col("record_id") <= "G000000006")))
    frames = _frames(spine=spine)
    # Floors are tested on the 99% Wilson upper limit (z = 2.5758): by hand, 24 of 30 gives
    # 0.924 and 1 of 2 gives 0.938, so a floor of 0.95 fails both; 0.90 would pass 24 of 30.
    config = ExpectationsConfig(
        min_group_records=1,
        min_linkage_rate={"gp": 0.95, "dwp": 0.95},
        min_linkage_rate_by_ethnic_group={"gp": 0.95, "dwp": 0.95},
    )
    result = _run(frames, config, records=RECORDS - 6)
    assert failed(result) == {"linkage_rate_census_gp", "linkage_rate_census_gp_by_ethnic_group"}
    by_group = next(o for o in result.outcomes if o.check.endswith("gp_by_ethnic_group"))
    # Groups 01-06 each lost one of two GP links (upper limit 0.938 < 0.95).
    assert by_group.unexpected_count == 6
    assert by_group.sample[0].startswith("ethnic_group/01")


def test_range_probability_outside_0_1():
    spine = w.spine().with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(1.5)
        .otherwise(pl.col("match_probability"))
        .alias("match_probability")
    )
    assert failed(_run(_frames(spine=spine))) == {"match_probability_in_0_1"}


def test_uniqueness_two_census_records_in_one_person():
    spine = w.spine().with_columns(
        pl.when(pl.col("record_id") == "C000000002")
        .then(pl.lit("S000001"))
        .otherwise(pl.col("person_id"))
        .alias("person_id")
    )
    result = _run(_frames(spine=spine))
    assert "one_census_record_per_person" in failed(result)


def test_referential_integrity_and_row_count_of_spine():
    spine = w.spine().with_columns(
        pl.when(pl.col("record_id") == "G000000003")
        .then(pl.lit("G999999999"))
        .otherwise(pl.col("record_id"))
        .alias("record_id")
    )
    assert failed(_run(_frames(spine=spine))) == {"spine_record_in_source"}
    assert failed(_run(_frames(spine=w.spine().head(80)), records=RECORDS)) >= {
        "spine_row_per_source_record"
    }


def test_plausibility_benefit_before_birth_and_after_death():
    # Person index 0 (D000000001) claims from June 2019: make them born in 2020.
    census = w.census().with_columns(
        pl.when(pl.col("census_person_id") == "C000000001")
        .then(dt.date(2020, 1, 1))
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth")
    )
    gp = w.gp_registrations().with_columns(
        pl.when(pl.col("gp_record_id") == "G000000001")
        .then(dt.date(2020, 1, 1))
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth"),
        # Person index 2 (D000000003) has an ongoing spell; record their death in 2019.
        pl.when(pl.col("gp_record_id") == "G000000003")
        .then(dt.date(2019, 12, 1))
        .otherwise(pl.col("date_of_death"))
        .alias("date_of_death"),
    )
    result = _run(_frames(census=census, gp=gp))
    assert failed(result) == {"no_benefit_before_birth", "no_benefit_after_death"}


def test_floor_allows_for_the_size_of_the_run():
    # 0.6994 against a floor of 0.70: sampling noise on 4,000 records, a real shortfall on
    # 1,000,000. Wilson 99% upper limits by hand: 2797.6/4000 -> about 0.718; at 10^6 the
    # half-width is 2.5758 * sqrt(0.6994 * 0.3006 / 10^6) = 0.00118, upper about 0.7006.
    def rates(records: int, rate: float) -> pl.DataFrame:
        frame = pl.DataFrame(
            {"breakdown": ["all"], "group": ["all"], "records": [records]},
            schema_overrides={"records": pl.Int64},
        )
        return prepare.with_upper_limits(
            frame.with_columns(pl.lit(rate).alias("linked_gp"), pl.lit(1.0).alias("linked_dwp"))
        )

    small = rates(4000, 2798 / 4000).row(0, named=True)
    assert abs(small["linked_gp_upper"] - 0.7178) < 0.001
    large = rates(1_000_000, 0.6994).row(0, named=True)
    assert 0.7004 < large["linked_gp_upper"] < 0.7008
    frames = _frames()
    config = ExpectationsConfig(min_group_records=10**9, min_linkage_rate={"gp": 0.70})
    assert "linkage_rate_census_gp" not in failed(
        _run(frames | {"linkage_rates": rates(4000, 2798 / 4000)}, config)
    )
    config = ExpectationsConfig(min_group_records=10**9, min_linkage_rate={"gp": 0.701})
    assert "linkage_rate_census_gp" in failed(
        _run(frames | {"linkage_rates": rates(1_000_000, 0.6994)}, config)
    )
