"""Altair charts of the report, drawn offline by the page's vendored Vega scripts."""

from __future__ import annotations

import altair as alt
import polars as pl

from reporting import altair_chart

_TARGET_COLOURS = alt.Scale(domain=["gp", "dwp"], range=["#1d70b8", "#d4351c"])


def _data(frame: pl.DataFrame) -> alt.Data:
    # Explicit JSON-safe records keep the spec independent of pandas' date handling.
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
    return alt.Data(values=rows)


def rate_by_group(
    frame: pl.DataFrame,
    *,
    value: str,
    title: str,
    element_id: str,
    order: list[str] | None = None,
) -> str:
    """Points with 95% interval bars per group, one colour per linkage target.

    ``frame`` holds ``group``, ``target``, ``value`` and ``value_lower``/``value_upper``.
    """
    data = _data(frame.select("group", "target", value, f"{value}_lower", f"{value}_upper"))
    y = alt.Y("group:N", sort=order, title=None)
    base = alt.Chart(data).encode(
        y=y,
        yOffset=alt.YOffset("target:N"),
        color=alt.Color("target:N", scale=_TARGET_COLOURS, title="Linked to"),
    )
    bars = base.mark_rule().encode(
        x=alt.X(
            f"{value}_lower:Q", title=title, scale=alt.Scale(zero=False), axis=alt.Axis(format="%")
        ),
        x2=f"{value}_upper:Q",
    )
    points = base.mark_point(filled=True, size=40).encode(
        x=f"{value}:Q",
        tooltip=[
            "group:N",
            "target:N",
            alt.Tooltip(f"{value}:Q", format=".2%"),
            alt.Tooltip(f"{value}_lower:Q", format=".2%"),
            alt.Tooltip(f"{value}_upper:Q", format=".2%"),
        ],
    )
    chart = (bars + points).properties(width=520, title=title)
    return altair_chart(chart, element_id)


def precision_recall_threshold(
    frame: pl.DataFrame, *, threshold: float | None, targets: dict[str, float], element_id: str
) -> str:
    """Precision and recall against the match-weight threshold, with the targets as rules.

    ``frame`` holds ``match_weight``, ``metric`` (``precision``/``recall``) and ``value``.
    """
    whole = _threshold_panel(frame, threshold, targets, None, "The whole range")
    # The targets sit at 99.75% and 99.9%: a second panel shows that region, where the
    # whole-range axis squeezes everything into one line.
    near = _threshold_panel(frame, threshold, targets, (0.99, 1.0), "Zoomed to 99% to 100%")
    chart = alt.vconcat(whole, near).properties(title="Precision and recall against the threshold")
    return altair_chart(chart, element_id)


def _threshold_panel(
    frame: pl.DataFrame,
    threshold: float | None,
    targets: dict[str, float],
    domain: tuple[float, float] | None,
    title: str,
) -> alt.LayerChart:
    scale = alt.Scale(zero=False) if domain is None else alt.Scale(domain=list(domain))
    lines = (
        alt.Chart(_data(frame))
        .mark_line(point=True, clip=domain is not None)
        .encode(
            x=alt.X("match_weight:Q", title="Threshold (match weight)"),
            y=alt.Y("value:Q", title="Pairwise rate", scale=scale, axis=alt.Axis(format="%")),
            color=alt.Color("metric:N", title=None),
            tooltip=["match_weight:Q", "metric:N", alt.Tooltip("value:Q", format=".3%")],
        )
    )
    target_rows = pl.DataFrame({"metric": list(targets), "value": list(targets.values())})
    rules = (
        alt.Chart(_data(target_rows))
        .mark_rule(strokeDash=[4, 4])
        .encode(y="value:Q", color=alt.Color("metric:N", title=None))
    )
    layers = [lines, rules]
    if threshold is not None:
        chosen = pl.DataFrame({"match_weight": [threshold]})
        layers.append(
            alt.Chart(_data(chosen)).mark_rule(color="#0b0c0c").encode(x="match_weight:Q")
        )
    return alt.layer(*layers).properties(width=620, height=220, title=title)


def cluster_size_chart(frame: pl.DataFrame, element_id: str) -> str:
    """Bar chart of clusters by size."""
    chart = (
        alt.Chart(_data(frame))
        .mark_bar()
        .encode(
            x=alt.X("size:O", title="Records in the cluster"),
            y=alt.Y("clusters:Q", title="Clusters", scale=alt.Scale(type="symlog")),
            tooltip=["size:O", "clusters:Q", "records:Q"],
        )
        .properties(width=520, height=220, title="Cluster size distribution")
    )
    return altair_chart(chart, element_id)


def completeness_heatmap(frame: pl.DataFrame, *, breakdown: str, element_id: str) -> str:
    """Heatmap of valid identifier shares by group and source identifier."""
    data = frame.with_columns((pl.col("source") + ": " + pl.col("identifier")).alias("field"))
    chart = (
        alt.Chart(_data(data.select("field", "group", "valid_pct", "records")))
        .mark_rect()
        .encode(
            x=alt.X("field:N", title=None),
            y=alt.Y("group:N", title=breakdown.replace("_", " ")),
            color=alt.Color(
                "valid_pct:Q",
                title="Valid",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format="%"),
            ),
            tooltip=["field:N", "group:N", alt.Tooltip("valid_pct:Q", format=".2%"), "records:Q"],
        )
        .properties(title=f"Valid identifiers by {breakdown.replace('_', ' ')}")
    )
    return altair_chart(chart, element_id)


_ESTIMATE_COLOURS = {
    "linked": "#1d70b8",
    "truth": "#0b0c0c",
    "ipw": "#d4351c",
}
_THRESHOLD_COLOURS = ("#f47738", "#00703c", "#912b88", "#85994b", "#b58840")


def series_chart(frame: pl.DataFrame, *, title: str, element_id: str) -> str:
    """Monthly published series, one line per estimate, one panel per group.

    The shaded band is the linked estimate's 95% confidence interval; groups whose every
    cell is suppressed are left out.
    """
    data = frame.select("group", "month", "estimate", "asr_pct", "asr_lower", "asr_upper")
    shown = data.group_by("group").agg(pl.col("asr_pct").is_not_null().any().alias("any"))
    keep = shown.filter(pl.col("any")).get_column("group").to_list()
    data = data.filter(pl.col("group").is_in(keep)).sort("group", "estimate", "month")
    kinds = sorted(
        data.get_column("estimate").unique().to_list(),
        key=lambda k: (list(_ESTIMATE_COLOURS).index(k) if k in _ESTIMATE_COLOURS else 9, k),
    )
    extra = iter(_THRESHOLD_COLOURS * 4)
    colours = [_ESTIMATE_COLOURS.get(k) or next(extra) for k in kinds]
    colour = alt.Color(
        "estimate:N",
        title="Estimate",
        scale=alt.Scale(domain=kinds, range=colours),
        legend=alt.Legend(orient="top", direction="horizontal"),
    )
    base = alt.Chart().encode(x=alt.X("month:T", title=None))
    band = (
        base.transform_filter(alt.datum.estimate == "linked")
        .mark_area(opacity=0.15, color="#1d70b8")
        .encode(y="asr_lower:Q", y2="asr_upper:Q")
    )
    line = base.mark_line(point=True, strokeWidth=1.5).encode(
        y=alt.Y(
            "asr_pct:Q",
            title="Age-standardised % receiving a benefit",
            scale=alt.Scale(zero=False),
        ),
        color=colour,
        strokeDash=alt.StrokeDash("estimate:N", legend=None),
        tooltip=["group:N", "month:T", "estimate:N", alt.Tooltip("asr_pct:Q", format=".2f")],
    )
    chart = (
        alt.layer(band, line, data=_data(data))
        .properties(width=260, height=160)
        .facet(facet=alt.Facet("group:N", title=None), columns=3)
        .properties(title=title)
        .resolve_scale(y="independent")
    )
    return altair_chart(chart, element_id)


def clerical_chart(frame: pl.DataFrame, element_id: str) -> str:
    """Mean model probability against the reviewed (true) match rate per weight band."""
    long = pl.concat(
        [
            frame.select(
                "band", pl.col("mean_probability").alias("value"), pl.lit("model").alias("kind")
            ),
            frame.select(
                "band",
                pl.col("reviewed_match_rate").alias("value"),
                pl.lit("clerical review").alias("kind"),
            ),
        ]
    )
    chart = (
        alt.Chart(_data(long))
        .mark_bar()
        .encode(
            x=alt.X("band:N", title="Match-weight band", sort=None),
            xOffset="kind:N",
            y=alt.Y("value:Q", title="Share that are matches", axis=alt.Axis(format="%")),
            color=alt.Color("kind:N", title=None),
            tooltip=["band:N", "kind:N", alt.Tooltip("value:Q", format=".2%")],
        )
        .properties(width=520, height=220, title="Model probability against clerical review")
    )
    return altair_chart(chart, element_id)


def grouped_bars(
    frame: pl.DataFrame, *, x: str, y: str, colour: str, title: str, element_id: str
) -> str:
    """A simple grouped bar chart."""
    chart = (
        alt.Chart(_data(frame.select(x, y, colour)))
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", title=None, sort=None),
            xOffset=f"{colour}:N",
            y=alt.Y(f"{y}:Q", title=y.replace("_", " ")),
            color=alt.Color(f"{colour}:N", title=None),
            tooltip=[f"{x}:N", f"{colour}:N", f"{y}:Q"],
        )
        .properties(width=520, height=220, title=title)
    )
    return altair_chart(chart, element_id)
