"""The flow's and CLI's ``backend`` parameter selects the linkage backend."""

import pytest

from runcore.config import ConfigError, config_from_parameters


def test_backend_parameter_sets_the_linkage_backend():
    assert config_from_parameters().linkage.backend == "duckdb"
    config = config_from_parameters(backend="spark")
    assert config.linkage.backend == "spark"
    assert config.linkage.spark_master == "local[2]"


def test_an_unknown_backend_is_refused_with_the_valid_options():
    with pytest.raises((ConfigError, ValueError), match="duckdb"):
        config_from_parameters(backend="sqlite")
