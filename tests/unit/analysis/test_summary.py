"""Main points say only what the published intervals support."""

import datetime as dt

import polars as pl

from analysis.summary import main_points, supported_direction

FEB20, MAR21 = dt.date(2020, 2, 1), dt.date(2021, 3, 1)


def _monthly(table: str, groups: dict[str, bool]) -> pl.DataFrame:
    """Published linked cells in both months; the flag is ``low_reliability``."""
    rows = [
        (table, group, month, "linked", 15.0, unreliable, "published")
        for group, unreliable in groups.items()
        for month in (FEB20, MAR21)
    ]
    return pl.DataFrame(
        rows,
        schema=["table", "group", "month", "estimate", "asr_pct", "low_reliability", "status"],
        orient="row",
    )


def _change(rows: list[tuple[str, str, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (table, group, "linked", 10.0, 10.0 + change, change, lower, upper, "published")
            for table, group, change, lower, upper in rows
        ],
        schema=[
            "table",
            "group",
            "estimate",
            "asr_before",
            "asr_during",
            "abs_change",
            "abs_change_lower",
            "abs_change_upper",
            "status",
        ],
        orient="row",
    )


def test_direction_only_when_the_interval_excludes_zero():
    assert supported_direction(0.1, 2.0) == "rise"
    assert supported_direction(-2.0, -0.1) == "fall"
    assert supported_direction(-0.1, 2.0) is None
    assert supported_direction(0.0, 2.0) is None
    assert supported_direction(1.2, 2.5, null=1.0) == "rise"


def test_unsupported_change_is_no_clear_change_and_the_standard_is_named():
    tables = {
        "overall": _monthly("overall", {"All people": False}),
        "change": _change([("overall", "All people", 1.5, -0.4, 3.4)]),
    }
    point = main_points(tables)[0]
    assert "no clear change (+1.5 percentage points" in point
    assert "ESP2013" in point
    assert "rise" not in point


def test_supported_rises_named_and_unreliable_groups_never_named():
    tables = {
        "overall": _monthly("overall", {"All people": False}),
        "by_age_band": _monthly("by_age_band", {"16-24": False, "25-34": False, "50-64": False}),
        "by_condition": _monthly("by_condition", {"Autism": True, "Diabetes": False}),
        "change": _change(
            [
                ("overall", "All people", 3.2, 2.1, 4.4),
                ("by_age_band", "16-24", 7.74, 4.3, 11.2),
                ("by_age_band", "25-34", 4.1, 1.3, 7.0),
                ("by_age_band", "50-64", 0.5, -1.0, 2.0),
                # Autism rises clearly but rests on few people: it must not be named.
                ("by_condition", "Autism", 9.0, 3.0, 15.0),
                ("by_condition", "Diabetes", 0.3, -2.0, 2.6),
            ]
        ),
    }
    points = main_points(tables)
    assert points[0].endswith(
        "a rise of 3.2 percentage points (95% confidence interval 2.1 to 4.4)."
    )
    ages = next(p for p in points if p.startswith("By age band"))
    assert "16-24 (rise of 7.7 percentage points" in ages
    assert ages.index("16-24") < ages.index("25-34")
    assert "no clear change for 50-64" in ages
    conditions = next(p for p in points if p.startswith("By long-term condition"))
    assert "Autism" not in conditions
    assert "no group changed clearly" in conditions


def test_ethnic_gap_widening_named_only_when_supported_and_reliable():
    gaps = pl.DataFrame(
        [
            ("linked", "Black Caribbean", 2.5, 0.4, 4.6, "published"),
            ("linked", "Pakistani", 5.0, -1.8, 11.7, "published"),
            ("linked", "Arab", 6.0, 1.0, 11.0, "published"),
        ],
        schema=[
            "estimate",
            "group",
            "gap_widening",
            "gap_widening_lower",
            "gap_widening_upper",
            "status",
        ],
        orient="row",
    )
    tables = {
        "overall": _monthly("overall", {"All people": False}),
        "by_ethnic_group": _monthly(
            "by_ethnic_group", {"Black Caribbean": False, "Pakistani": False, "Arab": True}
        ),
        "ethnic_gaps": gaps,
    }
    point = next(p for p in main_points(tables) if "White British" in p)
    assert "widened for Black Caribbean (+2.5 percentage points" in point
    assert "Pakistani" not in point and "Arab" not in point
