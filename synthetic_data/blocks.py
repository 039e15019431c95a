"""Deterministic partitions: blocks of people, each with its own seed.

A run of ``people`` is cut into blocks of ``block_size``; block ``k`` draws every random
number from generators seeded by ``(seed, k, stream)``. Blocks share nothing but read-only
reference data and the run-level places (postcodes, practices, populated LSOAs), so they can be
generated in any order, by any number of workers, with identical results.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

# Named random streams: adding a stream never changes the draws of the others.
STREAMS: dict[str, int] = {
    name: i
    for i, name in enumerate(
        (
            "households",
            "shared_dob",
            "immigrants",
            "names",
            "disability",
            "exits",
            "births",
            "moves",
            "marriages",
            "conditions",
            "benefits",
            "census",
            "gp",
            "dwp",
            "quality",
            "noise",
            "ids",
            "spelling",
        )
    )
}


def name_key(name: str) -> int:
    """A stable 32-bit number for a name, to key a random stream by what it is rather than
    by where it sits in a list (Python's own ``hash`` changes between processes)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big")


@dataclass(frozen=True)
class Block:
    """One partition of the population."""

    index: int
    start: int  # global index of the block's first person
    size: int
    seed: int
    block_size: int

    def rng(self, stream: str, *extra: int) -> np.random.Generator:
        """The generator of one named stream of this block."""
        key = (self.index, STREAMS[stream], *extra)
        return np.random.default_rng(np.random.SeedSequence(entropy=self.seed, spawn_key=key))


def plan_blocks(people: int, block_size: int, seed: int) -> list[Block]:
    """Cut ``people`` into blocks (the last one may be smaller)."""
    blocks = []
    for index, start in enumerate(range(0, people, block_size)):
        size = min(block_size, people - start)
        blocks.append(Block(index, start, size, seed, block_size))
    return blocks
