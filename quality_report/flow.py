"""Counts for the flow diagram: records in, exclusions, deduplication, links per stage."""

from __future__ import annotations

import polars as pl

from quality_report.context import ReportContext

SOURCES: tuple[str, ...] = ("census", "gp", "dwp")
STAGES: tuple[str, ...] = ("received", "excluded", "people", "stage1_linked", "linked", "unlinked")
STAGE_LABELS: dict[str, str] = {
    "received": "Records received",
    "excluded": "Excluded from linkage",
    "people": "People after deduplication",
    "stage1_linked": "Linked to the census, stage 1 (deterministic)",
    "linked": "Linked to the census, after stage 2 (Splink)",
    "unlinked": "Not linked to the census",
}


def _linked_people(members: pl.DataFrame, cluster: str, source: str) -> int:
    """People (clusters) holding a record of ``source`` and a census record."""
    per = members.group_by(cluster).agg(
        (pl.col("source") == "census").any().alias("c"),
        (pl.col("source") == source).sum().alias("n"),
    )
    if source == "census":
        others = members.group_by(cluster).agg((pl.col("source") != "census").any().alias("o"))
        per = per.join(others, on=cluster)
        return per.filter(pl.col("c") & pl.col("o")).height
    return per.filter(pl.col("c") & (pl.col("n") > 0)).height


def flow_counts(ctx: ReportContext) -> pl.DataFrame:
    """One row per stage with a column per source; null where an artefact is absent.

    ``excluded`` counts records missing from the spine plus those the linkage leaves
    unlinked by design (``linkable`` false in ``linkage/records.parquet``: wholly imputed
    census records, each kept as its own cluster). ``people`` counts spine clusters holding
    the source's records; ``linked`` counts those
    clusters that also hold a census record (for the census: census people linked to GP or
    DWP); ``unlinked`` is ``people - linked``.
    """
    rows: dict[str, dict[str, int | None]] = {s: dict.fromkeys(SOURCES) for s in STAGES}
    members = ctx.members
    stage1 = ctx.stage1
    records = ctx.run.table("linkage/records.parquet")
    unlinkable: dict[str, int] = {}
    if records is not None and "linkable" in records.columns:
        unlinkable = dict(
            records.filter(~pl.col("linkable")).group_by("source").agg(pl.len()).iter_rows()
        )
    for source in SOURCES:
        frame = ctx.source_records(source)
        if frame is not None:
            rows["received"][source] = frame.height
        if members is None:
            continue
        in_spine = members.filter(pl.col("source") == source)
        if frame is not None:
            missing = frame.height - in_spine.select("record_id").unique().height
            rows["excluded"][source] = missing + unlinkable.get(source, 0)
        people = in_spine.select("cluster_id").unique().height
        rows["people"][source] = people
        linked = _linked_people(members, "cluster_id", source)
        rows["linked"][source] = linked
        rows["unlinked"][source] = people - linked
        if stage1 is not None:
            rows["stage1_linked"][source] = _linked_people(stage1, "stage1", source)
    return pl.DataFrame(
        [{"stage": s, "label": STAGE_LABELS[s], **rows[s]} for s in STAGES],
        schema={"stage": pl.Utf8, "label": pl.Utf8, **dict.fromkeys(SOURCES, pl.Int64)},
    )


def flow_svg(counts: pl.DataFrame) -> str:
    """The flow diagram as inline SVG: a column of boxes per source, arrows between stages.

    Each number carries ``data-key="flow/<stage>|<source>"`` and ``data-value``, like every
    figure of the report.
    """
    col_w, box_w, box_h, gap, left = 250, 210, 54, 26, 250
    width = left + col_w * len(SOURCES)
    height = 40 + len(STAGES) * (box_h + gap)
    parts = [
        f'<svg class="flow" role="img" aria-label="Flow diagram of record counts" '
        f'width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Arial, sans-serif" font-size="13">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="4" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#505a5f"/></marker></defs>',
    ]
    titles = {"census": "2011 Census", "gp": "GP registrations", "dwp": "DWP customers"}
    for j, source in enumerate(SOURCES):
        x = left + j * col_w
        parts.append(
            f'<text x="{x + box_w / 2}" y="24" text-anchor="middle" font-weight="bold">'
            f"{titles[source]}</text>"
        )
    for i, row in enumerate(counts.iter_rows(named=True)):
        y = 40 + i * (box_h + gap)
        # Long labels go on two lines, split at their comma, so none runs into the boxes.
        first, _, second = row["label"].partition(", ")
        lines = [first + ",", second] if second else [first]
        top = y + box_h / 2 + 4 - 8 * (len(lines) - 1)
        spans = "".join(
            f'<tspan x="8" y="{top + 16 * k}">{line}</tspan>' for k, line in enumerate(lines)
        )
        parts.append(f'<text fill="#0b0c0c">{spans}</text>')
        for j, source in enumerate(SOURCES):
            x = left + j * col_w
            value = row[source]
            fill = "#f3f2f1" if row["stage"] != "unlinked" else "#fcebe8"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4" fill="{fill}" '
                'stroke="#b1b4b6"/>'
            )
            text = "absent" if value is None else f"{value:,}"
            raw = "" if value is None else str(value)
            parts.append(
                f'<text x="{x + box_w / 2}" y="{y + box_h / 2 + 6}" text-anchor="middle" '
                f'font-size="18" font-weight="bold" data-key="flow/{row["stage"]}|{source}" '
                f'data-value="{raw}">{text}</text>'
            )
            if i + 1 < counts.height:
                parts.append(
                    f'<line x1="{x + box_w / 2}" y1="{y + box_h}" x2="{x + box_w / 2}" '
                    f'y2="{y + box_h + gap - 4}" stroke="#505a5f" marker-end="url(#arrow)"/>'
                )
    parts.append("</svg>")
    return "".join(parts)
