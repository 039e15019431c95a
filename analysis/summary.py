"""Main points written from the published numbers (never from unrounded values).

Rules (docs/statistics.md):

- A change or gap is called a rise, fall, widening or narrowing only when its published 95%
  interval excludes zero (a ratio: excludes one); otherwise the sentence says "no clear
  change". The interval is quoted beside every change.
- A group is named only when its published cells are reliable: published (not [c]) and
  not flagged low-reliability ([u]) in either month compared.
- Rates are age-standardised to the 2013 European Standard Population (ESP2013) unless the
  run configuration says otherwise, and the sentence names the standard.
- Numbers are quoted as ONS quotes them: percentages and percentage points to one decimal
  place, ratios to one decimal place.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from analysis.reference import BEFORE_MONTH, DURING_MONTH, UNKNOWN, quintile_label

LINKED = "linked"
STANDARD_NAMES = {
    "esp2013": "the 2013 European Standard Population (ESP2013)",
    "study": "the study population's own age distribution",
}
Direction = Literal["rise", "fall"] | None


def _value(frame: pl.DataFrame, column: str, **where: object) -> float | None:
    for key, value in where.items():
        frame = frame.filter(pl.col(key) == value)
    if frame.height != 1:
        return None
    return frame[column][0]


def supported_direction(
    lower: float | None, upper: float | None, *, null: float = 0.0
) -> Direction:
    """``"rise"`` or ``"fall"`` when the interval excludes ``null``; otherwise ``None``."""
    if lower is None or upper is None:
        return None
    if lower > null:
        return "rise"
    if upper < null:
        return "fall"
    return None


def _interval(lower: float, upper: float) -> str:
    return f"95% confidence interval {lower:.1f} to {upper:.1f}"


def _reliable_groups(tables: dict[str, pl.DataFrame], table: str) -> set[str]:
    """Groups whose linked cells are published and reliable in both compared months."""
    if table not in tables:
        return set()
    frame = tables[table].filter(
        (pl.col("estimate") == LINKED) & pl.col("month").is_in([BEFORE_MONTH, DURING_MONTH])
    )
    ok = (pl.col("status") == "published") & pl.col("asr_pct").is_not_null()
    if "low_reliability" in frame.columns:
        ok = ok & (pl.col("low_reliability") == False)  # noqa: E712 (null is not reliable)
    good = frame.group_by("group").agg((ok.fill_null(False).all() & (pl.len() == 2)).alias("ok"))
    return set(good.filter(pl.col("ok"))["group"].to_list())


def _change_rows(tables: dict[str, pl.DataFrame], table: str) -> list[dict]:
    change = tables.get("change")
    if change is None:
        return []
    reliable = _reliable_groups(tables, table)
    rows = change.filter(
        (pl.col("table") == table)
        & (pl.col("estimate") == LINKED)
        & (pl.col("status") == "published")
        & pl.col("abs_change").is_not_null()
        & pl.col("group").is_in(list(reliable))
    )
    return list(rows.iter_rows(named=True))


def _overall_point(tables: dict[str, pl.DataFrame], standard: str) -> str | None:
    rows = _change_rows(tables, "overall")
    if not rows:
        return None
    row = rows[0]
    direction = supported_direction(row["abs_change_lower"], row["abs_change_upper"])
    interval = _interval(row["abs_change_lower"], row["abs_change_upper"])
    if direction is None:
        change = f"no clear change ({row['abs_change']:+.1f} percentage points, {interval})"
    else:
        change = f"a {direction} of {abs(row['abs_change']):.1f} percentage points ({interval})"
    return (
        "The percentage of people aged 16 to 64 receiving a working-age benefit, "
        f"age-standardised to {STANDARD_NAMES.get(standard, standard)}, was "
        f"{row['asr_before']:.1f}% in February 2020 and {row['asr_during']:.1f}% in March "
        f"2021: {change}."
    )


def _deprivation_point(tables: dict[str, pl.DataFrame]) -> str | None:
    inequality = tables.get("inequality_deprivation")
    if inequality is None:
        return None
    frame = inequality.filter(
        (pl.col("estimate") == LINKED)
        & (pl.col("month") == BEFORE_MONTH)
        & (pl.col("status") == "published")
    )
    ratio = frame.filter(pl.col("measure") == "ratio")
    if ratio.height != 1:
        return None
    row = ratio.row(0, named=True)
    if supported_direction(row["lower"], row["upper"], null=1.0) != "rise":
        return (
            "Before the pandemic there was no clear difference in benefit receipt between "
            "the most and least deprived fifths of areas."
        )
    rates = ""
    if "by_imd_quintile" in tables:
        quintiles = tables["by_imd_quintile"]
        where = {"estimate": LINKED, "month": BEFORE_MONTH}
        most = _value(quintiles, "asr_pct", group=quintile_label(1), **where)
        least = _value(quintiles, "asr_pct", group=quintile_label(5), **where)
        if most is not None and least is not None:
            rates = f" ({most:.1f}% against {least:.1f}%)"
    return (
        "Before the pandemic, people in the most deprived fifth of areas were "
        f"{row['value']:.1f} times as likely to receive a benefit as those in the least "
        f"deprived fifth{rates}; {_interval(row['lower'], row['upper'])}."
    )


def _ethnic_point(tables: dict[str, pl.DataFrame]) -> str | None:
    gaps = tables.get("ethnic_gaps")
    if gaps is None or "gap_widening_lower" not in gaps.columns:
        return None
    reliable = _reliable_groups(tables, "by_ethnic_group")
    frame = gaps.filter(
        (pl.col("estimate") == LINKED)
        & (pl.col("status") == "published")
        & (pl.col("group") != UNKNOWN)
        & pl.col("group").is_in(list(reliable))
        & pl.col("gap_widening").is_not_null()
    ).sort("gap_widening", descending=True)
    said = {"rise": [], "fall": []}
    for row in frame.iter_rows(named=True):
        direction = supported_direction(row["gap_widening_lower"], row["gap_widening_upper"])
        if direction is not None:
            said[direction].append(
                f"{row['group']} ({row['gap_widening']:+.1f} percentage points, "
                f"{_interval(row['gap_widening_lower'], row['gap_widening_upper'])})"
            )
    parts = []
    if said["rise"]:
        parts.append("the gap to White British widened for " + "; ".join(said["rise"]))
    if said["fall"]:
        parts.append("it narrowed for " + "; ".join(said["fall"]))
    if not parts:
        return (
            "Between February 2020 and March 2021 there was no clear change in any reliably "
            "estimated ethnic group's gap to White British."
        )
    text = "Between February 2020 and March 2021, " + "; ".join(parts)
    return text + "; for the other reliably estimated ethnic groups there was no clear change."


def _group_changes_point(tables: dict[str, pl.DataFrame], table: str, noun: str) -> str | None:
    rows = sorted(_change_rows(tables, table), key=lambda r: r["abs_change"], reverse=True)
    if not rows:
        return None
    rises, flat = [], []
    for row in rows:
        direction = supported_direction(row["abs_change_lower"], row["abs_change_upper"])
        if direction is None:
            flat.append(row["group"])
        else:
            rises.append(
                f"{row['group']} ({direction} of {abs(row['abs_change']):.1f} percentage points, "
                f"{_interval(row['abs_change_lower'], row['abs_change_upper'])})"
            )
    text = f"By {noun}, February 2020 to March 2021: "
    text += "; ".join(rises) if rises else "no group changed clearly"
    if flat and rises:
        text += "; no clear change for " + ", ".join(flat)
    return text + "."


def _bias_point(tables: dict[str, pl.DataFrame]) -> str | None:
    if "bias" not in tables:
        return None
    bias = tables["bias"].filter(pl.col("status") == "published").drop_nulls("bias_pp")
    if not bias.height:
        return None
    text = (
        "Against perfect linkage, the linked estimates differ from the truth by "
        f"{bias['bias_pp'].abs().mean():.2f} percentage points on average (absolute), and the "
        f"linked 95% interval excludes the truth in {bias['truth_outside_ci'].mean() * 100:.0f}% "
        "of published cells"
    )
    for prefix, name in (("ipw", "inverse-probability weighting"), ("calibrated", "calibration")):
        if f"{prefix}_bias_pp" in bias.columns and bias[f"{prefix}_bias_pp"].drop_nulls().len():
            text += (
                f"; {name} gives {bias[f'{prefix}_bias_pp'].abs().mean():.2f} points and "
                f"{bias[f'{prefix}_truth_outside_ci'].mean() * 100:.0f}%"
            )
    return text + "."


def _threshold_point(tables: dict[str, pl.DataFrame]) -> str | None:
    thresholds = (
        tables["overall"]
        .filter(
            pl.col("estimate").str.starts_with("threshold_") & (pl.col("month") == DURING_MONTH)
        )
        .drop_nulls("asr_pct")
    )
    if not thresholds.height:
        return None
    listed = ", ".join(
        f"{row['estimate'].removeprefix('threshold_')} ({row['asr_pct']:.1f}%)"
        for row in thresholds.sort("estimate").iter_rows(named=True)
    )
    spread = thresholds["asr_pct"].max() - thresholds["asr_pct"].min()
    return (
        f"Recomputed at match thresholds {listed}, the March 2021 percentage varies by "
        f"{spread:.1f} percentage points with the linkage threshold."
    )


def main_points(tables: dict[str, pl.DataFrame], *, standard: str = "esp2013") -> list[str]:
    """Plain-English main points, each built from published cells and intervals.

    Parameters
    ----------
    tables
        The published tables (after disclosure control), by name.
    standard
        The standard population of the run (``config.standard_population``).
    """
    points = [
        _overall_point(tables, standard),
        _deprivation_point(tables),
        _ethnic_point(tables),
        _group_changes_point(tables, "by_age_band", "age band"),
        _group_changes_point(tables, "by_condition", "long-term condition"),
        _bias_point(tables),
        _threshold_point(tables) if "overall" in tables else None,
    ]
    return [point for point in points if point is not None]


def main_points_markdown(points: list[str], *, people: int | None, person_months: int) -> str:
    """The main points as a short markdown document."""
    lines = [
        "# Benefit recipients during the coronavirus (COVID-19) pandemic: main points",
        "",
        "Synthetic data. Age-standardised percentages with 95% confidence intervals; a change "
        "is called a rise or fall only when its interval excludes zero. Counts rounded to the "
        "nearest 5, values based on fewer than 10 people suppressed ([c]) and groups with "
        "fewer than 20 people on either side of a rate not named (low reliability, [u]).",
        "",
    ]
    lines += [f"- {point}" for point in points]
    if people is not None:
        lines += [
            "",
            f"Study population: about {people:,} people ({person_months:,} person-months).",
        ]
    return "\n".join(lines) + "\n"
