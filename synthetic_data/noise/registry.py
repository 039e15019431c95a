"""The one registry of recording errors: each noise type is one record.

As in pseudopeople, a noise type is a record in an ordered registry and every function has
the same signature ``(data, node, rng, column) -> NoiseResult``. A record says everything the
rest of the project needs to know about its type: its name, whether it acts on whole rows or on
one column, where it applies (sources for row errors, column kinds for column errors) and the
function. The configuration's noise section, the order errors are applied in and the tests are
all derived from this tuple.

The order of ``REGISTRY`` is the order applied: row-level errors first (so duplicated rows can
pick up their own column errors), then blanking (later errors skip blanks), then name, date,
category, postcode and identifier errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from synthetic_data.noise import fields, names, rows
from synthetic_data.noise.base import NoiseFunction
from synthetic_data.noise.types import HISTORY_SOURCES, NOT_UPDATED, SOURCE_COLUMNS, SOURCES

NAMES = ("forename", "middle_name", "surname")
EVERY_KIND = ("forename", "middle_name", "surname", "dob", "category", "postcode")
IDENTIFIERS = ("nhs_number", "nino")


@dataclass(frozen=True)
class NoiseType:
    """One recording error.

    ``scope`` is the sources a row error applies to, or the column kinds (see
    :data:`~synthetic_data.noise.types.SOURCE_COLUMNS`) a column error applies to.
    ``updated_records_only`` marks errors that exist only where an organisation updates its
    records after 2011 (never in the census, nor in an address history).
    """

    name: str
    level: Literal["row", "column"]
    scope: tuple[str, ...]
    function: NoiseFunction
    updated_records_only: bool = False


REGISTRY: tuple[NoiseType, ...] = (
    NoiseType("omit_row", "row", SOURCES + HISTORY_SOURCES, rows.omit_row),
    NoiseType("duplicate_row", "row", ("gp", "dwp"), rows.duplicate_row),
    NoiseType("blank", "column", EVERY_KIND + IDENTIFIERS, fields.blank),
    NoiseType("stale_surname", "column", ("surname",), fields.stale_surname, True),
    NoiseType("swap_names", "column", ("forename",), names.swap_names),
    NoiseType("nickname", "column", ("forename",), names.nickname),
    NoiseType("spelling_variant", "column", ("forename", "surname"), names.spelling_variant),
    NoiseType("fake_name", "column", ("forename", "surname"), names.fake_name),
    NoiseType("phonetic", "column", NAMES, names.phonetic),
    NoiseType("ocr", "column", NAMES, names.ocr),
    NoiseType("typo", "column", NAMES, names.typo),
    NoiseType("swap_day_month", "column", ("dob",), fields.swap_day_month),
    NoiseType("wrong_digit_dob", "column", ("dob",), fields.wrong_digit_dob),
    NoiseType("jan_first", "column", ("dob",), fields.jan_first),
    NoiseType("wrong_category", "column", ("category",), fields.wrong_category),
    NoiseType("stale_address", "column", ("postcode",), fields.stale_address, True),
    NoiseType("postcode_digit", "column", ("postcode",), fields.postcode_digit),
    NoiseType("postcode_format", "column", ("postcode",), fields.postcode_format),
    NoiseType("other_person_id", "column", ("nhs_number",), fields.other_person_id),
    NoiseType("wrong_digit_id", "column", ("nino",), fields.wrong_digit_id),
)

#: Every noise type's name, in the order applied.
NOISE_TYPES: tuple[str, ...] = tuple(entry.name for entry in REGISTRY)


def row_noise_types(source: str) -> tuple[str, ...]:
    """Row-level noise types that apply to one source, in registry order."""
    return tuple(e.name for e in REGISTRY if e.level == "row" and source in e.scope)


def column_noise_types(source: str, column: str) -> tuple[str, ...]:
    """Noise types that apply to one column of one source, in registry order."""
    kind = SOURCE_COLUMNS[source][column]
    return tuple(
        e.name
        for e in REGISTRY
        if e.level == "column"
        and kind in e.scope
        and not (source in NOT_UPDATED and e.updated_records_only)
    )
