"""A small world linked once per test session (real DuckDB and Splink)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from small_world import write_small_world  # noqa: E402

from linkage import LinkageConfig, evaluate_linkage, link_sources  # noqa: E402


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    return write_small_world(tmp_path_factory.mktemp("world"), people=2500, seed=11, rate=0.04)


@pytest.fixture(scope="session")
def linked_world(small_world) -> tuple[Path, dict, dict]:
    config = LinkageConfig(u_max_pairs=1e6, seed=3)
    summary = link_sources(small_world / "sources", small_world / "linkage", config)
    evaluation = evaluate_linkage(small_world / "linkage", small_world / "truth")
    return small_world, summary, evaluation
