"""Sections 1-3 of the checklist: the flow of records, identifier quality, standardisation."""

from __future__ import annotations

import inspect

import polars as pl

from evaluation.groups import BREAKDOWNS, order_of
from quality_report import charts, identifiers
from quality_report.context import ReportContext
from quality_report.document import Section, escape, figure_table, pct
from quality_report.flow import flow_counts, flow_svg

PCT_FORMATS = {
    "complete_pct": pct,
    "valid_pct": pct,
    "valid_pct_lower": pct,
    "valid_pct_upper": pct,
}


def flow_section(ctx: ReportContext) -> Section:
    """Checklist item 1: records in per source, exclusions, deduplication, links per stage."""
    section = Section("flow", "1. Flow of records through the linkage", (1,))
    counts = flow_counts(ctx)
    section.add(
        "<p>Each column follows one source from the records received to the people linked to "
        "the 2011 Census. Records excluded from linkage (wholly imputed census records, which "
        "describe no real respondent) stay in the spine as people of their own. "
        "Deduplication merges a source's duplicate records into one person; "
        "stage 1 joins records agreeing exactly on forename, surname, date of birth and "
        "postcode; stage 2 adds the links Splink scores at or above the threshold.</p>",
        flow_svg(counts),
        figure_table(counts.drop("stage"), key="flow_table", row_key=["label"]),
    )
    if ctx.spine is None:
        section.missing("linkage/spine.parquet", "deduplication and link counts cannot be shown.")
    elif ctx.predictions is None:
        section.missing(
            "linkage/predictions.parquet", "the stage 1 (deterministic) counts cannot be shown."
        )
    flow_table = ctx.run.table("analysis/published/sample_flow.parquet")
    if flow_table is None:
        section.missing(
            "analysis/published/sample_flow.parquet",
            "the study-population filters applied after linkage are not shown.",
        )
    else:
        keys = [c for c in ("estimate", "step") if c in flow_table.columns] or flow_table.columns[
            :1
        ]
        main = (
            flow_table.filter(pl.col("estimate") == "linked")
            if "estimate" in flow_table.columns
            else flow_table
        )
        section.add(
            "<h3>Study population filters after linkage</h3>",
            "<p>People each filter of the study population removes (published counts: rounded "
            "to 5, small counts suppressed as [c]).</p>",
            figure_table(main, key="sample_flow", row_key=keys, max_rows=1000),
        )
        if main.height < flow_table.height:
            section.add(
                "<details><summary>The same filters for the truth and threshold estimates"
                "</summary>"
                + figure_table(
                    flow_table.filter(pl.col("estimate") != "linked"),
                    key="sample_flow",
                    row_key=keys,
                    max_rows=1000,
                )
                + "</details>"
            )
    return section


def identifiers_section(ctx: ReportContext) -> Section:
    """Checklist item 2: identifier completeness and validity by subgroup."""
    section = Section("identifiers", "2. Identifier completeness and validity by subgroup", (2,))
    section.add(
        "<p>Complete: a value was recorded. Valid: the value also passes the identifier's "
        "rule (NHS number modulus-11 check, NINO format, postcode shape, a plausible date of "
        "birth, a recognised sex code, a name that is not a placeholder). Subgroups are the "
        "true attributes of the record's person, so a group whose records are poorer shows "
        "up even if its records misstate who they are.</p>"
    )
    tables = []
    for source in ("census", "gp", "dwp"):
        frame = ctx.source_records(source)
        if frame is None:
            section.missing(
                f"sources/{'census' if source == 'census' else source}*.parquet",
                f"identifier quality of the {source} extract cannot be shown.",
            )
            continue
        tables.append(identifiers.completeness(source, frame, ctx.record_groups(source)))
        jan = identifiers.record_flags(source, frame)
        if "jan_first_dob" in jan.columns:
            ctx.notes.setdefault("jan_first", {})[source] = (
                int(jan.get_column("jan_first_dob").sum()),
                jan.height,
            )
    if not tables:
        return section
    table = pl.concat(tables)
    overall = table.filter(pl.col("breakdown") == "all").drop("breakdown", "group")
    section.add(
        "<h3>Overall</h3>",
        figure_table(
            overall,
            key="identifiers/all",
            row_key=["source", "identifier"],
            formats=PCT_FORMATS,
            caption="Identifier completeness and validity per source (Wilson 95% limits)",
        ),
    )
    jan = ctx.notes.get("jan_first", {})
    if jan:
        items = "".join(
            f"<li>{escape(s)}: {n:,} of {d:,} dates of birth fall on 1 January "
            f"({pct(n / d if d else None)}), against about 0.27% expected by chance; the "
            "excess is likely placeholder dates.</li>"
            for s, (n, d) in jan.items()
        )
        section.add(f"<ul>{items}</ul>")
    if ctx.groups is None:
        section.missing("truth/people.parquet", "breakdowns by subgroup cannot be shown.")
        return section
    for breakdown in BREAKDOWNS:
        part = table.filter(pl.col("breakdown") == breakdown)
        order = order_of(breakdown)
        present = set(part.get_column("group").to_list())
        order = [g for g in order if g in present] if order else sorted(present)
        section.add(
            f"<h3>By {escape(breakdown.replace('_', ' '))}</h3>",
            charts.completeness_heatmap(
                part.with_columns(pl.col("group").cast(pl.Enum(order)).cast(pl.Utf8)),
                breakdown=breakdown,
                element_id=f"identifiers-{breakdown}",
            ),
            "<details><summary>Table</summary>"
            + figure_table(
                part.drop("breakdown"),
                key=f"identifiers/{breakdown}",
                row_key=["source", "identifier", "group"],
                formats=PCT_FORMATS,
                max_rows=2000,
            )
            + "</details>",
        )
    return section


_EXAMPLES = {
    "forename": ["Dr. Quillon-Vesta", "  zoëlka ", "ORVANE TESKARD"],
    "surname": ["o'dravinne", "Plumerel-Vostrand", "Mr VARNOKKE jr"],
    "postcode": ["qq1a1qq", "Qq9 9qz", "NOT KNOWN"],
    "date_of_birth": ["27/03/2031", "2031-03-27", "27 Mar 2031"],
    "sex": ["1", "Female", "U"],
}
"""Invented inputs that show each rule at work. The names are no one's, the postcodes use
an area that does not exist and the date is in the future, so no example can coincide with
a record of any run (the redaction check would otherwise catch it)."""


def standardisation_section(ctx: ReportContext) -> Section:
    """Checklist item 3: the standardisation rules applied, with synthetic examples."""
    section = Section("standardisation", "3. Standardisation rules applied", (3,))
    try:
        from linkage import standardise
    except ImportError:
        section.missing(
            "linkage/standardise.py",
            "the linkage package is not installed, so its rules cannot be listed.",
        )
        return section
    doc = inspect.getdoc(standardise) or ""
    # Marked so the redaction check can tell this fixed documentation (its examples are
    # made up, the same in every run) from the run's data.
    section.add(f'<pre class="rules">{escape(doc)}</pre>')
    raw = pl.DataFrame(
        {
            "forename": _EXAMPLES["forename"],
            "surname": _EXAMPLES["surname"],
            "middle_names": [None, None, None],
        },
        schema={"forename": pl.Utf8, "surname": pl.Utf8, "middle_names": pl.Utf8},
    )
    names = standardise.standardise_names(raw)
    other = pl.DataFrame({"postcode": _EXAMPLES["postcode"], "sex": _EXAMPLES["sex"]}).select(
        standardise.standardise_postcode(pl.col("postcode")).alias("postcode_std"),
        standardise.standardise_sex(pl.col("sex")).alias("sex_std"),
    )
    dates = pl.DataFrame({"d": _EXAMPLES["date_of_birth"]}).select(
        standardise.parse_dates(pl.col("d")).cast(pl.Utf8).alias("date_std")
    )
    rows = pl.DataFrame(
        {
            "input forename": _EXAMPLES["forename"],
            "forename": names.get_column("forename"),
            "middle names": names.get_column("middle_names"),
            "input surname": _EXAMPLES["surname"],
            "surname": names.get_column("surname"),
            "input postcode": _EXAMPLES["postcode"],
            "postcode": other.get_column("postcode_std"),
            "input date": _EXAMPLES["date_of_birth"],
            "date": dates.get_column("date_std"),
            "input sex": _EXAMPLES["sex"],
            "sex": other.get_column("sex_std"),
        }
    )
    section.add(
        "<h3>The rules at work on made-up examples</h3>",
        '<p class="note">The rows below are invented to illustrate the rules; they are '
        "computed by the linkage package's own functions at report time.</p>",
        figure_table(rows, key="standardisation", row_key=["input forename"]),
    )
    section.add(*repairs_part(ctx))
    return section


REPAIR_COLUMNS = {
    "input": "input",
    "column": "column",
    "role": "role",
    "recorded": "values recorded",
    "invalid": "made missing",
    "share": "share made missing",
    "rule": "rule they broke",
}


def repairs_part(ctx: ReportContext) -> list[str]:
    """The values reading made missing (impossible dates, wrongly shaped postcodes or numbers),
    counted per input and column, and the roles left mostly missing: the repairs a user's
    extracts needed, which the linkage summary records."""
    inputs = (ctx.summary or {}).get("inputs")
    if inputs is None:
        return [
            '<p class="note">The linkage summary records no reading repairs (it predates them).</p>'
        ]
    parts = ["<h3>Values made missing on reading</h3>"]
    repairs = inputs.get("repairs", [])
    if repairs:
        frame = pl.DataFrame(repairs).select(list(REPAIR_COLUMNS)).rename(REPAIR_COLUMNS)
        parts.append(
            "<p>Values that could not be read were made missing and counted, rather than the "
            "file refused (a file is refused only when a column is mostly unreadable).</p>"
        )
        parts.append(
            figure_table(
                frame,
                key="repairs",
                row_key=["input", "column"],
                formats={"share made missing": pct},
            )
        )
    else:
        parts.append("<p>Every recorded value of every mapped column could be read: no repair.</p>")
    for warning in inputs.get("warnings", []):
        parts.append(f"<p><strong>Warning:</strong> {escape(warning)}</p>")
    return parts
