"""Sections 16 and 17: governance (where identifiers are) and reproducibility."""

from __future__ import annotations

import datetime as dt
import platform
import shutil
from importlib import metadata
from pathlib import Path

import polars as pl
import yaml

from quality_report.artefacts import file_sha256
from quality_report.context import MODEL, ReportContext
from quality_report.document import Section, escape, figure, figure_table

IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "forename",
    "middle_names",
    "surname",
    "date_of_birth",
    "postcode",
    "nhs_number",
    "nino",
    "name_key",
    "surname_first",
    "surname_last",
)
"""Columns that identify a person directly."""

PACKAGES: tuple[str, ...] = (
    "triangulate",
    "splink",
    "duckdb",
    "polars",
    "pyarrow",
    "altair",
    "great-expectations",
    "prefect",
)


def identifier_inventory(ctx: ReportContext) -> pl.DataFrame:
    """Every Parquet artefact of the run with the identifier columns it holds."""
    rows = []
    for path in ctx.run.glob("**/*.parquet"):
        relative = path.relative_to(ctx.run.run_dir).as_posix()
        if relative.startswith("report/"):
            continue
        columns = list(pl.read_parquet_schema(path))
        found = [c for c in columns if c in IDENTIFIER_COLUMNS]
        rows.append(
            {
                "artefact": relative,
                "area": relative.split("/")[0],
                "identifier_columns": ", ".join(found) or "none",
                "holds_identifiers": bool(found),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "artefact": pl.Utf8,
            "area": pl.Utf8,
            "identifier_columns": pl.Utf8,
            "holds_identifiers": pl.Boolean,
        },
    )


def _secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in ("key", "secret", "salt") or lowered.endswith(("_key", "_secret", "_salt"))


def governance_section(ctx: ReportContext) -> Section:
    """Checklist item 16: pseudonymisation and the separation of identifiers from analysis."""
    section = Section("governance", "16. Governance: pseudonymisation and separation", (16,))
    inventory = identifier_inventory(ctx)
    analysis = inventory.filter(pl.col("area") == "analysis")
    leaking = analysis.filter(pl.col("holds_identifiers"))
    state = (
        "redacted: it shows no identifier"
        if ctx.redact
        else "not redacted: the clerical-review pairs, waterfall charts and Splink dashboards "
        "show standardised identifiers; build it with --redact before it leaves the secure "
        "environment"
    )
    section.add(
        "<p>Identifiers (names, dates of birth, postcodes, NHS numbers, NINOs) belong in the "
        "source extracts and the linkage stage only; the analysis should receive a person "
        "id and attributes. The inventory below is read from the run folder's files.</p>",
        "<ul>"
        f"<li>Analysis artefacts checked: {figure('governance/analysis_files', analysis.height)}; "
        "holding identifier columns: "
        f"{figure('governance/analysis_with_identifiers', leaking.height)}</li>"
        f"<li>This report is {state}.</li>"
        "</ul>",
    )
    if ctx.spine is not None:
        sample = ctx.spine.get_column("person_id").head(1).to_list()
        keyed = (
            bool(sample)
            and len(sample[0]) == 64
            and all(c in "0123456789abcdef" for c in sample[0])
        )
        section.add(
            "<p>Spine person ids are "
            + (
                "64-hex keyed hashes (HMAC-SHA256)."
                if keyed
                else "sequential cluster labels, not derived from any identifier; they carry no "
                "information about the person but are not keyed hashes."
            )
            + "</p>"
        )
    pseudo = (ctx.run.config or {}).get("pseudonymisation")
    if isinstance(pseudo, dict):
        # Only the names of the settings and where the key is kept; a key itself never
        # belongs in a configuration file, but the report would not repeat one if it did.
        shown = {k: v for k, v in pseudo.items() if not _secret(k)}
        section.add(
            "<p>Pseudonymisation settings of the run (key values are never read or shown):</p>"
            f"<pre>{escape(yaml.safe_dump(shown, sort_keys=True))}</pre>"
        )
    else:
        section.add(
            '<p class="note">The run configuration has no <code>pseudonymisation</code> '
            "section: keyed hashing and key custody are not recorded for this run.</p>"
        )
    section.add(figure_table(inventory, key="governance/inventory", row_key=["artefact"]))
    return section


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def reproducibility_section(ctx: ReportContext, out_dir: Path) -> Section:
    """Checklist item 17: versions, the saved model, seeds, input hashes, run date."""
    section = Section("reproducibility", "17. Reproducibility", (17,))
    versions = pl.DataFrame(
        [{"software": "python", "version": platform.python_version()}]
        + [{"software": p, "version": _version(p)} for p in PACKAGES]
    )
    section.add("<h3>Software</h3>", figure_table(versions, key="versions", row_key=["software"]))
    config = ctx.run.config or {}
    seeds = [{"seed": "run.seed", "value": (config.get("run") or {}).get("seed")}]
    linkage_config = (ctx.summary or {}).get("config", {})
    seeds.append({"seed": "linkage.seed", "value": linkage_config.get("seed")})
    seeds.append({"seed": "report clerical sample", "value": ctx.seed})
    section.add(
        "<h3>Seeds</h3>",
        figure_table(
            pl.DataFrame(seeds, schema={"seed": pl.Utf8, "value": pl.Int64}),
            key="seeds",
            row_key=["seed"],
        ),
    )
    model_path = ctx.run.path(MODEL)
    if model_path.is_file():
        shutil.copyfile(model_path, out_dir / "model.json")
        section.add(
            f'<p>The saved Splink model: <a href="model.json">model.json</a> '
            f"(SHA-256 <code>{file_sha256(model_path)}</code>), loadable to link a new run "
            "without retraining.</p>"
        )
    else:
        section.missing("linkage/model.json", "the trained model is not in the run folder.")
    hashes = ctx.run.input_hashes()
    section.add(
        "<h3>Input hashes</h3>",
        figure_table(
            pl.DataFrame(hashes, schema={"file": pl.Utf8, "bytes": pl.Int64, "sha256": pl.Utf8}),
            key="hashes",
            row_key=["file"],
            max_rows=1000,
        ),
    )
    sources = ctx.run.glob("sources/*.parquet")
    if sources:
        when = dt.datetime.fromtimestamp(min(p.stat().st_mtime for p in sources), tz=dt.UTC)
        section.add(f"<p>Run date (sources written): {when:%Y-%m-%d %H:%M} UTC.</p>")
    if config:
        section.add(
            "<details><summary>Resolved run configuration</summary><pre>"
            + escape(yaml.safe_dump(config, sort_keys=False))
            + "</pre></details>"
        )
    else:
        section.missing("config.yaml", "the resolved run configuration is absent.")
    return section
