"""Offline HTML validation reports: an index page and one page per suite.

Pages are built from the GX validation results (reduced to ``Outcome`` records) with the
project's ``reporting`` package, so styles are inlined and nothing is fetched from the
network. Each suite's outcomes are also stored as JSON (``results/<suite>.json``) so the
index always lists every suite validated in the run folder, whichever stage ran last.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import polars as pl

from common.files import write_json
from expectations.runner import SuiteResult
from reporting import html_table, page, write_page

_BADGES = {
    "pass": '<span class="badge pass">passed</span>',
    "warn": '<span class="badge warn">warning</span>',
    "fail": '<span class="badge fail">failed</span>',
}


def summary(result: SuiteResult) -> dict[str, Any]:
    """Counts of one suite's results, for the small summary a stage returns."""
    return {
        "evaluated": result.evaluated,
        "failed_critical": len(result.failed_critical),
        "failed_warning": len(result.failed_warning),
    }


def write_results(
    result: SuiteResult, out_dir: Path, *, tables: dict[str, pl.DataFrame] | None = None
) -> Path:
    """Store a suite's outcomes as JSON and (re)write its page and the index page.

    Parameters
    ----------
    result
        The suite's outcomes.
    out_dir
        The validation folder.
    tables
        Aggregate tables worth showing beside the results (such as linkage rates by ethnic
        group); never record-level data.
    """
    record = {
        "suite": result.suite,
        "description": result.description,
        "rows": result.rows,
        "seconds": round(result.seconds, 3),
        "outcomes": [o.to_dict() for o in result.outcomes],
        "tables": {name: frame.to_dicts() for name, frame in (tables or {}).items()},
    }
    write_json(out_dir / "results" / f"{_slug(result.suite)}.json", record)
    suite_page = write_page(out_dir / f"{_slug(result.suite)}.html", _suite_page(record))
    write_index(out_dir)
    return suite_page


def write_index(out_dir: Path) -> Path:
    """The index page: every suite validated in this folder, with its counts and status."""
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((out_dir / "results").glob("*.json"))
    ]
    rows = []
    totals = {"suites": len(records), "evaluated": 0, "critical": 0, "warning": 0}
    for record in records:
        counts = _counts(record["outcomes"])
        totals["evaluated"] += counts["evaluated"]
        totals["critical"] += counts["critical"]
        totals["warning"] += counts["warning"]
        name = html.escape(record["suite"])
        link = f'<a href="{_slug(record["suite"])}.html">{name}</a>'
        rows.append(
            f"<tr><td>{link}</td><td>{html.escape(record['description'])}</td>"
            f"<td>{_status_badge(counts)}</td>"
            + "".join(
                f'<td class="num">{counts[key]}</td>'
                for key in ("evaluated", "passed", "critical", "warning")
            )
            + "</tr>"
        )
    cards = "".join(
        f'<div class="card"><div class="value">{value:,}</div>{label}</div>'
        for label, value in (
            ("suites", totals["suites"]),
            ("expectations evaluated", totals["evaluated"]),
            ("critical failures", totals["critical"]),
            ("warnings", totals["warning"]),
        )
    )
    head = "".join(
        f'<th scope="col"{cls}>{label}</th>'
        for label, cls in (
            ("Suite", ""),
            ("Checks", ""),
            ("Status", ""),
            ("Evaluated", ' class="num"'),
            ("Passed", ' class="num"'),
            ("Failed (critical)", ' class="num"'),
            ("Failed (warning)", ' class="num"'),
        )
    )
    body = (
        "<h1>Validation results</h1>"
        '<p class="note">Great Expectations suites run on this run\'s files. Critical '
        "failures stop the pipeline; warnings are reported and the run goes on. Offending "
        "rows are identified by record id only.</p>"
        f'<div class="summary" id="totals">{cards}</div>'
        f'<table id="suites"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{gates_and_reported_checks()}"
    )
    return write_page(out_dir / "index.html", page("Validation", body, subtitle="triangulate"))


QUALITY_REPORT_LINK = "../report/index.html#verdict"
"""Where a run's linkage quality verdict is, relative to its validation folder."""


def gates_and_reported_checks() -> str:
    """What this page gates and what only the quality report judges, with a link to it.

    The page can be all green while the quality report shows a linkage target failed: the
    two answer different questions, and this section says which.
    """
    return (
        '<section id="gates"><h2>What stops the run, and what is only reported</h2>'
        "<p>A <strong>critical</strong> failure on this page stops the run: no later stage "
        "runs and nothing is published. A <strong>warning</strong> is reported and the run "
        "goes on. These checks need no ground truth, so they could run on real data: the "
        "files' structure and values, linkage rates above a floor (a gross failure such as a "
        "broken blocking rule), implausible links, disclosure control and the wording of the "
        "main points.</p>"
        "<p>The linkage quality <strong>targets</strong> (precision of at least 99.90% and "
        "recall of at least 99.75%, judged on the synthetic truth) are <strong>not</strong> "
        "checked here; they are reported, not gated, in the verdict of the linkage quality "
        f'report (<a href="{QUALITY_REPORT_LINK}">report/index.html, section Verdict</a>, '
        "in the same run folder). An all-green page here beside a target shown as failed "
        "there is therefore not a contradiction: the run was fit to publish, and the "
        "report says how far its links fall short and what that does to the estimates.</p>"
        "</section>"
    )


def _suite_page(record: dict[str, Any]) -> str:
    outcomes = record["outcomes"]
    counts = _counts(outcomes)
    rows_table = html_table(
        pl.DataFrame(
            {"part": list(record["rows"]), "rows": list(record["rows"].values())},
            schema={"part": pl.String, "rows": pl.Int64},
        ),
        caption="Rows validated",
    )
    families = (
        pl.DataFrame(
            [(o["family"], o["severity"], o["success"]) for o in outcomes],
            schema={"family": pl.String, "severity": pl.String, "success": pl.Boolean},
            orient="row",
        )
        .group_by("family")
        .agg(
            pl.len().alias("evaluated"),
            (~pl.col("success") & (pl.col("severity") == "critical"))
            .sum()
            .alias("failed critical"),
            (~pl.col("success") & (pl.col("severity") == "warning")).sum().alias("failed warning"),
        )
        .sort("family")
    )
    failing = [o for o in outcomes if not o["success"]]
    body = (
        f'<p><a href="index.html">All suites</a></p><h1>Suite {html.escape(record["suite"])}</h1>'
        f"<p>{html.escape(record['description'])}. {_status_badge(counts)} "
        f"{counts['evaluated']} expectations evaluated, {counts['critical']} critical and "
        f"{counts['warning']} warning failures ({record['seconds']:.1f} s).</p>"
        f"{rows_table}{html_table(families, caption='Results by family')}"
        "<h2>Failures</h2>"
        + (_results_table(failing, "failures") if failing else "<p>None.</p>")
        + "<h2>All expectations</h2>"
        + _results_table(outcomes, "results")
        + "".join(
            f"<h2>{html.escape(name)}</h2>" + html_table(pl.DataFrame(rows))
            for name, rows in record.get("tables", {}).items()
            if rows
        )
    )
    return page(f"Validation: {record['suite']}", body, subtitle=record["description"])


def _results_table(outcomes: list[dict[str, Any]], element_id: str) -> str:
    head = "".join(
        f'<th scope="col">{label}</th>'
        for label in ("Status", "Check", "Kind", "Columns and rule", "Result", "Examples")
    )
    rows = []
    for o in outcomes:
        status = "pass" if o["success"] else ("fail" if o["severity"] == "critical" else "warn")
        if o["error"]:
            result = f"error: {o['error']}"
        elif o["unexpected_count"] is not None:
            result = f"{o['unexpected_count']:,} of {o['element_count']:,} unexpected"
            if o["unexpected_percent"]:
                result += f" ({o['unexpected_percent']:.3g}%)"
        else:
            result = f"observed {o['observed']}" if o["observed"] is not None else ""
        cells = [
            _BADGES[status],
            f"<code>{html.escape(o['check'])}</code><br>"
            f'<span class="note">{html.escape(o["expectation_type"])}</span>',
            f'{html.escape(o["severity"])}<br><span class="note">{html.escape(o["family"])}</span>',
            f'{html.escape(o["columns"])}<br><span class="note">{html.escape(o["rule"])}</span>',
            html.escape(result),
            html.escape("; ".join(o["sample"])),
        ]
        rows.append(
            f'<tr data-check="{html.escape(o["check"])}" data-status="{status}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    return (
        f'<div style="overflow-x: auto"><table id="{element_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _counts(outcomes: list[dict[str, Any]]) -> dict[str, int]:
    critical = sum(not o["success"] and o["severity"] == "critical" for o in outcomes)
    warning = sum(not o["success"] and o["severity"] == "warning" for o in outcomes)
    return {
        "evaluated": len(outcomes),
        "passed": sum(o["success"] for o in outcomes),
        "critical": critical,
        "warning": warning,
    }


def _status_badge(counts: dict[str, int]) -> str:
    if counts["critical"]:
        return _BADGES["fail"]
    return _BADGES["warn"] if counts["warning"] else _BADGES["pass"]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
