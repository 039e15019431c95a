"""Linking the census, GP and DWP extracts into one person spine with Splink on DuckDB
(or Spark: ``LinkageConfig(backend="spark")``)."""

from linkage.backends import BackendUnavailableError
from linkage.clustering import spine_at_threshold, spines_at_thresholds
from linkage.config import LinkageConfig
from linkage.errors import ConvergenceError, LinkageInputError
from linkage.files import link_files, read_mapping, truth_record_map
from linkage.pipeline import link_records, link_sources

__all__ = [
    "BackendUnavailableError",
    "ConvergenceError",
    "LinkageConfig",
    "LinkageInputError",
    "link_files",
    "link_records",
    "link_sources",
    "read_mapping",
    "spine_at_threshold",
    "spines_at_thresholds",
    "truth_record_map",
]
