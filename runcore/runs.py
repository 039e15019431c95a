"""Run folders: where a run writes, how a finished stage is recognised, and publication.

A run works in ``<out>/.partial/<run_id>/`` and is moved to ``<out>/<run_id>/`` only when
every stage has finished, so a reader never mistakes a half-finished run for a result.
Each finished stage leaves a marker holding a fingerprint of its inputs; a rerun of the
same configuration skips the stages whose marker matches, which is how an interrupted run
resumes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.files import write_json
from runcore.config import RunConfig, run_id, write_config
from runcore.manifest import sha256_file
from runcore.run_lock import acquire_run_lock, holds_run_lock, release_run_lock

MARKER_DIR = ".stages"
MARKER_VERSION = 2
"""Version 2 markers list the stage's outputs; older markers are not trusted."""

STAGE_ORDER: tuple[str, ...] = (
    "generate",
    "validate-sources",
    "link",
    "evaluate-linkage",
    "validate-linkage",
    "separate",
    "analyse",
    "validate-outputs",
    "report",
)
"""The pipeline's stages in order: redoing one redoes the stages after it."""

UNTRACKED = frozenset({"config.yaml", "manifest.json"})
"""Files of the run folder that no stage writes."""

ANALYSIS_INPUTS = "analysis_inputs"
"""The folder of pseudonymised inputs the separation stage writes, in the layout of a run
folder: the only folder the analysis reads."""


@dataclass(frozen=True)
class RunFolder:
    """The folders of one run, while it works and once published: the one place that knows
    where a run keeps each of its folders and the files that stages hand to each other."""

    run_id: str
    work: Path
    published: Path

    @classmethod
    def from_work(cls, work: Path) -> RunFolder:
        """The run folder whose working copy is ``work`` (``<out>/.partial/<run_id>``)."""
        return cls(work.name, work, work.parent.parent / work.name)

    @classmethod
    def in_place(cls, folder: Path) -> RunFolder:
        """A run folder read and written where it is: a published run given to ``triangulate
        analyse``, or a benchmark's folder."""
        folder = Path(folder)
        return cls(folder.name, folder, folder)

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

    @property
    def spine(self) -> Path:
        """The linkage's person spine."""
        return self.linkage / "spine.parquet"

    @property
    def record_map(self) -> Path:
        """The synthetic truth's spine: each record's true person."""
        return self.truth / "record_map.parquet"

    @property
    def analysis_inputs(self) -> Path:
        """The pseudonymised inputs of the analysis (see :data:`ANALYSIS_INPUTS`)."""
        return self.work / ANALYSIS_INPUTS

    def threshold_spine(self, threshold: float) -> Path:
        """The pseudonymised spine re-clustered at another match ``threshold``, among the
        analysis inputs (only they hold such spines)."""
        return self.analysis_inputs / "spines" / f"threshold_{threshold:g}.parquet"

    def threshold_spines(self, thresholds: Iterable[float]) -> dict[float, Path]:
        """:meth:`threshold_spine` of each threshold, keyed by it."""
        return {float(t): self.threshold_spine(t) for t in thresholds}


def prepare_run_folder(
    config: RunConfig, *, wait: bool = False, notify: Callable[[str], None] | None = None
) -> RunFolder:
    """Lock the run, then create (or reopen, to resume) its working folder and configuration.

    Only one process works on a run at a time (:func:`acquire_run_lock`): a second one
    stops at once naming the first, or with ``wait`` queues behind it. A run already
    published with this configuration is reopened for resumption by moving it back to the
    working area, so its finished stages are not redone. The caller releases the lock with
    :func:`release_run_lock` (the kernel does if the process dies).
    """
    identifier = run_id(config)
    out = Path(config.run.out)
    folder = RunFolder(identifier, out / ".partial" / identifier, out / identifier)
    with storage_guard(out, config.run.people):
        acquire_run_lock(out, identifier, wait=wait, notify=notify)
        try:
            if folder.published.exists() and not folder.work.exists():
                os.replace(folder.published, folder.work)
            folder.work.mkdir(parents=True, exist_ok=True)
            write_config(config, folder.work / "config.yaml")
        except BaseException:
            release_run_lock(out, identifier)
            raise
    return folder


def release_run(work: Path) -> None:
    """Release this process's lock on the run whose working folder is ``work``."""
    folder = RunFolder.from_work(Path(work))
    release_run_lock(folder.published.parent, folder.run_id)


def lock_location(run_dir: Path) -> tuple[Path, str]:
    """The ``out`` folder and run id whose lock guards ``run_dir``: a working folder
    (``<out>/.partial/<run_id>``) and its published copy (``<out>/<run_id>``) share one."""
    run_dir = Path(run_dir).resolve()
    if run_dir.parent.name == ".partial":
        return run_dir.parent.parent, run_dir.name
    return run_dir.parent, run_dir.name


@contextmanager
def run_folder_locked(
    run_dir: Path, *, wait: bool = False, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the run's lock while one stage works on ``run_dir`` on its own (a stage
    deployment run from the UI), so it never meets a whole-pipeline run of the same folder.

    Within the pipeline, whose process already holds the lock, this does nothing.
    """
    out, identifier = lock_location(run_dir)
    if holds_run_lock(out, identifier):
        yield
        return
    acquire_run_lock(out, identifier, wait=wait, notify=notify)
    try:
        yield
    finally:
        release_run_lock(out, identifier)


BYTES_PER_PERSON = 5_000
FIXED_BYTES = 40_000_000
"""A run folder of 2,000 people measured 20.8 MB (7.7 MB of it the report and 7.8 MB the
analysis, nearly fixed); sources, truth, linkage and analysis inputs grow with the people
at about 2.5 kB each. The estimate doubles both, for DuckDB's spill files and staging
copies that exist while a stage works."""

_STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission to write is denied",
    errno.EPERM: "permission to write is denied",
}
# DuckDB and polars report these as their own exceptions, with the C library's text.
_STORAGE_TEXTS = {
    "No space left on device": "no space left on the device",
    "Disk quota exceeded": "the disk quota is exhausted",
    "Read-only file system": "the file system is read-only",
}


class OutputStorageError(RuntimeError):
    """The run's folder cannot take its outputs: full, over quota, read-only or not ours.

    Not an ``OSError``, so the stages' retries on transient I/O errors do not repeat it.
    """


def estimated_run_bytes(people: int) -> int:
    """A generous estimate of the space a run of ``people`` needs while it works."""
    return FIXED_BYTES + BYTES_PER_PERSON * int(people)


def storage_problem(exc: BaseException) -> str | None:
    """What is wrong with the storage, if ``exc`` (or its cause) is a storage failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _STORAGE_ERRNOS:
            return _STORAGE_ERRNOS[seen.errno]
        for text, problem in _STORAGE_TEXTS.items():
            if text in str(seen):
                return problem
        seen = seen.__cause__ or seen.__context__
    return None


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.0f} MB"


def storage_message(folder: Path, people: int, problem: str) -> str:
    """The user's message: the folder, what is wrong, the space needed and free."""
    try:
        free = f"{_megabytes(shutil.disk_usage(folder).free)} free now"
    except OSError:
        free = "free space unknown"
    return (
        f"cannot write the run's outputs in {folder}: {problem}. A run of {people:,} people "
        f"needs about {_megabytes(estimated_run_bytes(people))} there ({free}). Free some "
        "space (or make the folder writable) and rerun the same command: the finished stages "
        "are kept and the run resumes; nothing was published."
    )


@contextmanager
def storage_guard(folder: Path, people: int) -> Iterator[None]:
    """Turn a full-disk or read-only failure into :class:`OutputStorageError` naming ``folder``."""
    try:
        yield
    except OutputStorageError:
        raise
    except Exception as exc:
        problem = storage_problem(exc)
        if problem is None:
            raise
        raise OutputStorageError(storage_message(Path(folder), people, problem)) from exc


def fingerprint(*parts: Any) -> str:
    """A stable digest of JSON-serialisable values (configuration sections, upstream results)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _marker(work: Path, stage: str) -> Path:
    return work / MARKER_DIR / f"{stage}.json"


def _read_marker(work: Path, stage: str) -> dict[str, Any] | None:
    path = _marker(work, stage)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # an unreadable marker proves nothing: the stage is redone


def _tracked(work: Path, path: Path) -> bool:
    # Staging entries (dot-prefixed), markers, locks and the per-run files written outside
    # any stage are not a stage's outputs.
    relative = path.relative_to(work)
    return not any(part.startswith(".") for part in relative.parts) and (
        relative.as_posix() not in UNTRACKED
    )


def snapshot(work: Path) -> dict[str, tuple[int, int, int]]:
    """Size, modification time and inode of every tracked file, by relative path."""
    files: dict[str, tuple[int, int, int]] = {}
    for path in work.rglob("*"):
        if path.is_file() and _tracked(work, path):
            stat = path.stat()
            files[path.relative_to(work).as_posix()] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return files


def row_count(path: Path) -> int | None:
    """Rows of a Parquet (from its footer) or CSV file; ``None`` for other files."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if path.suffix == ".csv":
        with path.open("rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    return None


def describe_outputs(work: Path, paths: list[str]) -> list[dict[str, Any]]:
    """Path, size, SHA-256 and row count of each output file of a stage."""
    return [
        {
            "path": rel,
            "bytes": (work / rel).stat().st_size,
            "sha256": sha256_file(work / rel),
            "rows": row_count(work / rel),
        }
        for rel in sorted(paths)
    ]


def stage_outputs(before: dict, after: dict) -> list[str]:
    """The files a stage wrote: new, or changed since the snapshot taken before it."""
    return [rel for rel, state in after.items() if before.get(rel) != state]


def output_problem(work: Path, output: dict[str, Any]) -> str | None:
    """Why a recorded output can no longer be trusted, or ``None`` if it is intact."""
    path = work / output["path"]
    if not path.is_file():
        return f"{output['path']} is missing"
    try:
        size = path.stat().st_size
        if size != output["bytes"]:
            return f"{output['path']} changed size ({output['bytes']} bytes recorded, {size} now)"
        if sha256_file(path) != output["sha256"]:
            return f"{output['path']} changed content (its SHA-256 differs from the record)"
    except OSError as exc:
        return f"{output['path']} is unreadable ({exc.strerror or exc})"
    return None


def stale_reason(work: Path, stage: str, key: str) -> str | None:
    """Why a stage must be (re)done, or ``None`` if its marker and outputs are intact."""
    marker = _read_marker(work, stage)
    if marker is None:
        return "it has not finished yet"
    if marker.get("key") != key:
        return "its inputs or settings changed"
    if marker.get("version") != MARKER_VERSION:
        return "its record does not list its outputs (an older run folder)"
    for output in marker["outputs"]:
        problem = output_problem(work, output)
        if problem is not None:
            return problem
    return None


def finished_stage(work: Path, stage: str, key: str) -> dict[str, Any] | None:
    """The saved summary of a stage finished with the same inputs and intact outputs."""
    if stale_reason(work, stage, key) is not None:
        return None
    return (_read_marker(work, stage) or {}).get("summary")


def mark_stage_finished(
    work: Path, stage: str, key: str, summary: dict[str, Any], outputs: list[str] | None = None
) -> None:
    """Record that a stage finished, atomically: its summary and a description of its outputs."""
    path = _marker(work, stage)
    record = {
        "version": MARKER_VERSION,
        "key": key,
        "summary": summary,
        "outputs": describe_outputs(work, outputs or []),
    }
    write_json(path, record, indent=None)
    _hand_over(work, stage, {output["path"] for output in record["outputs"]})


def _hand_over(work: Path, stage: str, paths: set[str]) -> None:
    """A file a later stage rewrote (the validation index every gate updates) now belongs to
    that stage: drop it from earlier stages' records, so that whether or not the later
    stage's record survives, the earlier stages are not redone for a change they did not
    make."""
    if stage not in STAGE_ORDER:
        return
    for earlier in STAGE_ORDER[: STAGE_ORDER.index(stage)]:
        record = _read_marker(work, earlier)
        if not record or not paths & {o["path"] for o in record.get("outputs", [])}:
            continue
        record["outputs"] = [o for o in record["outputs"] if o["path"] not in paths]
        write_json(_marker(work, earlier), record, indent=None)


def forget_later_stages(work: Path, stage: str) -> list[str]:
    """Remove the markers of the stages after ``stage``, so a redone stage's downstream reruns."""
    if stage not in STAGE_ORDER:
        return []
    forgotten = []
    for name in STAGE_ORDER[STAGE_ORDER.index(stage) + 1 :]:
        if _marker(work, name).exists():
            _marker(work, name).unlink()
            forgotten.append(name)
    return forgotten


def publish_run(folder: RunFolder) -> Path:
    """Move a finished run into place, replacing an older copy of the same run."""
    if folder.published.exists():
        shutil.rmtree(folder.published)
    os.replace(folder.work, folder.published)
    point_latest_at(folder.published)
    return folder.published


def point_latest_at(published: Path) -> None:
    """Point ``latest`` at a published run in one rename: a reader never finds it missing."""
    latest = published.parent / "latest"
    staged = published.parent / f".latest.{os.getpid()}"
    if staged.is_symlink() or staged.exists():
        staged.unlink()
    staged.symlink_to(published.name)
    os.replace(staged, latest)


def run_once(
    work: Path,
    stage: str,
    key: str,
    action: Callable[[], dict[str, Any]],
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Run a stage unless it already finished with the same inputs and intact outputs.

    A stage that is (re)done forgets the stages after it, which then rerun too. ``log`` is
    told why a stage that had a marker is redone (which file failed and why). Returns the
    stage's summary and whether it was resumed from an earlier run.
    """
    reason = stale_reason(work, stage, key)
    if reason is None:
        return (_read_marker(work, stage) or {})["summary"], True
    if log is not None and _marker(work, stage).exists():
        log(f"Stage {stage} is redone, with the stages after it: {reason}.")
    forget_later_stages(work, stage)
    before = snapshot(work)
    summary = action()
    mark_stage_finished(work, stage, key, summary, stage_outputs(before, snapshot(work)))
    return summary, False
