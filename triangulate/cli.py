"""The ``triangulate`` command line: one subcommand per pipeline stage, plus ``run``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from runcore.config import ConfigError
from triangulate.generate_cmd import generate
from triangulate.validate_cmd import validate

app = typer.Typer(
    help="Link synthetic 2011 Census, GP and DWP records and publish the study's tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def pipeline_errors() -> tuple[type[Exception], ...]:
    """Errors that stop a run for a reason the user can act on (they carry the file, column
    and rule); anything else is a bug and keeps its traceback."""
    from analysis import AnalysisInputError
    from expectations import ExpectationsError
    from linkage import BackendUnavailableError, ConvergenceError, LinkageInputError
    from quality_report import QualityReportError
    from runcore.run_lock import RunLockedError
    from runcore.runs import OutputStorageError
    from separation.stage import SeparationError

    return (
        ConfigError,
        ExpectationsError,
        LinkageInputError,
        ConvergenceError,
        BackendUnavailableError,
        AnalysisInputError,
        QualityReportError,
        SeparationError,
        RunLockedError,
        OutputStorageError,
    )


def fail(message: str, details: Path | None = None) -> None:
    """Print a user-facing error and exit non-zero, without a traceback (``details``: a log
    file holding it)."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    if details is not None:
        typer.echo(f"The run's log, with the details: {details}", err=True)
    raise typer.Exit(code=2)


@app.command("check-config")
def check_config(
    config: str = typer.Argument(..., help="Path to a run configuration YAML."),
) -> None:
    """Validate a run configuration file and print the resolved settings."""
    import yaml

    from runcore.config import load_config

    try:
        resolved = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(yaml.safe_dump(resolved.model_dump(mode="json"), sort_keys=False))


app.command("generate")(generate)
app.command("validate")(validate)


@app.command("link")
def link(
    inputs: Annotated[
        list[str],
        typer.Option("--input", help="NAME=PATH of a CSV or Parquet file; give two or more."),
    ],
    mapping: Annotated[str, typer.Option(help="YAML naming each input's columns.")],
    out: Annotated[str, typer.Option(help="Folder for the spine and linkage artefacts.")],
    truth_column: Annotated[
        str | None, typer.Option(help="Column holding the true person id, to score links.")
    ] = None,
    config: Annotated[
        str | None, typer.Option(help="Run configuration YAML (its linkage section).")
    ] = None,
) -> None:
    """Link two or more files the project did not generate into one person spine."""
    from evaluation.linkage import link_and_evaluate_files
    from linkage import LinkageInputError, link_files
    from runcore.config import load_config

    named: dict[str, Path] = {}
    for item in inputs:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            fail(f"--input must look like NAME=PATH, got '{item}'")
        if name in named:
            fail(f"input name '{name}' given twice")
        named[name] = Path(path)
    try:
        settings = load_config(config).linkage
        if truth_column:
            summary = link_and_evaluate_files(
                named, Path(mapping), Path(out), truth_column=truth_column, config=settings
            )
        else:
            summary = link_files(named, Path(mapping), Path(out), config=settings)
    except (ConfigError, LinkageInputError) as exc:
        fail(str(exc))
    typer.echo(
        f"Linked {summary['records']} records into {summary['clusters']} people "
        f"at threshold {summary['threshold']} ({summary['threshold_rule']}); spine written to "
        f"{Path(out) / 'spine.parquet'}"
    )
    for repair in summary.get("repairs", []):
        typer.echo(
            f"  repaired: input '{repair['input']}', column '{repair['column']}': "
            f"{repair['invalid']} of {repair['recorded']} values are not {repair['rule']}; "
            "made missing"
        )
    for warning in summary.get("warnings", []):
        typer.echo(f"  warning: {warning}")
    for pair, scores in summary.get("evaluation", {}).get("pairwise", {}).items():
        typer.echo(
            f"  {pair}: precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
            f"F1 {scores['f1']:.4f}"
        )


@app.command("analyse")
def analyse(
    run_dir: Annotated[
        str, typer.Argument(help="A linked run folder (sources/, linkage/spine.parquet).")
    ],
    config: Annotated[
        str | None,
        typer.Option(help="Run configuration YAML; default: the run's config.yaml, else defaults."),
    ] = None,
    out: Annotated[
        str | None, typer.Option(help="Output folder; default: RUN_DIR/analysis.")
    ] = None,
    spine_at: Annotated[
        list[str] | None,
        typer.Option(
            "--spine-at",
            help="THRESHOLD=PATH of a spine re-clustered at a match threshold (repeatable). "
            "Without it, the configured thresholds are re-clustered from the run's saved "
            "predictions when linkage/predictions.parquet exists.",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Synthetic data only: without TRIANGULATE_LINKAGE_KEY(_FILE), pseudonymise "
            "with the published demo key (with a warning).",
        ),
    ] = False,
) -> None:
    """Publish the study's tables for an existing linked run.

    As in the pipeline, identifiers are first separated from attributes into
    RUN_DIR/analysis_inputs/ (reused when it is current), and the analysis reads only that.
    """
    from analysis import AnalysisInputError, analyse_run
    from linkage import BackendUnavailableError
    from runcore.config import load_config
    from runcore.runs import RunFolder
    from separation.stage import MissingKeyError, SeparationError, separate_linked_run

    run = Path(run_dir)
    if not run.is_dir():
        fail(f"{run}: no such run folder")
    config_path = Path(config) if config else run / "config.yaml"
    try:
        resolved = load_config(config_path if config_path.is_file() else None)
    except ConfigError as exc:
        fail(str(exc))
    spines: dict[float, Path] = {}
    for item in spine_at or []:
        threshold, _, path = item.partition("=")
        try:
            spines[float(threshold)] = Path(path)
        except ValueError:
            fail(f"--spine-at {item!r}: expected THRESHOLD=PATH, e.g. 0.9=spine_090.parquet")
    try:
        separated = separate_linked_run(
            RunFolder.in_place(run),
            resolved.analysis.thresholds,
            demo=demo,
            spine_files=spines,
            reuse=True,
            linkage=resolved.linkage,
        )
        summary = analyse_run(
            Path(separated["folder"]),
            Path(out) if out else run / "analysis",
            resolved.analysis,
            threshold_spines={t: Path(p) for t, p in separated["threshold_spines"].items()},
            linkage=resolved.linkage,
        )
    except MissingKeyError as exc:
        fail(f"{exc}; for synthetic data, pass --demo")
    except (SeparationError, AnalysisInputError, BackendUnavailableError) as exc:
        fail(str(exc))
    verb = "Reused the current" if separated["reused"] else "Wrote"
    typer.echo(f"{verb} pseudonymised analysis inputs in {separated['folder']}")
    typer.echo(f"Wrote {len(summary['tables'])} tables to {summary['out_dir']}")
    for point in summary["main_points"]:
        typer.echo(f"- {point}")


@app.command("report")
def report(
    run_dir: Annotated[str, typer.Argument(help="A run folder (see docs/data_contracts.md).")],
    redact: Annotated[
        bool, typer.Option("--redact", help="Leave every identifier out of the report.")
    ] = False,
) -> None:
    """Write the linkage quality report of an existing run to RUN_DIR/report/index.html."""
    from quality_report import QualityReportError, RedactionError, build_quality_report

    try:
        index = build_quality_report(Path(run_dir), Path(run_dir) / "report", redact=redact)
    except (QualityReportError, RedactionError) as exc:
        fail(str(exc))
    typer.echo(f"Quality report written to {index}" + (" (redacted)" if redact else ""))


# Prefect's local mode starts a temporary server; on a busy two-core machine it can need
# more than the default 20 s. Values the user has set are kept.
# A flow run's heartbeat must come more often than the served "crashed runs" automation's
# silence (flows/deployments.py), or a healthy run sent to the `make ui` server would be
# marked crashed: Prefect's own default is 180 s.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
}


def main() -> None:
    """Entry point for the console script."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    app()


@app.command("run")
def run(
    people: int | None = typer.Option(None, help="People in the synthetic England."),
    seed: int | None = typer.Option(None, help="Seed for every random draw."),
    config: str | None = typer.Option(None, help="Run configuration YAML (default: embedded)."),
    out: str | None = typer.Option(None, help="Folder that holds the run folders."),
    threshold: float | None = typer.Option(None, help="Match probability threshold for links."),
    backend: str | None = typer.Option(None, help="Linkage backend: duckdb or spark."),
    wait: bool = typer.Option(
        False,
        "--wait",
        help="If the same run is already running, wait for it instead of stopping at once.",
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help="Show the traceback of every error on the console (also TRIANGULATE_DEBUG=1). "
        "Without it, a run stopped for a reason you can act on prints its message only; the "
        "traceback is in the run's log file.",
    ),
) -> None:
    """Run the whole pipeline as a Prefect flow: generate, validate, link, analyse, report.

    One process works on a run folder at a time: a second run of the same configuration
    stops naming the first (pid, host, start time), or with --wait queues behind it.
    """
    from runcore.config import config_from_parameters, run_id

    try:  # fail on a bad configuration before Prefect starts
        resolved = config_from_parameters(
            config, people=people, seed=seed, out=out, threshold=threshold, backend=backend
        )
    except ConfigError as exc:
        fail(str(exc))
    from flows import triangulate_pipeline
    from triangulate import run_log

    if not run_log.debug_requested(debug):
        run_log.quiet_user_tracebacks(pipeline_errors())
    log_file = run_log.open_run_log(run_id(resolved))
    try:
        result = triangulate_pipeline(
            people=people,
            seed=seed,
            config_path=config,
            threshold=threshold,
            backend=backend,
            out=out,
            wait=wait,
        )
    except pipeline_errors() as exc:
        # Prefect has logged the traceback to the run's log and to the log file.
        fail(f"the run stopped: {exc}", details=run_log.close_run_log(log_file))
    finally:
        run_log.close_run_log(log_file)
    _print_finished_run(result)


def _print_finished_run(result: dict) -> None:
    from runcore.summaries import run_report_links

    run_dir = Path(result["run_dir"])
    typer.echo(f"\nRun finished. Outputs: {run_dir}")
    for description, path in run_report_links(run_dir).values():
        typer.echo(f"  {description}: {path}")
    for point in result["stages"]["analyse"].get("main_points", []):
        typer.echo(f"  - {point}")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address the Prefect server listens on."),
    port: int = typer.Option(4200, help="Port of the Prefect server and UI."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a host other than loopback (the UI shows run logs)."
    ),
    api_url: str | None = typer.Option(
        None, help="Serve against an already running server at this API URL instead."
    ),
    home: str = typer.Option(".prefect", help="PREFECT_HOME for the server's database."),
) -> None:
    """Start a Prefect server and serve the deployments (nightly pipeline and each stage)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from triangulate.server import ServerError, start_server

    server = None
    if api_url is None:
        try:
            server = start_server(
                host=host, port=port, home=Path(home).resolve(), allow_remote=allow_remote
            )
        except ServerError as exc:
            fail(str(exc))
        api_url = server.api_url
        typer.echo(f"Prefect UI: http://{host}:{port}  (server log: {server.log_path})")
    from flows.deployments import serve_deployments

    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            serve_deployments()
    finally:
        if server is not None:
            server.stop()
