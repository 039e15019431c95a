"""Charts of the published monthly series, linked against truth: PNG and offline HTML."""

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
}
STYLES = {"linked": "-", "truth": "--", "ipw": ":"}


def _series(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    estimates = ["linked", "truth", "ipw"] if table != "overall" else None
    data = frame.drop_nulls("asr_pct")
    if estimates is not None:
        data = data.filter(pl.col("estimate").is_in(estimates))
    return data


def write_png(path: Path, frame: pl.DataFrame, table: str) -> Path:
    """A line chart: one colour per group, linked solid, truth dashed, weighted dotted."""
    data = _series(frame, table)
    groups = [g for g in breakdown(table).labels if g in set(data["group"].to_list())]
    columns = 6 if len(groups) > 6 else len(groups) or 1
    rows = -(-len(groups) // columns) if len(groups) > 6 else 1
    single = len(groups) <= 6
    figure, axes = plt.subplots(
        1 if single else rows,
        1 if single else columns,
        figsize=(9, 5) if single else (3 * columns, 2.4 * rows),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for index, group in enumerate(groups):
        axis = axes[0][0] if single else axes[index // columns][index % columns]
        for (estimate,), part in data.filter(pl.col("group") == group).group_by(
            "estimate", maintain_order=True
        ):
            part = part.sort("month")
            style = STYLES.get(str(estimate), "-.")
            label = f"{group}: {estimate}" if single else str(estimate)
            x = [MONTHS.index(month) for month in part["month"].to_list()]
            axis.plot(x, part["asr_pct"].to_list(), style, label=label)
        if not single:
            axis.set_title(group, fontsize=8)
            axis.tick_params(labelsize=6)
    for axis in list(axes.flat)[len(groups) if not single else 1 :]:
        axis.set_visible(False)
    # Month positions with fixed labels: date locators on many panels take seconds to draw.
    ticks = list(range(0, len(MONTHS), 4))
    for axis in axes.flat:
        axis.set_xticks(ticks, [MONTHS[i].strftime("%b %Y") for i in ticks], rotation=45)
        axis.tick_params(axis="x", labelsize=6 if not single else 8)
    first = axes[0][0]
    first.set_ylabel("Age-standardised %")
    if first.get_legend_handles_labels()[0]:
        first.legend(fontsize=6 if not single else 7, ncol=1 if not single else 2)
    figure.suptitle(f"Receiving a working-age benefit, {SERIES[table].lower()}")
    # Fixed margins: tight_layout over many panels costs seconds and changes nothing here.
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.9, hspace=0.5, wspace=0.15)

    def write(tmp: Path) -> None:
        figure.savefig(tmp, format="png", dpi=110)

    atomic_write(path, write)
    plt.close(figure)
    return path


def altair_series(frame: pl.DataFrame, table: str) -> alt.TopLevelMixin:
    """An interactive chart of the monthly series: linked against truth, with tooltips."""
    data = _series(frame, table).select(
        "group", pl.col("month").cast(pl.String), "estimate", "asr_pct", "asr_lower", "asr_upper"
    )
    order = [g for g in breakdown(table).labels if g in set(data["group"].to_list())]
    tooltip = ["group", "estimate", "month", "asr_pct", "asr_lower", "asr_upper"]
    x = alt.X("month:T", title="Month")
    y = alt.Y("asr_pct:Q", title="Age-standardised %")
    if len(order) > 6:
        # Many groups: one small panel per group, the estimates as colours.
        panel = (
            alt.Chart(data.to_pandas())
            .mark_line(point=True)
            .encode(x=x, y=y, color=alt.Color("estimate:N", title="Estimate"), tooltip=tooltip)
            .properties(width=180, height=120)
        )
        return panel.facet(
            facet=alt.Facet("group:N", sort=order, title=None), columns=4
        ).properties(title=SERIES[table])
    return (
        alt.Chart(data.to_pandas())
        .mark_line(point=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color("group:N", sort=order, title="Group"),
            strokeDash=alt.StrokeDash("estimate:N", title="Estimate"),
            tooltip=tooltip,
        )
        .properties(width=640, height=360, title=SERIES[table])
        .interactive()
    )
