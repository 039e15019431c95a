"""Prefect flows: the pipeline as a list of stages. Wiring only; the logic lives in packages."""

from flows.pipeline import triangulate_pipeline
from flows.stages import STAGE_FLOWS

__all__ = ["STAGE_FLOWS", "triangulate_pipeline"]
