"""The identifier roles: what the project's extracts map, and what any input may map."""

from __future__ import annotations

from linkage.inputs import IDENTIFIERS, project_inputs
from linkage.model import PROJECT_ROLES


def test_the_project_extracts_map_the_project_roles_and_the_household(tmp_path):
    mapped = {role for spec in project_inputs(tmp_path) for role in spec.columns}
    assert mapped == {
        "forename",
        "middle_names",
        "surname",
        "date_of_birth",
        "sex",
        "postcode",
        "person_number",
        "household",
    }
    assert mapped - {"household"} == set(PROJECT_ROLES)


def test_every_role_an_input_may_map_is_listed_once_and_includes_the_project_roles():
    assert len(IDENTIFIERS) == len(set(IDENTIFIERS))
    assert set(PROJECT_ROLES) | {"household", "address", "locality", "shared_number"} == set(
        IDENTIFIERS
    )
