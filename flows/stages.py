"""One Prefect flow per stage. Each takes the run folder's path, so any stage can be rerun
on an existing run from the UI or the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows import tasks


@flow(name="generate", description="Generate the synthetic England and the three extracts.")
def generate_stage(run_dir: str) -> dict[str, Any]:
    return tasks.generate(Path(run_dir))


STAGE_FLOWS = [generate_stage]
