"""Partitioned generation: a block's output depends only on the run seed and its own index.

So blocks can be generated in any order, on any number of workers (processes here; Dask or
Spark workers in principle), and the assembled world is identical.
"""

import polars as pl
import pytest

from synthetic_data import WorldConfig, generate_world, plan_blocks, publish_parts, write_block
from synthetic_data.block_output import SOURCE_TABLES, TRUTH_TABLES

PEOPLE = 2400
BLOCK_SIZE = 800  # three blocks


def test_blocks_cover_everyone_once_with_their_own_streams():
    blocks = plan_blocks(2500, 1000, seed=7)
    assert [(b.start, b.size) for b in blocks] == [(0, 1000), (1000, 1000), (2000, 500)]
    first = [b.rng("names").integers(0, 2**62) for b in blocks]
    assert len(set(first)) == 3  # each block draws from its own stream
    again = [b.rng("names").integers(0, 2**62) for b in plan_blocks(2500, 1000, seed=7)]
    assert first == again  # and the stream is a function of (seed, block), nothing else


@pytest.mark.slow
def test_blocks_generated_alone_in_any_order_assemble_the_same_world(tmp_path):
    config = WorldConfig(block_size=BLOCK_SIZE, workers=3)
    generate_world(config, people=PEOPLE, seed=5, out_dir=tmp_path / "pooled")

    # Each partition generated on its own, last first, as independent workers would, then
    # published with the same function the pooled run uses.
    parts = tmp_path / "parts"
    blocks = plan_blocks(PEOPLE, BLOCK_SIZE, 5)
    assert len(blocks) == 3
    alone = WorldConfig(block_size=BLOCK_SIZE, workers=1)
    for block in reversed(blocks):
        assert write_block(block, alone, people=PEOPLE, parts_dir=parts) == block.index
    publish_parts(parts, tmp_path / "partitioned")

    for group, names in (("sources", SOURCE_TABLES), ("truth", TRUTH_TABLES)):
        for name in names:
            assembled = pl.read_parquet(tmp_path / "partitioned" / group / f"{name}.parquet")
            pooled = pl.read_parquet(tmp_path / "pooled" / group / f"{name}.parquet")
            assert assembled.height > 0 or name == "noise_log", name
            assert assembled.equals(pooled), f"{group}/{name} differs when partitioned"
