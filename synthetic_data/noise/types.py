"""Which recording errors exist, in which order they apply, and to which columns.

This module is plain data so that the configuration can be validated without importing the
noise functions. The order of ``NOISE_TYPES`` is the order the registry applies them: row-level
errors first (so duplicated rows can pick up their own column errors), then blanking (later
errors skip blanks), then name, date, category, postcode and identifier errors.
"""

from __future__ import annotations

SOURCES: tuple[str, ...] = ("census", "gp", "dwp")

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
}

#: Row-level noise types, in order, and the sources where they make sense.
ROW_NOISE_TYPES: dict[str, tuple[str, ...]] = {
    "omit_row": ("census", "gp", "dwp"),
    "duplicate_row": ("gp", "dwp"),
}

#: Column-level noise types, in the order applied, and the column kinds they apply to.
COLUMN_NOISE_TYPES: dict[str, tuple[str, ...]] = {
    "blank": (
        "forename",
        "middle_name",
        "surname",
        "dob",
        "category",
        "postcode",
        "nhs_number",
        "nino",
    ),
    "stale_surname": ("surname",),
    "swap_names": ("forename",),
    "nickname": ("forename",),
    "spelling_variant": ("forename", "surname"),
    "fake_name": ("forename", "surname"),
    "phonetic": ("forename", "middle_name", "surname"),
    "ocr": ("forename", "middle_name", "surname"),
    "typo": ("forename", "middle_name", "surname"),
    "swap_day_month": ("dob",),
    "wrong_digit_dob": ("dob",),
    "jan_first": ("dob",),
    "wrong_category": ("category",),
    "stale_address": ("postcode",),
    "postcode_digit": ("postcode",),
    "postcode_format": ("postcode",),
    "other_person_id": ("nhs_number",),
    "wrong_digit_id": ("nino",),
}

#: Every noise type, row level first, in registry order.
NOISE_TYPES: tuple[str, ...] = tuple(ROW_NOISE_TYPES) + tuple(COLUMN_NOISE_TYPES)


def column_noise_types(source: str, column: str) -> tuple[str, ...]:
    """Noise types that apply to one column of one source, in registry order."""
    kind = SOURCE_COLUMNS[source][column]
    # A stale surname or address only exists where the organisation updates records after 2011.
    dated = {"stale_surname", "stale_address"}
    return tuple(
        name
        for name, kinds in COLUMN_NOISE_TYPES.items()
        if kind in kinds and not (source == "census" and name in dated)
    )
