"""A small world generated once per test session and shared by the integration tests."""

from pathlib import Path

import pytest

from synthetic_data import WorldConfig, generate_world

PEOPLE = 6000
SEED = 7


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> tuple[Path, dict]:
    """A 6,000-person world with default noise, in two blocks."""
    out = tmp_path_factory.mktemp("world")
    summary = generate_world(WorldConfig(block_size=3000), people=PEOPLE, seed=SEED, out_dir=out)
    return out, summary
