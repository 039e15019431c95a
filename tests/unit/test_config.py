from pathlib import Path

import pytest
import yaml

from runcore.config import ConfigError, RunConfig, load_config, run_id

REPO = Path(__file__).resolve().parents[2]


def test_default_file_matches_embedded_defaults():
    assert load_config(REPO / "config" / "default.yaml") == RunConfig()


def test_unknown_key_names_key_and_valid_options(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("run:\n  peeple: 10\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "run.peeple" in str(info.value)
    assert "people" in str(info.value) and "seed" in str(info.value)


def test_non_positive_people_rejected():
    with pytest.raises(ConfigError, match="run.people"):
        load_config(overrides={"run": {"people": 0}})


def test_run_id_depends_on_configuration():
    a = load_config(overrides={"run": {"people": 100}})
    b = load_config(overrides={"run": {"people": 100}})
    c = load_config(overrides={"run": {"people": 101}})
    assert run_id(a) == run_id(b) != run_id(c)


def test_published_gate_follows_the_analysis_disclosure_rules():
    config = load_config(overrides={"analysis": {"min_count": 20, "rounding_base": 10}})
    assert config.expectations.disclosure_min_count == 20
    assert config.expectations.rounding_base == 10


def test_published_gate_set_differently_from_the_analysis_is_refused(tmp_path):
    path = tmp_path / "mismatch.yaml"
    path.write_text("analysis:\n  min_count: 20\nexpectations:\n  disclosure_min_count: 10\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "expectations.disclosure_min_count (10)" in message
    assert "analysis.min_count (20)" in message


def _documented_keys(text: str) -> dict[str, set[str]]:
    """Top-level sections of config/default.yaml and the keys each lists."""
    return {section: set(body or {}) for section, body in yaml.safe_load(text).items()}


def test_default_file_documents_every_option_of_every_stage():
    """The models own the defaults; the file is their documentation and lists every key
    (the world's many parameters are documented in synthetic_data/world_defaults.yaml)."""
    documented = _documented_keys((REPO / "config" / "default.yaml").read_text())
    for section, field in RunConfig.model_fields.items():
        if section == "world":
            continue
        assert set(field.annotation.model_fields) == documented[section], section
    assert set(documented) == set(RunConfig.model_fields)


def test_default_file_comments_every_option():
    lines = (REPO / "config" / "default.yaml").read_text().splitlines()
    options = [line for line in lines if line.startswith("  ") and not line.startswith("   ")]
    options = [line for line in options if not line.lstrip().startswith("#")]
    undocumented = [line.split(":")[0].strip() for line in options if "#" not in line]
    assert undocumented == []
