"""``triangulate generate``: build the synthetic world of a run and print a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runcore.config import ConfigError, load_config, run_id, write_config


def generate(
    people: Annotated[
        int | None,
        typer.Option(
            "--people", "-n", help="People in the synthetic England (default: run.people)."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", help="Random seed (default: run.seed).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Run configuration YAML (default: built-in defaults)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder holding run folders (default: run.out)."),
    ] = None,
) -> None:
    """Generate the synthetic 2011 Census, GP and DWP extracts and their ground truth.

    Writes <out>/<run id>/config.yaml, sources/*.parquet and truth/*.parquet, then prints the
    people, records per source, seed and where they were written.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from synthetic_data import generate_world

    overrides: dict = {"run": {}}
    if people is not None:
        overrides["run"]["people"] = people
    if seed is not None:
        overrides["run"]["seed"] = seed
    if out is not None:
        overrides["run"]["out"] = str(out)
    try:
        resolved = load_config(config, overrides=overrides)
    except ConfigError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None

    run_dir = Path(resolved.run.out) / run_id(resolved)
    with Progress(
        TextColumn("[bold]Generating[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} blocks"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"{resolved.run.people:,} people", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate_world(
            resolved.world,
            people=resolved.run.people,
            seed=resolved.run.seed,
            out_dir=run_dir,
            progress=advance,
        )
    write_config(resolved, run_dir / "config.yaml")
    typer.echo(
        f"Generated {summary['people']:,} people (seed {summary['seed']}) "
        f"in {summary['seconds']:.1f} s"
    )
    for name, rows in summary["records"].items():
        typer.echo(f"  {name:<20} {rows:>12,} records")
    typer.echo(f"Written to {run_dir}")
