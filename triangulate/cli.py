"""The ``triangulate`` command line: one subcommand per pipeline stage, plus ``run``."""

from __future__ import annotations

import typer

from triangulate.config import ConfigError
from triangulate.generate_cmd import generate
from triangulate.validate_cmd import validate

app = typer.Typer(
    help="Link synthetic 2011 Census, GP and DWP records and publish the study's tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str) -> None:
    """Print a user-facing error and exit non-zero, without a traceback."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command("check-config")
def check_config(
    config: str = typer.Argument(..., help="Path to a run configuration YAML."),
) -> None:
    """Validate a run configuration file and print the resolved settings."""
    import yaml

    from triangulate.config import load_config

    try:
        resolved = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(yaml.safe_dump(resolved.model_dump(mode="json"), sort_keys=False))


app.command("generate")(generate)
app.command("validate")(validate)


def main() -> None:
    """Entry point for the console script."""
    app()
