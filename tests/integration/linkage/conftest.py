"""A small world linked once per test session (real DuckDB and Splink)."""

from pathlib import Path

import pytest

from evaluation.linkage import evaluate_linkage
from linkage import LinkageConfig, link_sources


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A world from the project's generator at default noise (about 7,000 records)."""
    from runcore.config import load_config
    from synthetic_data import generate_world

    run_dir = tmp_path_factory.mktemp("world")
    generate_world(load_config().world, people=3000, seed=11, out_dir=run_dir)
    return run_dir


@pytest.fixture(scope="session")
def linked_world(small_world) -> tuple[Path, dict, dict]:
    config = LinkageConfig(u_max_pairs=1e6, seed=3)
    summary = link_sources(small_world / "sources", small_world / "linkage", config)
    evaluation = evaluate_linkage(small_world / "linkage", small_world / "truth")
    return small_world, summary, evaluation
