"""Building the linkage quality report of one run: the stage entry point."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

from common.files import staged_output
from evaluation.target import write_target_comparison
from quality_report import (
    sections_clusters,
    sections_data,
    sections_governance,
    sections_model,
    sections_published,
    sections_quality,
    sections_verdict,
)
from quality_report.artefacts import RunArtefacts
from quality_report.context import TARGETS, ReportContext
from quality_report.document import Section, contents, escape
from quality_report.errors import QualityReportError
from quality_report.redaction import check_redacted
from reporting import page, remote_references, write_page

logger = logging.getLogger(__name__)

CHECKLIST_ITEMS = tuple(range(1, 18))
"""The 17 items of the quality checklist (STUDY.md section 6); every one has a section."""

_STYLE = (
    "<style>.absent{background:#fcebe8;padding:6px 10px}.impact p{font-size:1.05rem}"
    "blockquote{border-left:4px solid #b1b4b6;margin:8px 0;padding:4px 12px}"
    "svg.flow{max-width:100%;height:auto}"
    # Wide tables scroll inside their own box, so the page never scrolls sideways at a
    # laptop's width; long column names may wrap at their underscores.
    ".table-wrap{max-width:100%;overflow-x:auto}.table-wrap th{overflow-wrap:anywhere}"
    "section{max-width:100%;overflow-wrap:anywhere}.chart{max-width:100%;overflow-x:auto}"
    "pre{white-space:pre-wrap}</style>"
)


def _study_months() -> set[str]:
    """First days of the study months, which appear as dates but identify nobody."""
    months = set()
    for year in range(2019, 2022):
        for month in range(1, 13):
            months.add(date(year, month, 1).isoformat())
    return months


def _parameter_dates(run: RunArtefacts) -> set[str]:
    """Dates written in the run configuration (the pandemic step, extract dates): they are
    parameters shown in the report, even when some baby shares one as a birth date."""
    path = run.path("config.yaml")
    if not path.is_file():
        return set()
    return set(re.findall(r"\d{4}-\d{2}-\d{2}", path.read_text(encoding="utf-8")))


def _sections(ctx: ReportContext, out_dir: Path, *, in_run_folder: bool) -> list[Section]:
    return [
        sections_verdict.verdict_section(ctx, in_run_folder=in_run_folder),
        sections_data.flow_section(ctx),
        sections_data.identifiers_section(ctx),
        sections_data.standardisation_section(ctx),
        sections_model.method_section(ctx),
        sections_model.diagnostics_section(ctx, out_dir),
        sections_model.threshold_section(ctx),
        sections_quality.headline_section(ctx),
        sections_quality.operational_section(ctx),
        sections_quality.validation_section(ctx),
        sections_quality.groups_section(ctx),
        sections_published.sensitivity_section(ctx),
        sections_published.bias_section(ctx),
        sections_clusters.explain_section(ctx, out_dir),
        sections_clusters.clusters_section(ctx),
        sections_published.impact_section(ctx),
        sections_governance.governance_section(ctx),
        sections_governance.reproducibility_section(ctx, out_dir),
    ]


def _overview(ctx: ReportContext, sections: list[Section]) -> str:
    absent = sorted({a for s in sections for a in s.absent})
    status = (
        '<p><span class="badge pass">complete</span> Every artefact the report reads was '
        "present.</p>"
        if not absent
        else '<p><span class="badge warn">incomplete</span> Artefacts absent from this run '
        "folder (the sections concerned say what they could not show):</p><ul>"
        + "".join(f"<li><code>{escape(a)}</code></li>" for a in absent)
        + "</ul>"
    )
    return (
        '<section id="overview"><h1>Linkage quality report</h1>'
        f"<p>Run folder <code>{escape(ctx.run.run_dir.name)}</code>. Quality targets set in "
        f"advance: precision at least {TARGETS['precision']:.2%}, recall at least "
        f"{TARGETS['recall']:.2%}. The report follows the linkage quality checklist item by "
        "item (GUILD, RECORD and ONS practice); section numbers are checklist items.</p>"
        f"{status}</section>"
    )


def build_quality_report(
    run_dir: Path, out_dir: Path, *, redact: bool = False, clerical_per_band: int = 25
) -> Path:
    """Write the linkage quality report of a run as offline HTML.

    Parameters
    ----------
    run_dir
        A run folder (``docs/data_contracts.md``). Any artefact may be missing; the
        sections that need it say so.
    out_dir
        Folder to write, usually ``run_dir / "report"``; replaced as a whole. It receives
        ``index.html``, Splink's charts, ``model.json`` and (unless redacted) Splink's
        comparison viewer and cluster studio dashboards.
    redact
        Leave every identifier (names, dates of birth, postcodes, NHS numbers, NINOs) out of
        the report; the result is checked against the run's own identifiers before it is
        written.
    clerical_per_band
        Pairs drawn per match-weight band for the clerical-review sample.

    Returns
    -------
    pathlib.Path
        The report's ``index.html``.

    Raises
    ------
    QualityReportError
        ``run_dir`` is not a run folder, or an artefact is unreadable or breaks its contract.
    RedactionError
        A redacted report would still hold an identifier (nothing is written).
    """
    run = RunArtefacts.open(Path(run_dir))
    # The target-population comparison is an evaluation step of its own, written to the
    # run's evaluation/ folder: it needs the published analysis, which comes after the
    # linkage evaluation stage, so it runs here, before the report reads it.
    write_target_comparison(run.run_dir)
    out_dir = Path(out_dir)
    seed = int(((run.config or {}).get("run") or {}).get("seed", 20110327))
    ctx = ReportContext(run, redact=redact, seed=seed, clerical_per_band=clerical_per_band)
    with staged_output(out_dir) as staging:
        in_run_folder = out_dir.resolve() == run.path("report").resolve()
        sections = _sections(ctx, staging, in_run_folder=in_run_folder)
        covered = {i for s in sections for i in s.checklist}
        if covered != set(CHECKLIST_ITEMS):
            raise QualityReportError(
                f"checklist items without a section: {set(CHECKLIST_ITEMS) - covered}"
            )
        body = (
            _STYLE
            + _overview(ctx, sections)
            + contents(sections)
            + "\n".join(s.render() for s in sections)
        )
        subtitle = f"{run.run_dir.name}" + (" · redacted" if redact else "")
        document = page("Linkage quality report", body, charts=True, subtitle=subtitle)
        write_page(staging / "index.html", document)
        for path in staging.rglob("*.html"):
            found = remote_references(path.read_text(encoding="utf-8"))
            if found:
                raise QualityReportError(f"{path.name} would load from the network: {found[:3]}")
        if redact:
            check_redacted(staging, run, ignore_dates=_study_months() | _parameter_dates(run))
    logger.info("Quality report written to %s", out_dir)
    return out_dir / "index.html"
