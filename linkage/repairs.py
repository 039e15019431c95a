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


def _compact_postcodes(values: pl.Series) -> pl.Series:
    return values.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def postcode_shape_counts(postcodes: pl.Expr) -> list[pl.Expr]:
    """Aggregations over an input's postcodes: ``uk_shaped`` and ``recorded`` (non-blank),
    from which :func:`holds_uk_postcodes` decides the input's rule. Expressions, so a large
    input is counted by a streaming scan rather than read whole."""
    compact = postcodes.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    recorded = compact.str.len_chars() > 0
    return [
        (recorded & compact.str.contains(POSTCODE_PATTERN)).sum().alias("uk_shaped"),
        recorded.sum().alias("recorded"),
    ]


def holds_uk_postcodes(uk_shaped: int, recorded: int) -> bool:
    """An input holds UK postcodes when at least half its recorded ones are UK-shaped (or it
    records none)."""
    return recorded == 0 or uk_shaped >= 0.5 * recorded


def repaired_postcodes(values: pl.Series, uk: bool | None = None) -> tuple[pl.Series, str]:
    """Postcodes normalised, and the rule applied (UK or another country's): ``uk`` as
    decided over the whole input, or else from these values."""
    compact = _compact_postcodes(values)
    if uk is None:
        counts = pl.select(postcode_shape_counts(pl.lit(values))).row(0)
        uk = holds_uk_postcodes(*counts)
    if uk:
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
    role: str,
    values: pl.Series,
    date_formats: tuple[str, ...],
    today: dt.date,
    uk_postcodes: bool | None,
) -> tuple[pl.Series, str] | None:
    if role == "date_of_birth":
        return repaired_dates(values, date_formats, today), date_rule(date_formats)
    if role == "postcode":
        return repaired_postcodes(values, uk_postcodes)
    if role in ("person_number", "shared_number"):
        return repaired_numbers(values), "a number of 4 to 20 letters and digits"
    return None


def date_rule(date_formats: tuple[str, ...]) -> str:
    """The rule a readable date of birth meets, for messages and the summary."""
    rule = f"a date of birth from {EARLIEST_BIRTH.isoformat()} to today"
    if date_formats:
        rule += f" in the format {' or '.join(date_formats)}"
    return rule


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


@dataclass
class RepairTally:
    """One column's repair counted so far (over one slice of an input, or several), with
    the first data rows (1-based) holding an unreadable value."""

    repair: ColumnRepair
    first_rows: list[int]

    def add(self, other: RepairTally) -> RepairTally:
        """This slice's tally and another's."""
        mine, theirs = self.repair, other.repair
        total = ColumnRepair(
            mine.input,
            mine.column,
            mine.role,
            mine.recorded + theirs.recorded,
            mine.invalid + theirs.invalid,
            mine.rule,
        )
        # Slices may be added in any order (Spark's batches): keep the earliest rows.
        rows = sorted({*self.first_rows, *other.first_rows})[:EXAMPLE_ROWS]
        return RepairTally(total, rows)


def repair_columns(
    frame: pl.DataFrame,
    *,
    input_name: str,
    columns: dict[str, str],
    date_formats: tuple[str, ...] = (),
    today: dt.date | None = None,
    uk_postcodes: bool | None = None,
    row_numbers: pl.Series | None = None,
) -> tuple[pl.DataFrame, list[RepairTally]]:
    """Make unreadable values missing and count them, without refusing anything.

    ``uk_postcodes`` is the postcode rule decided over the whole input (else decided from
    ``frame``); ``row_numbers`` are the data row numbers (1-based) of ``frame``'s rows, so
    a slice of a large input names rows as the file numbers them (default 1, 2, ...).
    """
    today = today or dt.date.today()
    if row_numbers is None:
        row_numbers = pl.int_range(1, frame.height + 1, dtype=pl.Int64, eager=True)
    tallies = []
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
            repaired = _repair_role(role, values, date_formats, today, uk_postcodes)
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
        rows = row_numbers.filter(invalid_mask.fill_null(False)).head(EXAMPLE_ROWS).to_list()
        tallies.append(RepairTally(repair, rows))
        frame = frame.with_columns(fixed.alias(role))
    return frame, tallies


def refuse_unreadable(
    tallies: list[RepairTally], *, path: str, max_invalid_share: float
) -> list[ColumnRepair]:
    """The repairs, once no column's share of unreadable values exceeds
    ``max_invalid_share``.

    Raises
    ------
    LinkageInputError
        A column's share exceeds it; the message names the file, the column, the count and
        the first rows.
    """
    for tally in tallies:
        repair = tally.repair
        if repair.share > max_invalid_share:
            raise LinkageInputError(
                path,
                repair.column,
                f"{repair.invalid} of {repair.recorded} values ({repair.share:.0%}) are not "
                f"{repair.rule}, more than max_invalid_share ({max_invalid_share:.0%}); first "
                f"data rows: {tally.first_rows}. Check the mapping (date_format, encoding, "
                "delimiter).",
            )
    return [tally.repair for tally in tallies]


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
    """Make unreadable values missing and count them (rules in the module docstring), for
    a whole input held in ``frame``.

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
    fixed, tallies = repair_columns(
        frame, input_name=input_name, columns=columns, date_formats=date_formats, today=today
    )
    return fixed, refuse_unreadable(tallies, path=path, max_invalid_share=max_invalid_share)
