"""Command-line interface and run configuration for the triangulate pipeline."""

from triangulate.config import ConfigError, RunConfig, load_config, write_config

__all__ = ["ConfigError", "RunConfig", "load_config", "write_config"]
