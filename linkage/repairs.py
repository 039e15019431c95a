"""Counted repairs: identifier values that cannot be read become missing, and are counted.

Real extracts always carry some impossible values (a 31 February, a birth in 2090, a
postcode typed into the phone-number box). Refusing a whole file for them is wrong, and
dropping them silently hides a problem. So each unreadable value becomes missing, every
repair is counted per input and column (``linkage_summary.json`` and the terminal), and a
file is refused only when a column is mostly unreadable: more than ``max_invalid_share`` of
its recorded values.

The rules, per role:

- ``date_of_birth``: text parsed with the input's ``date_format`` (a strftime pattern, or
  a list tried in order) or else :data:`linkage.standardise.DATE_FORMATS`; a date that does
  not parse, or lies outside 1 January 1880 to today, is missing.
- ``postcode``: when most of an input's postcodes are UK-shaped the input holds UK
  postcodes, and a value of another shape there is a recording error (missing). Otherwise
  the input holds postcodes of another country (zip codes): each is kept as its upper-case
  letters and digits, and only a value with 2 to 10 of them is readable.
- ``person_number`` and ``shared_number``: upper-case letters and digits with at least one
  digit and 4 to 20 characters (NHS numbers, National Insurance numbers, social security
  numbers); anything else is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from linkage.errors import LinkageInputError
from linkage.standardise import (
    DATE_FORMATS,
    POSTCODE_PATTERN,
    previous_postcode_lists,
    standardise_person_number,
    standardise_postcode,
    standardise_previous_postcodes,
)

EARLIEST_BIRTH = dt.date(1880, 1, 1)
"""Births before this date are recording errors (no one alive was born earlier)."""

DEFAULT_MAX_INVALID_SHARE = 0.2
"""A column with more than this share of unreadable values is refused rather than repaired."""

EXAMPLE_ROWS = 5
"""Rows quoted in a refusal (row numbers only: the values may identify a person)."""


@dataclass(frozen=True)
class ColumnRepair:
    """Unreadable values of one column of one input, made missing."""

    input: str
    column: str
    role: str
    recorded: int
    invalid: int
    rule: str

    @property
    def share(self) -> float:
        """Share of the recorded (non-blank) values that could not be read."""
        return self.invalid / self.recorded if self.recorded else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For ``linkage_summary.json``."""
        return {**asdict(self), "share": round(self.share, 6)}


def parse_dates(text: pl.Expr, formats: tuple[str, ...]) -> pl.Expr:
    """Text parsed with each format in turn (the first that parses wins)."""
    cleaned = text.cast(pl.Utf8).str.strip_chars()
    return pl.coalesce([cleaned.str.strptime(pl.Date, f, strict=False) for f in formats])


def _blank(values: pl.Series) -> pl.Series:
    if values.dtype == pl.Utf8:
        return values.is_null() | (values.str.strip_chars() == "")
    return values.is_null()


def repaired_dates(values: pl.Series, formats: tuple[str, ...], today: dt.date) -> pl.Series:
    """Dates of birth as ``Date``: parsed, and missing outside 1880 to ``today``."""
    if values.dtype == pl.Date:
        dates = values
    elif isinstance(values.dtype, pl.Datetime):
        dates = values.dt.date()
    elif values.dtype == pl.Null:
        dates = values.cast(pl.Date)
    else:
        dates = pl.select(parse_dates(pl.lit(values), formats or DATE_FORMATS)).to_series()
    in_range = dates.is_between(EARLIEST_BIRTH, today)
    return dates.zip_with(in_range.fill_null(False), pl.Series([None], dtype=pl.Date))


def repaired_postcodes(values: pl.Series) -> tuple[pl.Series, str]:
    """Postcodes normalised, and the rule applied (UK or another country's)."""
    compact = values.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    recorded = compact.filter(compact.str.len_chars() > 0)
    uk_share = recorded.str.contains(POSTCODE_PATTERN).mean() if recorded.len() else 1.0
    if uk_share is not None and uk_share >= 0.5:
        return pl.select(standardise_postcode(pl.lit(compact))).to_series(), "a UK postcode"
    readable = compact.str.len_chars().is_between(2, 10)
    return compact.zip_with(readable.fill_null(False), pl.Series([None], dtype=pl.Utf8)), (
        "a postcode of 2 to 10 letters and digits"
    )


def repaired_numbers(values: pl.Series) -> pl.Series:
    """Person or shared numbers as letters and digits, missing where not number-shaped."""
    compact = pl.select(standardise_person_number(pl.lit(values))).to_series()
    readable = compact.str.len_chars().is_between(4, 20) & compact.str.contains("[0-9]")
    return compact.zip_with(readable.fill_null(False), pl.Series([None], dtype=pl.Utf8))


def _repair_role(
    role: str, values: pl.Series, date_formats: tuple[str, ...], today: dt.date
) -> tuple[pl.Series, str] | None:
    if role == "date_of_birth":
        rule = f"a date of birth from {EARLIEST_BIRTH.isoformat()} to today"
        if date_formats:
            rule += f" in the format {' or '.join(date_formats)}"
        return repaired_dates(values, date_formats, today), rule
    if role == "postcode":
        return repaired_postcodes(values)
    if role in ("person_number", "shared_number"):
        return repaired_numbers(values), "a number of 4 to 20 letters and digits"
    return None


def _repaired_previous_postcodes(values: pl.Series) -> tuple[pl.Series, int, pl.Series]:
    """Previous postcodes standardised, the postcodes recorded (counted one by one: a record
    may hold several), and the records that held an unreadable one."""
    lists = previous_postcode_lists(values)
    held = lists.list.len().fill_null(0)
    readable = pl.select(
        lists.list.eval(standardise_postcode(pl.element())).list.drop_nulls().list.len()
    ).to_series()
    dropped = (held - readable.fill_null(0)).alias("dropped")
    return standardise_previous_postcodes(values), int(held.sum()), dropped


def repair_values(
    frame: pl.DataFrame,
    *,
    input_name: str,
    path: str,
    columns: dict[str, str],
    date_formats: tuple[str, ...] = (),
    max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE,
    today: dt.date | None = None,
) -> tuple[pl.DataFrame, list[ColumnRepair]]:
    """Make unreadable values missing and count them (rules in the module docstring).

    Parameters
    ----------
    frame
        One input with its columns renamed to their roles.
    columns
        Role to the column's name in the file (for messages).

    Raises
    ------
    LinkageInputError
        A column's share of unreadable values exceeds ``max_invalid_share``; the message
        names the file, the column, the count and the first rows.
    """
    today = today or dt.date.today()
    repairs = []
    for role, column in columns.items():
        if role not in frame.columns:
            continue
        values = frame.get_column(role)
        if role == "previous_postcodes":
            fixed, recorded, dropped = _repaired_previous_postcodes(values)
            repair = ColumnRepair(
                input_name, column, role, recorded, int(dropped.sum()), "a UK postcode"
            )
            invalid_mask = dropped > 0
        else:
            repaired = _repair_role(role, values, date_formats, today)
            if repaired is None:
                continue
            fixed, rule = repaired
            invalid_mask = fixed.is_null() & ~_blank(values)
            repair = ColumnRepair(
                input_name,
                column,
                role,
                int((~_blank(values)).sum()),
                int(invalid_mask.sum()),
                rule,
            )
        if repair.share > max_invalid_share:
            rows = (invalid_mask.arg_true().head(EXAMPLE_ROWS) + 1).to_list()
            raise LinkageInputError(
                path,
                column,
                f"{repair.invalid} of {repair.recorded} values ({repair.share:.0%}) are not "
                f"{rule}, more than max_invalid_share ({max_invalid_share:.0%}); first data "
                f"rows: {rows}. Check the mapping (date_format, encoding, delimiter).",
            )
        repairs.append(repair)
        frame = frame.with_columns(fixed.alias(role))
    return frame, repairs
