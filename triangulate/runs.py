"""Run folders: where a run writes, how a finished stage is recognised, and publication.

A run works in ``<out>/.partial/<run_id>/`` and is moved to ``<out>/<run_id>/`` only when
every stage has finished, so a reader never mistakes a half-finished run for a result.
Each finished stage leaves a marker holding a fingerprint of its inputs; a rerun of the
same configuration skips the stages whose marker matches, which is how an interrupted run
resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triangulate.config import RunConfig, run_id, write_config

MARKER_DIR = ".stages"


@dataclass(frozen=True)
class RunFolder:
    """The folders of one run, while it works and once published."""

    run_id: str
    work: Path
    published: Path

    @classmethod
    def from_work(cls, work: Path) -> RunFolder:
        """The run folder whose working copy is ``work`` (``<out>/.partial/<run_id>``)."""
        return cls(work.name, work, work.parent.parent / work.name)

    @property
    def sources(self) -> Path:
        return self.work / "sources"

    @property
    def truth(self) -> Path:
        return self.work / "truth"

    @property
    def linkage(self) -> Path:
        return self.work / "linkage"

    @property
    def validation(self) -> Path:
        return self.work / "validation"

    @property
    def analysis(self) -> Path:
        return self.work / "analysis"

    @property
    def report(self) -> Path:
        return self.work / "report"


def prepare_run_folder(config: RunConfig) -> RunFolder:
    """Create (or reopen, to resume) the working folder of a run and write its configuration.

    A run already published with this configuration is reopened for resumption by moving it
    back to the working area, so its finished stages are not redone.
    """
    identifier = run_id(config)
    out = Path(config.run.out)
    folder = RunFolder(identifier, out / ".partial" / identifier, out / identifier)
    if folder.published.exists() and not folder.work.exists():
        folder.work.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder.published, folder.work)
    folder.work.mkdir(parents=True, exist_ok=True)
    write_config(config, folder.work / "config.yaml")
    return folder


def fingerprint(*parts: Any) -> str:
    """A stable digest of JSON-serialisable values (configuration sections, upstream results)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _marker(work: Path, stage: str) -> Path:
    return work / MARKER_DIR / f"{stage}.json"


def finished_stage(work: Path, stage: str, key: str) -> dict[str, Any] | None:
    """The saved summary of a stage finished with the same inputs, or ``None``."""
    path = _marker(work, stage)
    if not path.exists():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    return saved["summary"] if saved.get("key") == key else None


def mark_stage_finished(work: Path, stage: str, key: str, summary: dict[str, Any]) -> None:
    """Record that a stage finished, atomically, with the summary it returned."""
    path = _marker(work, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "summary": summary}, default=str), encoding="utf-8")
    os.replace(tmp, path)


def publish_run(folder: RunFolder) -> Path:
    """Move a finished run into place, replacing an older copy of the same run."""
    if folder.published.exists():
        shutil.rmtree(folder.published)
    os.replace(folder.work, folder.published)
    latest = folder.published.parent / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(folder.published.name)
    return folder.published


def run_once(
    work: Path, stage: str, key: str, action: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Run a stage unless it already finished with the same inputs.

    Returns the stage's summary and whether it was resumed from an earlier run.
    """
    saved = finished_stage(work, stage, key)
    if saved is not None:
        return saved, True
    summary = action()
    mark_stage_finished(work, stage, key, summary)
    return summary, False
