"""Section 10's part on the synthetic world against ONS's published linkage figures.

Renders ``linkage/evaluation/world_shares.parquet`` as the evaluation stage wrote it
(:func:`evaluation.world.world_comparison`): the shares, ONS's figures, the gaps, their
intervals and the verdicts are read, never computed here. Each ONS statement gets one plain
sentence; the ethnic-group floor gets one sentence for all groups.
"""

from __future__ import annotations

import polars as pl

from quality_report.document import Section, escape, figure, figure_table, pct, points

WORLD_SHARES = "linkage/evaluation/world_shares.parquet"

MEASURE_LABELS: dict[str, str] = {
    "census_to_gp": "census to GP",
    "census_to_dwp": "census to DWP",
    "in_gp": "held by the GP extract",
    "in_dwp": "held by DWP",
}

GROUP_LABELS: dict[str, str] = {
    "all": "All census records",
    "20-29": "People aged 20-29",
    "Male": "Men",
    "All ethnic minority groups": "Ethnic minorities",
    "London": "London residents",
}

WORLD_INTRODUCTION = (
    "<p>Is the synthetic world as unkind as reality? ONS publish who census linkage leaves "
    "out (STUDY.md section 3). The evaluation stage measured the same shares here: census "
    "records (not wholly imputed) linked to GP, among people still alive in England on the "
    "GP extract day (31 March 2021), and linked to DWP, among people aged 16 or over then. "
    "ONS's census-to-register figures are compared on the GP extract's scale (practices "
    "with 93.5% of patients supply it and type-1 opt-outs are left out, where the register "
    "ONS linked to holds everyone). Where ONS name a group as under-represented without a "
    "size, the group is compared with everyone else. A gap is called a difference only when "
    "its 95% interval (Wilson; Newcombe's for the gap to everyone else) excludes ONS's "
    "figure.</p>"
)

ORDER = {"census_to_gp": 0, "census_to_dwp": 1}
KIND_ORDER = {"level": 0, "below_rest": 1, "floor": 2}

LEVEL_VERDICTS = {
    "kinder": "kinder than reality: the interval lies above ONS's figure",
    "as unkind": "as unkind as reality: the interval holds ONS's figure",
    "unkinder": "unkinder than reality: the interval lies below ONS's figure",
}
REST_VERDICTS = {
    "as unkind": "as unkind as reality: lower than everyone else, as ONS find (ONS give no size)",
    "kinder": "kinder than reality: higher than everyone else, where ONS find it lower",
    "no difference shown": (
        "no difference from everyone else shown (the interval holds no gap), so this run "
        "cannot say the world is as unkind as reality here; it may be kinder"
    ),
}


def _points(value: object) -> str:
    """A difference of proportions as percentage points."""
    return "n/a" if value is None else f"{points(100 * float(value))} points"


def _table_points(value: object) -> str:
    """A difference of proportions as percentage points, the unit in the caption."""
    return "n/a" if value is None else points(100 * float(value))


def _key(row: dict) -> str:
    return f"world/{row['measure']}|{row['breakdown']}|{row['group']}"


def _share_text(row: dict) -> str:
    key = _key(row)
    return (
        f"{figure(f'{key}/share', row['share'], pct)} ("
        f"{figure(f'{key}/share_lower', row['share_lower'], pct)} to "
        f"{figure(f'{key}/share_upper', row['share_upper'], pct)}) of "
        f"{figure(f'{key}/records', row['records'])} records"
    )


def _opening(row: dict) -> str:
    """The group and measure in bold, and the share linked with its interval."""
    return (
        f"<p><strong>{escape(GROUP_LABELS.get(row['group'], row['group']))}, "
        f"{escape(MEASURE_LABELS[row['measure']])}</strong>: {_share_text(row)} linked, "
    )


def _level_sentence(row: dict) -> str:
    key = _key(row)
    return (
        _opening(row)
        + f"against ONS's {figure(f'{key}/ons_figure', row['ons_figure'], pct)}"
        + (
            f" ({figure(f'{key}/reference', row['reference'], pct)} on the GP extract's scale)"
            if row["reference"] != row["ons_figure"]
            else ""
        )
        + f"; a gap of {figure(f'{key}/gap', row['gap'], _points)}. The world is "
        f"{escape(LEVEL_VERDICTS[row['verdict']])}.</p>"
    )


def _rest_sentence(row: dict) -> str:
    key = _key(row)
    return (
        _opening(row)
        + f"against {figure(f'{key}/reference', row['reference'], pct)} for everyone else; "
        f"a gap of {figure(f'{key}/gap', row['gap'], _points)} "
        f"({figure(f'{key}/gap_lower', row['gap_lower'], _points)} to "
        f"{figure(f'{key}/gap_upper', row['gap_upper'], _points)}). "
        f"{escape(row['ons_source'])}. The world is {escape(REST_VERDICTS[row['verdict']])}."
        "</p>"
    )


def _floor_sentence(rows: pl.DataFrame) -> str:
    first = rows.row(0, named=True)
    below = rows.filter(pl.col("verdict") == "unkinder").get_column("group").to_list()
    found = (
        f"{len(below)} lie wholly below it ({escape(', '.join(below))}): the world is "
        "unkinder than reality for them"
        if below
        else "none lies wholly below it: the world is no unkinder than reality there"
    )
    return (
        f"<p><strong>Every ethnic group, {escape(MEASURE_LABELS[first['measure']])}</strong>: "
        f"{escape(first['ons_source'])}, "
        f"{figure('world/ethnic_floor/reference', first['reference'], pct)} on the GP "
        f"extract's scale. Of {figure('world/ethnic_floor/groups', rows.height)} groups, "
        f"{found}. A floor cannot show a kinder world; the table gives each group.</p>"
    )


def world_part(section: Section, table: pl.DataFrame | None) -> None:
    """Add the world-against-ONS sentences and table to section 10, or say it is absent."""
    if table is None:
        section.missing(
            WORLD_SHARES,
            "the world's census linkage by ONS's groups was not compared with ONS's figures "
            "(the evaluation stage of older runs did not write it).",
        )
        return
    # ONS's overall figures first, GP before DWP; the order is the reader's, not a measure.
    compared = table.filter(pl.col("ons_kind").is_not_null()).sort(
        pl.col("measure").replace_strict(ORDER, default=len(ORDER)),
        pl.col("ons_kind").replace_strict(KIND_ORDER, default=len(KIND_ORDER)),
        "breakdown",
        "group",
    )
    section.add("<h3>The synthetic world against ONS's published linkage</h3>", WORLD_INTRODUCTION)
    for row in compared.filter(pl.col("ons_kind") != "floor").iter_rows(named=True):
        sentence = _level_sentence if row["ons_kind"] == "level" else _rest_sentence
        section.add(sentence(row))
    floor = compared.filter(pl.col("ons_kind") == "floor")
    if floor.height:
        section.add(_floor_sentence(floor))
    shown = [
        "measure", "breakdown", "group", "records", "share", "share_lower", "share_upper",
        "reference", "gap", "gap_lower", "gap_upper", "verdict",
    ]  # fmt: skip
    formats = {c: pct for c in ("share", "share_lower", "share_upper", "reference")}
    formats |= {c: _table_points for c in ("gap", "gap_lower", "gap_upper")}
    section.add(
        "<details><summary>Table: every share beside ONS's figure</summary>"
        + figure_table(
            compared.select(shown),
            key="world_table",
            row_key=["measure", "breakdown", "group"],
            formats=formats,
            caption="Shares with their 95% limits; gaps (share minus reference) in points",
            max_rows=1000,
        )
        + "</details>",
        "<details><summary>Table: linked and held shares by every group</summary>"
        + figure_table(
            table.select(shown[:7]),
            key="world_all",
            row_key=["measure", "breakdown", "group"],
            formats=formats,
            max_rows=1000,
        )
        + "</details>",
    )
