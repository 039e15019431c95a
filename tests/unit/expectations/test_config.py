import pytest

from expectations.config import ExpectationsConfig
from runcore.config import ConfigError, load_config


def test_section_is_part_of_the_run_configuration():
    config = load_config(overrides={"expectations": {"quarantine": True}})
    assert config.expectations.quarantine is True
    assert config.expectations.min_linkage_rate == ExpectationsConfig().min_linkage_rate


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError) as info:
        load_config(overrides={"expectations": {"quarantine_rows": True}})
    message = str(info.value)
    assert "expectations.quarantine_rows" in message and "min_linkage_rate" in message


@pytest.mark.parametrize(
    "override",
    [
        {"min_linkage_rate": {"hmrc": 0.5}},
        {"min_linkage_rate": {"gp": 1.5}},
        {"row_count_tolerance": -0.1},
        {"rows_per_person": {"census": 0}},
    ],
)
def test_invalid_values_are_rejected_with_the_key(override):
    with pytest.raises(ConfigError, match="expectations"):
        load_config(overrides={"expectations": override})
