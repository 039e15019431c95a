"""The sources' columns and the kind of value each holds, which decides the recording errors
that apply to it (see :mod:`synthetic_data.noise.registry`)."""

from __future__ import annotations

SOURCES: tuple[str, ...] = ("census", "gp", "dwp")

#: The extracts' address histories (one row per previous address), which take recording
#: errors of their own (synthetic_data/histories.py).
HISTORY_SOURCES: tuple[str, ...] = ("gp_address_history", "dwp_address_history")

#: Tables that never update a current value (the census is a snapshot; a history holds
#: past addresses), so the errors of records left un-updated do not apply to them.
NOT_UPDATED: tuple[str, ...] = ("census", *HISTORY_SOURCES)

#: Column of each source -> kind of value, which decides the applicable noise types.
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "census": {
        "forename": "forename",
        "middle_names": "middle_name",
        "surname": "surname",
        "date_of_birth": "dob",
        "sex": "category",
        "postcode": "postcode",
        "ethnic_group": "category",
        "disability": "category",
    },
    "gp": {
        "nhs_number": "nhs_number",
        "forename": "forename",
        "middle_names": "middle_name",
        "surname": "surname",
        "date_of_birth": "dob",
        "sex": "category",
        "postcode": "postcode",
    },
    "dwp": {
        "nino": "nino",
        "forename": "forename",
        "surname": "surname",
        "date_of_birth": "dob",
        "sex": "category",
        "postcode": "postcode",
    },
    "gp_address_history": {"postcode": "postcode"},
    "dwp_address_history": {"postcode": "postcode"},
}
