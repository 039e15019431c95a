"""Synthetic England: a truth population, its life events, and three noisy extracts.

Entry points: ``generate_world`` (writes ``sources/`` and ``truth/`` of a run folder),
``WorldConfig`` (the ``world`` section of the run configuration) and ``NO_NOISE``; for running
blocks on another engine, ``plan_blocks``, ``write_block`` and ``publish_parts``.
"""

from synthetic_data.blocks import Block, plan_blocks
from synthetic_data.config import NO_NOISE, WorldConfig
from synthetic_data.world import GenerationError, generate_world, publish_parts, write_block

__all__ = [
    "NO_NOISE",
    "Block",
    "GenerationError",
    "WorldConfig",
    "generate_world",
    "plan_blocks",
    "publish_parts",
    "write_block",
]
