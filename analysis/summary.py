"""Main points written from the published numbers (never from unrounded values)."""

from __future__ import annotations

import polars as pl

from analysis.reference import BEFORE_MONTH, DURING_MONTH, quintile_label


def _value(frame: pl.DataFrame, column: str, **where: object) -> float | None:
    for key, value in where.items():
        frame = frame.filter(pl.col(key) == value)
    if frame.height != 1:
        return None
    return frame[column][0]


def _fmt(value: float | None, unit: str = "%") -> str:
    return "[c]" if value is None else f"{value:.1f}{unit}"


def main_points(tables: dict[str, pl.DataFrame]) -> list[str]:
    """Plain-English main points, each built from published cells.

    Parameters
    ----------
    tables
        The published tables (after disclosure control), by name.
    """
    points: list[str] = []
    overall = tables["overall"]
    change = tables["change"]
    before = _value(overall, "asr_pct", estimate="linked", month=BEFORE_MONTH)
    during = _value(overall, "asr_pct", estimate="linked", month=DURING_MONTH)
    rise = _value(change, "abs_change", table="overall", estimate="linked")
    points.append(
        "The age-standardised percentage of people aged 16 to 64 receiving a working-age "
        f"benefit was {_fmt(before)} in February 2020 and {_fmt(during)} in March 2021, "
        f"a change of {_fmt(rise, ' percentage points')}."
    )
    quintiles = overall.head(0)
    if "by_imd_quintile" in tables:
        quintiles = tables["by_imd_quintile"].filter(
            (pl.col("estimate") == "linked") & (pl.col("month") == BEFORE_MONTH)
        )
    most = _value(quintiles, "asr_pct", group=quintile_label(1))
    least = _value(quintiles, "asr_pct", group=quintile_label(5))
    if most is not None and least is not None and least > 0:
        points.append(
            "Before the pandemic, people in the most deprived fifth of areas were "
            f"{most / least:.1f} times as likely to receive a benefit as those in the least "
            "deprived fifth "
            f"({most:.1f}% against {least:.1f}%)."
        )
    ethnic = change.filter(
        (pl.col("table") == "by_ethnic_group")
        & (pl.col("estimate") == "linked")
        & (pl.col("status") == "published")
        & (pl.col("group") != "Unknown")
    )
    if ethnic.height >= 3:
        top = ethnic.sort("asr_before", descending=True).head(3)
        reference = _value(ethnic, "abs_change", group="White British")
        listed = ", ".join(
            f"{row['group']} ({row['asr_before']:.1f}%, change {row['abs_change']:+.1f} points)"
            for row in top.iter_rows(named=True)
        )
        points.append(
            f"The ethnic groups with the highest percentages before the pandemic were {listed}; "
            f"the change for White British people was {_fmt(reference, ' points')}."
        )
    ages = change.filter(
        (pl.col("table") == "by_age_band")
        & (pl.col("estimate") == "linked")
        & (pl.col("status") == "published")
    ).sort("abs_change", descending=True)
    if ages.height:
        listed = ", ".join(
            f"{row['group']} ({row['abs_change']:+.1f} points)"
            for row in ages.iter_rows(named=True)
        )
        points.append(f"Rises by age band, largest first: {listed}.")
    conditions = change.filter(
        (pl.col("table") == "by_condition")
        & (pl.col("estimate") == "linked")
        & (pl.col("status") == "published")
    )
    if conditions.height:
        listed = ", ".join(
            f"{row['group']} {row['asr_before']:.1f}% to {row['asr_during']:.1f}%"
            for row in conditions.iter_rows(named=True)
        )
        points.append(f"By long-term condition (February 2020 to March 2021): {listed}.")
    if "bias" in tables:
        bias = tables["bias"].filter(pl.col("status") == "published")
        if bias.height:
            mean_bias = bias["bias_pp"].abs().mean()
            outside = bias["truth_outside_ci"].mean() * 100
            text = (
                f"Against perfect linkage, the linked estimates differ from the truth by "
                f"{mean_bias:.2f} percentage points on average (absolute), and the linked 95% "
                f"interval excludes the truth in {outside:.0f}% of published cells"
            )
            if "ipw_bias_pp" in bias.columns:
                text += (
                    f"; inverse-probability weighting gives {bias['ipw_bias_pp'].abs().mean():.2f} "
                    f"points and {bias['ipw_truth_outside_ci'].mean() * 100:.0f}%"
                )
            points.append(text + ".")
    thresholds = overall.filter(
        pl.col("estimate").str.starts_with("threshold_") & (pl.col("month") == DURING_MONTH)
    ).drop_nulls("asr_pct")
    if thresholds.height:
        points.append(
            "Recomputed at match thresholds "
            + ", ".join(
                f"{row['estimate'].removeprefix('threshold_')} ({row['asr_pct']:.1f}%)"
                for row in thresholds.sort("estimate").iter_rows(named=True)
            )
            + ", the March 2021 percentage is stable to the linkage threshold within "
            f"{thresholds['asr_pct'].max() - thresholds['asr_pct'].min():.1f} points."
        )
    return points


def main_points_markdown(points: list[str], *, people: int | None, person_months: int) -> str:
    """The main points as a short markdown document."""
    lines = [
        "# Benefit recipients during the coronavirus (COVID-19) pandemic: main points",
        "",
        "Synthetic data. Age-standardised to the standard in the run configuration; "
        "counts rounded to the nearest 5 and values based on fewer than 10 people "
        "suppressed ([c]).",
        "",
    ]
    lines += [f"- {point}" for point in points]
    if people is not None:
        lines += [
            "",
            f"Study population: about {people:,} people ({person_months:,} person-months).",
        ]
    return "\n".join(lines) + "\n"
