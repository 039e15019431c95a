"""The world section: layered defaults, NO_NOISE, and errors that name the key and options."""

import pytest
from pydantic import ValidationError

from runcore.config import ConfigError, load_config
from synthetic_data import NO_NOISE, GenerationError, WorldConfig, generate_world
from synthetic_data.config import _defaults


def test_defaults_come_from_the_packaged_yaml():
    world = WorldConfig()
    assert world.census.non_response == _defaults()["census"]["non_response"]
    assert world.noise.gp.forename.nickname == _defaults()["noise"]["gp"]["forename"]["nickname"]


def test_overrides_replace_one_key_and_keep_the_rest():
    world = WorldConfig(census={"non_response": 0.1}, noise={"gp": {"forename": {"typo": 0.2}}})
    assert world.census.non_response == 0.1
    assert world.census.wholly_imputed_share == _defaults()["census"]["wholly_imputed_share"]
    assert world.noise.gp.forename.typo == 0.2
    assert world.noise.gp.forename.nickname == _defaults()["noise"]["gp"]["forename"]["nickname"]


def test_no_noise_switches_every_recording_error_off():
    world = WorldConfig(noise=NO_NOISE)
    dumped = world.noise.model_dump()
    values = [
        p for source in dumped.values() for column in source.values() for p in column.values()
    ]
    assert values and all(p == 0.0 for p in values)
    # Coverage is not noise: the census still has non-response.
    assert world.census.non_response > 0


def test_resolved_config_round_trips():
    world = WorldConfig(noise=NO_NOISE, census={"non_response": 0.07})
    assert WorldConfig.model_validate(world.model_dump(mode="json")) == world


@pytest.mark.parametrize(
    ("overrides", "key", "options"),
    [
        ({"noise": {"census": {"forename": {"typoo": 0.1}}}}, "world.noise.census.forename.typoo",
         ["typo", "nickname", "blank"]),
        ({"noise": {"census": {"nhs_number": {"blank": 0.1}}}}, "world.noise.census.nhs_number",
         ["forename", "postcode"]),
        ({"noise": {"hospital": {}}}, "world.noise.hospital", ["census", "gp", "dwp"]),
        ({"censsus": {}}, "world.censsus", ["census", "noise", "population"]),
    ],
)  # fmt: skip
def test_unknown_keys_name_the_key_and_valid_options(overrides, key, options):
    with pytest.raises(ConfigError) as info:
        load_config(overrides={"world": overrides})
    message = str(info.value)
    assert key in message
    for option in options:
        assert option in message


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_probabilities_outside_zero_one_are_rejected(value):
    with pytest.raises(ConfigError, match=r"world\.noise\.gp\.postcode\.stale_address"):
        load_config(overrides={"world": {"noise": {"gp": {"postcode": {"stale_address": value}}}}})


def test_unknown_ethnic_code_in_benefit_factors_is_rejected():
    with pytest.raises(ValidationError, match="ethnic_factors"):
        WorldConfig(benefits={"ethnic_factors": {"19": 1.0}})


def test_noise_must_be_a_preset_or_mapping():
    with pytest.raises(ValidationError, match="no_noise"):
        WorldConfig(noise="quiet")


def test_non_positive_people_stop_before_writing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(GenerationError, match="people"):
        generate_world(WorldConfig(), people=0, seed=1, out_dir=out)
    assert not out.exists()


def test_unwritable_output_is_a_generation_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(GenerationError, match="Could not write"):
        generate_world(WorldConfig(), people=200, seed=1, out_dir=blocker / "run")
