"""The run manifest: what a run was made from, so a reader can reproduce or audit it.

``<run>/manifest.json`` records the versions of the packages that shape the results, the
resolved configuration, every seed, a SHA-256 digest of each source extract and of the
trained Splink model, and when the run was made. Two runs with equal manifests (apart from
the date) should publish identical tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from common.files import write_json
from runcore.config import RunConfig

MANIFEST_NAME = "manifest.json"

PACKAGES: tuple[str, ...] = ("splink", "duckdb", "polars", "great-expectations", "prefect")
"""Distributions whose version can change a run's results."""

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The SHA-256 digest of a file's bytes, read in chunks (extracts can be large)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Python's version and the installed version of each package in :data:`PACKAGES`."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def collect_seeds(values: Any, prefix: str = "") -> dict[str, int]:
    """Every configuration key named like ``seed``, by its dotted path."""
    seeds: dict[str, int] = {}
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if "seed" in str(key).lower() and isinstance(value, int):
                seeds[path] = value
            else:
                seeds.update(collect_seeds(value, path))
    return seeds


def input_digests(run_dir: Path) -> dict[str, str]:
    """SHA-256 of every file under ``sources/`` and of ``linkage/model.json``, by relative path."""
    run_dir = Path(run_dir)
    files = sorted(p for p in (run_dir / "sources").rglob("*") if p.is_file())
    model = run_dir / "linkage" / "model.json"
    if model.is_file():
        files.append(model)
    return {p.relative_to(run_dir).as_posix(): sha256_file(p) for p in files}


def build_manifest(run_dir: Path, config: RunConfig) -> dict[str, Any]:
    """The manifest of a run folder as a JSON-serialisable dict."""
    resolved = config.model_dump(mode="json")
    return {
        "run_id": Path(run_dir).name,
        "run_date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "configuration": resolved,
        "seeds": collect_seeds(resolved),
        "inputs_sha256": input_digests(run_dir),
    }


def write_manifest(run_dir: Path, config: RunConfig) -> Path:
    """Write ``<run_dir>/manifest.json`` atomically and return its path.

    Parameters
    ----------
    run_dir
        The run folder (its working copy, before publication).
    config
        The run's resolved configuration.
    """
    path = Path(run_dir) / MANIFEST_NAME
    return write_json(path, build_manifest(run_dir, config), indent=2, sort_keys=True)
