"""The identifier roles: what the project's extracts map, and what any input may map."""

from __future__ import annotations

from linkage.inputs import IDENTIFIERS, project_inputs
from linkage.model import PROJECT_ROLES


def test_the_project_extracts_map_the_project_roles_and_the_household(tmp_path):
    # The GP and DWP extracts come with address histories (only their presence is read here).
    for source in ("gp", "dwp"):
        (tmp_path / f"{source}_address_history.parquet").touch()
    mapped = {role for spec in project_inputs(tmp_path) for role in spec.columns}
    assert mapped == {
        "forename",
        "middle_names",
        "surname",
        "date_of_birth",
        "sex",
        "postcode",
        "person_number",
        "previous_postcodes",
        "household",
    }
    assert mapped - {"household"} == set(PROJECT_ROLES)


def test_extracts_without_address_histories_do_not_map_previous_postcodes(tmp_path):
    mapped = {role for spec in project_inputs(tmp_path) for role in spec.columns}
    assert "previous_postcodes" not in mapped


def test_every_role_an_input_may_map_is_listed_once_and_includes_the_project_roles():
    assert len(IDENTIFIERS) == len(set(IDENTIFIERS))
    assert set(PROJECT_ROLES) | {"household", "address", "locality", "shared_number"} == set(
        IDENTIFIERS
    )
