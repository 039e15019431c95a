"""A tiny run, linked once per session with real DuckDB and Splink, and its reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from figures import parse  # noqa: E402
from tiny_world import write_tiny_world  # noqa: E402

from linkage import LinkageConfig, evaluate_linkage, link_sources  # noqa: E402
from quality_report import build_quality_report  # noqa: E402


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    run = write_tiny_world(tmp_path_factory.mktemp("run") / "tiny", people=400, seed=5)
    link_sources(run / "sources", run / "linkage", LinkageConfig(u_max_pairs=1e5, seed=3))
    evaluate_linkage(run / "linkage", run / "truth")
    return run


@pytest.fixture(scope="session")
def report(tiny_run):
    index = build_quality_report(tiny_run, tiny_run / "report")
    return index, parse(index.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def redacted(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("redacted") / "report"
    index = build_quality_report(tiny_run, out, redact=True)
    return index, parse(index.read_text(encoding="utf-8"))
