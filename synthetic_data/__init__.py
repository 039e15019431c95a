"""Synthetic England: a truth population, its life events, and three noisy extracts.

Entry points: ``generate_world`` (writes ``sources/`` and ``truth/`` of a run folder),
``WorldConfig`` (the ``world`` section of the run configuration) and ``NO_NOISE``.
"""

from synthetic_data.config import NO_NOISE, WorldConfig
from synthetic_data.world import GenerationError, generate_world

__all__ = ["NO_NOISE", "GenerationError", "WorldConfig", "generate_world"]
