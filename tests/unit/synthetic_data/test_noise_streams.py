"""Random streams of recording errors are keyed by the error's name: adding a noise type
anywhere in the registry leaves every other type's draws, and so the extracts, unchanged."""

import numpy as np
import polars as pl
import pytest

import synthetic_data.block_output as block_output
from synthetic_data.config import WorldConfig
from synthetic_data.noise import apply as noise_apply
from synthetic_data.noise.base import NoiseNode, NoiseResult, select_rows
from synthetic_data.noise.registry import REGISTRY, NoiseType
from synthetic_data.world import generate_world

PEOPLE = 400
SEED = 21


def _draw_and_change_nothing(data: pl.DataFrame, node: NoiseNode, rng, column: str):
    """A new error that consumes random numbers (as every real one does) but changes nothing,
    so any difference in the other errors' results can only come from their streams."""
    select_rows(data, node, rng)
    return NoiseResult(data, np.zeros(0, dtype=np.int64))


class _ConfigWithNewType:
    """The world's configuration plus a rate for the new type, which it does not know."""

    def __init__(self, config: WorldConfig) -> None:
        self._config = config

    def probability(self, source: str, column: str, noise_type: str) -> float:
        if noise_type == "new_error":
            return 0.5
        return self._config.probability(source, column, noise_type)


def _world(out, registry=None, monkeypatch=None):
    if registry is not None:
        real = noise_apply.apply_noise

        def with_new_type(data, source, config, rng_for):
            return real(data, source, _ConfigWithNewType(config), rng_for, registry)

        monkeypatch.setattr(block_output, "apply_noise", with_new_type)
    generate_world(WorldConfig(workers=1), people=PEOPLE, seed=SEED, out_dir=out)
    names = ("census", "gp_registrations", "dwp_customers")
    return {name: pl.read_parquet(out / f"sources/{name}.parquet") for name in names}


@pytest.mark.parametrize("position", [0, 3, len(REGISTRY)])
def test_a_new_noise_type_anywhere_leaves_the_extracts_unchanged(tmp_path, monkeypatch, position):
    before = _world(tmp_path / "before")
    new = NoiseType("new_error", "column", ("forename", "dob"), _draw_and_change_nothing)
    registry = (*REGISTRY[:position], new, *REGISTRY[position:])
    after = _world(tmp_path / "after", registry, monkeypatch)
    for name, frame in before.items():
        assert frame.equals(after[name]), f"{name} changed when a noise type was added"
