"""Target-population truth on a hand-made world, and the decomposition of the error."""

import datetime as dt

import polars as pl
import pytest

from evaluation.target import (
    TargetTruthError,
    compare_with_target,
    comparison_summary,
    target_person_months,
    target_truth,
)

LONDON = "E01000001"  # an English LSOA in the project's lookup


@pytest.fixture
def truth_dir(tmp_path):
    d = dt.date
    people = pl.DataFrame(
        {
            "person_id": ["A", "B", "C", "D", "E"],
            "sex": ["M", "F", "M", "F", "M"],
            "date_of_birth": [
                d(1980, 5, 1),  # 39-40: in every month
                d(2003, 12, 2),  # 15 until December 2019, 16 on 1 January 2020
                d(1970, 1, 1),  # dies 15 March 2020: in until February 2020
                d(1990, 1, 1),  # arrives 10 June 2020: in from July 2020
                d(1950, 1, 1),  # 69: never in the age range
            ],
            "ethnic_group": ["01", "14", "01", "09", "01"],
            "disability": ["3", "3", "1", "3", "3"],
            # D was not resident in 2011: deprivation and region come from the address.
            "lsoa11cd_2011": [LONDON, LONDON, LONDON, None, LONDON],
            "date_of_death": [None, None, d(2020, 3, 15), None, None],
        }
    )
    residences = pl.DataFrame(
        {
            "person_id": ["A", "B", "C", "D", "E"],
            "from_date": [
                d(2000, 1, 1),
                d(2003, 12, 2),
                d(1990, 1, 1),
                d(2020, 6, 10),
                d(1990, 1, 1),
            ],
            "to_date": [None, None, None, None, None],
            "lsoa11cd": [LONDON] * 5,
        },
        schema_overrides={"to_date": pl.Date},
    )
    spells = pl.DataFrame(
        {
            "person_id": ["A", "A", "C"],
            "benefit": ["UC", "SP", "UC"],  # state pension (SP) is not an included benefit
            "start_date": [d(2020, 4, 20), d(2019, 1, 1), d(2018, 1, 1)],
            "end_date": [d(2020, 5, 3), None, None],
        }
    )
    people.write_parquet(tmp_path / "people.parquet")
    residences.write_parquet(tmp_path / "residences.parquet")
    spells.write_parquet(tmp_path / "benefit_spells.parquet")
    return tmp_path


def test_membership_follows_the_stated_rules(truth_dir):
    # Person-months carry the person's row number in people.parquet (A is 0, ..., E is 4).
    pm = target_person_months(truth_dir).with_columns(
        pl.col("pid").replace_strict(dict(enumerate("ABCDE"))).alias("person_id")
    )
    months = {p: sorted(pm.filter(pl.col("person_id") == p)["k"].to_list()) for p in "ABCDE"}
    assert months["A"] == list(range(17))
    assert months["B"] == list(range(2, 17))  # January 2020 onwards
    assert months["C"] == [0, 1, 2, 3]  # November 2019 to February 2020; dies in March
    assert months["D"] == list(range(8, 17))  # July 2020 onwards
    assert months["E"] == []
    receiving = pm.filter(pl.col("receiving")).select("person_id", "k").rows()
    # A's UC spell touches April (k=5) and May (k=6) 2020; C's UC until C leaves.
    assert sorted(receiving) == [("A", 5), ("A", 6), ("C", 0), ("C", 1), ("C", 2), ("C", 3)]
    d_row = pm.filter(pl.col("person_id") == "D").row(0, named=True)
    assert d_row["region"] == "London" and d_row["ethnic_group"] == "Indian"


def test_people_without_a_2011_address_take_the_area_of_the_month(truth_dir):
    # D (no 2011 address) counts in London from July 2020 (k=8); nobody else is outside
    # London, so the London cell of July 2020 holds A, B and D.
    truth = target_truth(target_person_months(truth_dir))
    london = truth.filter((pl.col("table") == "by_region") & (pl.col("group") == "London"))
    july = london.filter(pl.col("month") == dt.date(2020, 7, 1)).row(0, named=True)
    assert july["people"] == 3


def test_a_people_table_without_a_needed_column_is_named(truth_dir):
    pl.read_parquet(truth_dir / "people.parquet").drop("disability").write_parquet(
        truth_dir / "people.parquet"
    )
    with pytest.raises(TargetTruthError, match="people.parquet lacks columns \\['disability'\\]"):
        target_person_months(truth_dir)


def test_target_truth_counts_people_and_recipients(truth_dir):
    overall = target_truth(target_person_months(truth_dir)).filter(pl.col("table") == "overall")
    first = overall.row(0, named=True)  # November 2019: A and C, C receiving
    assert (first["people"], first["recipients"]) == (2, 1)
    assert first["crude_pct"] == pytest.approx(50.0)


def test_error_is_decomposed_into_selection_and_linkage():
    keys = {"table": ["overall"] * 2, "breakdown": ["all"] * 2, "group": ["All people"] * 2}
    months = [dt.date(2019, 11, 1), dt.date(2019, 12, 1)]
    bias = pl.DataFrame(
        {
            **keys,
            "month": months,
            "truth_asr": [10.0, 12.0],
            "linked_asr": [10.5, 11.0],
            "linked_lower": [9.5, 10.0],
            "linked_upper": [11.5, 12.0],
            "ipw_asr": [11.0, 12.5],
            "calibrated_asr": [10.0, 12.4],
        }
    )
    target = pl.DataFrame({**keys, "month": months, "people": [100, 100], "asr_pct": [12.0, 12.5]})
    out = compare_with_target(bias, target).sort("month")
    assert out["selection_pp"].to_list() == pytest.approx([-2.0, -0.5])
    assert out["linkage_pp"].to_list() == pytest.approx([0.5, -1.0])
    assert out["total_pp"].to_list() == pytest.approx([-1.5, -1.5])
    assert out["target_outside_ci"].to_list() == [True, True]
    assert out["ipw_moves_toward_target"].to_list() == [True, True]
    # Raked: 10.0 is further from 12.0 than 10.5 is; 12.4 is closer to 12.5 than 11.0 is.
    assert out["calibrated_moves_toward_target"].to_list() == [False, True]
    summary = comparison_summary(out)
    assert summary["calibrated_moves_toward_target"] == 1
    assert summary["ipw_moves_toward_target"] == 2 and summary["target_outside_ci"] == 2


def test_a_bias_table_without_corrections_compares_the_linked_estimate_only():
    keys = {"table": ["overall"], "breakdown": ["all"], "group": ["All people"]}
    month = [dt.date(2019, 11, 1)]
    bias = pl.DataFrame(
        {
            **keys,
            "month": month,
            "truth_asr": [10.0],
            "linked_asr": [10.5],
            "linked_lower": [9.5],
            "linked_upper": [11.5],
        }
    )
    target = pl.DataFrame({**keys, "month": month, "people": [100], "asr_pct": [11.0]})
    out = compare_with_target(bias, target)
    assert out["total_pp"].to_list() == pytest.approx([-0.5])
    assert out["ipw_moves_toward_target"].to_list() == [None]
    assert out["calibrated_moves_toward_target"].to_list() == [None]
