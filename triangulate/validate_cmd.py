"""``triangulate validate``: check a user's own file against a named Great Expectations suite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcore.config import ConfigError, load_config


def validate(
    file: Annotated[
        Path | None, typer.Argument(help="A CSV or Parquet file to validate.", show_default=False)
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", help="Suite name (see --list-suites).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the HTML validation report to this folder."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Run configuration YAML (expectations thresholds)."),
    ] = None,
    list_suites: Annotated[
        bool, typer.Option("--list-suites", help="List the suite names and exit.")
    ] = False,
) -> None:
    """Validate FILE against a suite; exit 1 listing the failing expectations on critical failure.

    Checks that need other files of a run (referential integrity, linkage rates) are skipped.
    """
    from expectations import (
        ExpectationsError,
        ValidationFailed,
        suite_names,
        validate_file,
    )

    if list_suites:
        for name in suite_names():
            typer.echo(name)
        return
    if file is None or suite is None:
        typer.secho("Error: give a FILE and --suite NAME (or --list-suites).", err=True)
        raise typer.Exit(code=2)
    try:
        resolved = load_config(config)
        result = validate_file(file, suite, out_dir=out, config=resolved)
    except ValidationFailed as exc:
        typer.secho(f"{file}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    except (ConfigError, ExpectationsError) as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    typer.echo(
        f"{file}: suite {suite} passed ({result['evaluated']} expectations, "
        f"{result['failed_warning']} warnings)."
    )
    for name, counts in result["suites"].items():
        if counts["failed_warning"]:
            typer.echo(f"  {name}: {counts['failed_warning']} warning(s); see the report.")
    if result["report"]:
        typer.echo(f"Report: {result['report']}")
