"""Charts of the published monthly series with their 95% intervals: PNG and offline HTML.

Every published breakdown gets a chart. Each estimate has its own colour and a label in
words; the y axis starts at zero so a small gap is not drawn as a large one; every chart
carries a caption saying the data are synthetic.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import matplotlib

matplotlib.use("Agg")  # no display in batch runs
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402

from analysis.breakdowns import breakdown  # noqa: E402
from analysis.reference import MONTHS  # noqa: E402
from common.files import atomic_write  # noqa: E402

SERIES = {
    "overall": "All people aged 16 to 64",
    "by_imd_quintile": "By IMD quintile",
    "by_ethnic_group": "By ethnic group",
    "by_age_band": "By age band",
    "by_sex": "By sex",
    "by_region": "By region",
    "by_disability": "By disability",
    "by_condition": "By long-term condition",
}
#: The charts the front page shows first.
HEADLINE_SERIES = ("overall", "by_imd_quintile", "by_ethnic_group")
#: Estimates drawn, their labels and colours (Okabe-Ito, distinguishable with colour-blindness).
ESTIMATES = {
    "linked": ("Linked data (published)", "#0072B2"),
    "truth": ("Truth (perfect linkage)", "#D55E00"),
    "ipw": ("Bias-corrected (weighted)", "#009E73"),
}
CAPTION = (
    "Age-standardised percentage receiving a working-age benefit. Synthetic data: a "
    "simulated population, not real people. Shaded bands are 95% "
    "confidence intervals; the vertical axis starts at zero. Suppressed months [c] have no "
    "point (the line joins the months either side)."
)
Y_TITLE = "Age-standardised % receiving a benefit"


def _series(frame: pl.DataFrame) -> pl.DataFrame:
    """Published points of the charted estimates, each labelled in words."""
    labels = {estimate: label for estimate, (label, _) in ESTIMATES.items()}
    return (
        frame.drop_nulls("asr_pct")
        .filter(pl.col("estimate").is_in(list(ESTIMATES)))
        .with_columns(pl.col("estimate").replace_strict(labels).alias("estimate_label"))
    )


def _groups(data: pl.DataFrame, table: str) -> list[str]:
    present = set(data["group"].to_list())
    return [g for g in breakdown(table).labels if g in present]


def _draw_group(axis, data: pl.DataFrame) -> None:
    for estimate, (label, colour) in ESTIMATES.items():
        part = data.filter(pl.col("estimate") == estimate).sort("month")
        if part.height == 0:
            continue
        x = [MONTHS.index(month) for month in part["month"].to_list()]
        axis.fill_between(
            x, part["asr_lower"].to_list(), part["asr_upper"].to_list(), color=colour, alpha=0.2
        )
        axis.plot(x, part["asr_pct"].to_list(), "-", color=colour, label=label, linewidth=1.4)


def write_png(path: Path, frame: pl.DataFrame, table: str) -> Path:
    """Small multiples, one panel per group: each estimate a line in its colour with a band."""
    data = _series(frame)
    groups = _groups(data, table) or ["(no published values)"]
    columns = min(len(groups), 4)
    rows = -(-len(groups) // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(max(3.2 * columns + 0.6, 8.0), 2.4 * rows + 1.4),  # margins below assume it
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for index, group in enumerate(groups):
        axis = axes[index // columns][index % columns]
        _draw_group(axis, data.filter(pl.col("group") == group))
        axis.set_title(group, fontsize=8)
        axis.tick_params(labelsize=6)
    for axis in list(axes.flat)[len(groups) :]:
        axis.set_visible(False)
    # From zero on every (shared) axis, set once all panels are drawn so none is cut off.
    top = data["asr_upper"].max() if data.height else None
    axes[0][0].set_ylim(0, float(top) * 1.05 if top else 1)
    # Month positions with fixed labels: date locators on many panels take seconds to draw.
    ticks = list(range(0, len(MONTHS), 4))
    for axis in axes.flat:
        axis.set_xticks(ticks, [MONTHS[i].strftime("%b %Y") for i in ticks], rotation=45)
    axes[0][0].set_ylabel(Y_TITLE, fontsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.02, 1 - 0.4 / (2.4 * rows + 1.4)),
            fontsize=7,
            ncol=len(handles),
            frameon=False,
        )
    figure.suptitle(f"Receiving a working-age benefit: {SERIES[table]}", x=0.02, ha="left")
    figure.text(0.02, 0.01, CAPTION, fontsize=6.5, wrap=True)
    # Fixed margins: tight_layout over many panels costs seconds and changes nothing here.
    height = 2.4 * rows + 1.4
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.75 / height, top=1 - 1.0 / height)

    def write(tmp: Path) -> None:
        figure.savefig(tmp, format="png", dpi=110)

    atomic_write(path, write)
    plt.close(figure)
    return path


def _caption_lines() -> list[str]:
    """The caption one sentence a line, so it fits above a narrow chart."""
    return [sentence.rstrip(".") + "." for sentence in CAPTION.split(". ")]


def altair_series(frame: pl.DataFrame, table: str) -> alt.TopLevelMixin:
    """One small panel per group: each estimate's line and 95% band, with tooltips."""
    series = _series(frame)
    # The [u] marker, when the rates carry a low-reliability flag, shows in the tooltip.
    unreliable = (
        pl.col("low_reliability").fill_null(False)
        if "low_reliability" in series.columns
        else pl.lit(False)
    )
    data = series.select(
        "group",
        pl.col("month").cast(pl.String),
        "estimate_label",
        "asr_pct",
        "asr_lower",
        "asr_upper",
        pl.when(unreliable)
        .then(pl.lit("[u] low"))
        .otherwise(pl.lit("not low"))
        .alias("reliability"),
    )
    order = _groups(data, table)
    colour = alt.Color(
        "estimate_label:N",
        title="Estimate",
        scale=alt.Scale(
            domain=[label for label, _ in ESTIMATES.values()],
            range=[colour for _, colour in ESTIMATES.values()],
        ),
        # Solid strokes: a pale band swatch would be hard to match to its line.
        legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1),
    )
    x = alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount=5))
    # Small panels have no room for the long title: the chart subtitle says what % it is.
    y_title = Y_TITLE if len(order) <= 1 else "%"
    y = alt.Y("asr_pct:Q", title=y_title, scale=alt.Scale(zero=True))
    tooltip = [
        alt.Tooltip("group:N", title="Group"),
        alt.Tooltip("estimate_label:N", title="Estimate"),
        alt.Tooltip("month:T", title="Month", format="%B %Y"),
        alt.Tooltip("asr_pct:Q", title="Percentage", format=".1f"),
        alt.Tooltip("asr_lower:Q", title="Lower 95% limit", format=".1f"),
        alt.Tooltip("asr_upper:Q", title="Upper 95% limit", format=".1f"),
        alt.Tooltip("reliability:N", title="Reliability"),
    ]
    base = alt.Chart().encode(x=x, color=colour)
    lower = alt.Y("asr_lower:Q", title=y_title, scale=alt.Scale(zero=True))
    band = base.mark_area(opacity=0.2).encode(y=lower, y2="asr_upper:Q")
    line = base.mark_line(point=True).encode(y=y, tooltip=tooltip)
    columns = 1 if len(order) <= 1 else 4
    return (
        alt.layer(band, line, data=data.to_pandas())
        .properties(width=170 if columns > 1 else 560, height=120 if columns > 1 else 260)
        .facet(facet=alt.Facet("group:N", sort=order, title=None), columns=columns)
        .properties(title=alt.TitleParams(SERIES[table], subtitle=_caption_lines(), anchor="start"))
    )
