"""Reading, validating and standardising the tables to link into one record frame.

Every input is described by an :class:`InputSpec` (which column holds which identifier);
the project's own extracts have fixed specs (:func:`project_inputs`), and the ``link``
command builds specs from a user's mapping file. All checks run before any training, and
an error names the file, the column and the problem.

An input is never held whole: it is checked, then standardised, a slice at a time by plain
functions of a slice (:func:`slice_tally`, :func:`slice_records`), called by the Python
process on slices of :data:`ROWS_PER_SLICE` rows or, on Spark, by the executors on their
Arrow batches (:mod:`linkage.spark_batches`). What needs a whole column is SQL on the
engine (:mod:`linkage.sql_steps`).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial, reduce
from pathlib import Path

import polars as pl

from common.parquet import write_frames
from linkage import spark_batches, sql_steps
from linkage.database import connect
from linkage.errors import LinkageInputError
from linkage.model import PROJECT_ROLES
from linkage.reading import CSV_SUFFIXES, csv_to_parquet, read_table, table_columns
from linkage.repairs import (
    DEFAULT_MAX_INVALID_SHARE,
    EXAMPLE_ROWS,
    ColumnRepair,
    RepairTally,
    holds_uk_postcodes,
    postcode_shape_counts,
    refuse_unreadable,
    repair_columns,
)
from linkage.sql_engine import DuckDBSql, SparkSql, SqlEngine
from linkage.standardise import (
    address_parts,
    forename_group,
    history_parts,
    postcode_parts,
    standardise_names,
    standardise_person_number,
    standardise_place,
    standardise_previous_postcodes,
    standardise_sex,
)

__all__ = ["read_table"]

logger = logging.getLogger(__name__)

OTHER_ROLES: tuple[str, ...] = ("address", "locality", "shared_number")
"""Roles other people's inputs may map and the project's own extracts lack."""

IDENTIFIERS: tuple[str, ...] = (*PROJECT_ROLES, "household", *OTHER_ROLES)
"""Identifier roles an input may map; any may be absent, the record id may not. The
project's extracts map :data:`linkage.model.PROJECT_ROLES` (the roles its measured model
compares) and ``household``; other inputs may map the :data:`OTHER_ROLES` too.

``address`` is one column, or a list of columns joined in order (house number, street,
lines); ``locality`` a town or suburb; ``shared_number`` a number two or more inputs hold
for the same person (an NHS number in hospital and GP data, a social security number),
compared across inputs with one mistyped character allowed.

``person_number`` is the source's own number for a person (NHS number in GP records,
National Insurance number in DWP records): compared only between two records of the same
source, where duplicates of one person share it and different people almost never do.
``household`` groups the people of one household (the census's household id): it is not
compared but feeds the household evidence (``linkage/household.py``).

``previous_postcodes`` is the record's earlier postcodes, newest first: a list column, or
text with the postcodes separated by ``|`` or ``;`` (a CSV file), or an address-history
table with one row per previous address (:class:`AddressHistory`). A postcode agreeing
with one of them is evidence for people who moved (``linkage/model.py``)."""

RECORD_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "origin",
    "record_id",
    "unique_people",
    "linkable",
    "forename",
    "forename_group",
    "middle_names",
    "surname",
    "surname_first",
    "surname_last",
    "name_key",
    "date_of_birth",
    "birth_year",
    "birth_date_text",
    "sex",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "postcode_area",
    "person_number",
    "household",
    "address",
    "address_tokens",
    "address_number",
    "locality",
    "shared_number",
    "previous_postcodes",
    "previous_postcode",
    "postcode_history",
)
"""Columns of the standardised record frame (``household`` is not compared by Splink).

``previous_postcodes`` is a list of standardised postcodes, newest first; ``previous_postcode``
its first (the address before the current one); ``postcode_history`` the current postcode
and the previous ones (every address the record knows)."""


@dataclass(frozen=True)
class AddressHistory:
    """A table of an input's previous addresses, one row per address.

    Parameters
    ----------
    path
        A Parquet or CSV file.
    record_id
        Column holding the input's record id the address belongs to.
    postcode
        Column holding the address's postcode.
    moved_out
        Column holding the date the person left the address, which orders the addresses
        (newest first); ``None`` keeps the file's order with the newest address last.
    """

    path: Path
    record_id: str
    postcode: str
    moved_out: str | None = None


HISTORY_COLUMN = "previous_postcodes"
"""Name of the column an :class:`AddressHistory` is read into."""


@dataclass(frozen=True)
class InputSpec:
    """One table to link and where its identifiers are.

    Parameters
    ----------
    name
        Source name written in the spine (``census``, ``gp``, ...).
    path
        A Parquet or CSV file.
    record_id
        Column holding the record id, unique within the table.
    columns
        Identifier role (see :data:`IDENTIFIERS`) to column name in the file; an
        ``address`` may be a tuple of columns, joined in order.
    unique_people
        True when the table holds at most one record per person (the census), so no two of
        its records are ever linked to each other.
    unlinkable_flag
        Optional boolean column marking records that carry no information about their
        person (the census's wholly imputed records); they stay in the spine, each its own
        cluster, and are never linked.
    date_format
        strftime patterns tried in order on a text date of birth; empty tries the common
        UK forms (:data:`linkage.standardise.DATE_FORMATS`).
    encoding
        Text encoding of a CSV file (a UTF-8 byte-order mark is dropped).
    delimiter
        Field delimiter of a CSV file; ``None`` sniffs it from the first lines.
    address_history
        A table of previous addresses, read into the ``previous_postcodes`` role (which
        ``columns`` then maps to :data:`HISTORY_COLUMN`).
    """

    name: str
    path: Path
    record_id: str
    columns: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    unique_people: bool = False
    unlinkable_flag: str | None = None
    date_format: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str | None = None
    address_history: AddressHistory | None = None

    def file_columns(self, role: str) -> tuple[str, ...]:
        """The file's columns mapped to ``role`` (several for a joined address)."""
        value = self.columns[role]
        return (value,) if isinstance(value, str) else tuple(value)

    def label(self, role: str) -> str:
        """The column (or columns, joined with +) mapped to ``role``, for messages."""
        return "+".join(self.file_columns(role))

    def read(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The file's table (only ``columns`` when given), read with this input's options."""
        return read_table(self.path, columns, encoding=self.encoding, delimiter=self.delimiter)


def project_inputs(sources_dir: Path) -> list[InputSpec]:
    """Specs of the project's census, GP and DWP extracts (``docs/data_contracts.md``)."""
    names = ("forename", "middle_names", "surname", "date_of_birth", "sex", "postcode")
    common = {role: role for role in names}
    no_middle = {k: v for k, v in common.items() if k != "middle_names"}
    return [
        InputSpec(
            "census",
            sources_dir / "census.parquet",
            "census_person_id",
            {**common, "household": "household_id"},
            unique_people=True,
            unlinkable_flag="wholly_imputed",
        ),
        InputSpec(
            "gp",
            sources_dir / "gp_registrations.parquet",
            "gp_record_id",
            {**common, "person_number": "nhs_number", **_history_role(sources_dir, "gp")},
            address_history=_project_history(sources_dir, "gp", "gp_record_id"),
        ),
        InputSpec(
            "dwp",
            sources_dir / "dwp_customers.parquet",
            "dwp_master_key",
            {**no_middle, "person_number": "nino", **_history_role(sources_dir, "dwp")},
            address_history=_project_history(sources_dir, "dwp", "dwp_master_key"),
        ),
    ]


def _history_path(sources_dir: Path, source: str) -> Path:
    return sources_dir / f"{source}_address_history.parquet"


def _history_role(sources_dir: Path, source: str) -> dict[str, str]:
    """The ``previous_postcodes`` role where the extract comes with its address history
    (worlds written before histories existed have none)."""
    return {HISTORY_COLUMN: HISTORY_COLUMN} if _history_path(sources_dir, source).exists() else {}


def _project_history(sources_dir: Path, source: str, record_id: str) -> AddressHistory | None:
    path = _history_path(sources_dir, source)
    return AddressHistory(path, record_id, "postcode", "to_date") if path.exists() else None


def _check_columns(spec: InputSpec, available: list[str]) -> None:
    mapped = [("record_id", spec.record_id)]
    mapped += [(role, column) for role in spec.columns for column in spec.file_columns(role)]
    for role, column in mapped:
        if role != "record_id" and role not in IDENTIFIERS:
            raise LinkageInputError(
                str(spec.path),
                column,
                f"unknown identifier role '{role}'; valid roles: {', '.join(IDENTIFIERS)}",
            )
        if column not in available:
            raise LinkageInputError(
                str(spec.path),
                column,
                f"missing column (mapped as {role}); the file has: {', '.join(available)}",
            )


_TEXT_ROLES = (
    "forename",
    "middle_names",
    "surname",
    "sex",
    "postcode",
    "person_number",
    "household",
    "address",
    "locality",
    "shared_number",
)
_NUMBER_ROLES = ("sex", "person_number", "household", "address", "shared_number")
"""Roles that may also arrive as integers (sex codes, NHS numbers, household numbers, a
house-number column of an address)."""


def _check_types(spec: InputSpec, schema: dict[str, pl.DataType]) -> None:
    for role in spec.columns:
        for column in spec.file_columns(role):
            dtype = schema[column]
            if role == "previous_postcodes":
                if not (dtype in (pl.Utf8, pl.Null) or dtype == pl.List(pl.Utf8)):
                    raise LinkageInputError(
                        str(spec.path),
                        column,
                        f"expected a list of postcodes or text separated by | or ;, found {dtype}",
                    )
            elif role == "date_of_birth":
                if not (dtype in (pl.Date, pl.Utf8, pl.Null) or isinstance(dtype, pl.Datetime)):
                    raise LinkageInputError(
                        str(spec.path), column, f"expected a date or date text, found {dtype}"
                    )
            elif role in _TEXT_ROLES and not (
                dtype in (pl.Utf8, pl.Null) or (role in _NUMBER_ROLES and dtype.is_integer())
            ):
                raise LinkageInputError(
                    str(spec.path), column, f"expected text for {role}, found {dtype}"
                )
    flag = spec.unlinkable_flag
    if flag is not None and schema[flag] != pl.Boolean:
        raise LinkageInputError(
            str(spec.path), flag, f"expected a boolean flag, found {schema[flag]}"
        )


MAX_TEXT_LENGTH = 255
"""Longest identifier text accepted: longer is a broken export, not a name or postcode (and
string comparisons cost time in proportion to the product of the lengths)."""


@dataclass
class SliceTally:
    """What the checks found over some rows of one input (a slice, or the slices so far):
    each role's missing and too-long values, the first rows holding one (0-based), and each
    column's repairs."""

    missing: dict[str, int] = field(default_factory=dict)
    too_long: dict[str, int] = field(default_factory=dict)
    too_long_rows: dict[str, list[int]] = field(default_factory=dict)
    repairs: list[RepairTally] = field(default_factory=list)

    def add(self, other: SliceTally) -> SliceTally:
        """These rows' tally and another's (in any order: first rows are kept sorted)."""

        def summed(mine: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
            return {k: mine.get(k, 0) + theirs.get(k, 0) for k in {**mine, **theirs}}

        rows = {
            role: sorted({*self.too_long_rows.get(role, []), *other.too_long_rows.get(role, [])})[
                :EXAMPLE_ROWS
            ]
            for role in {**self.too_long_rows, **other.too_long_rows}
        }
        repairs = (
            [a.add(b) for a, b in zip(self.repairs, other.repairs, strict=True)]
            if self.repairs and other.repairs
            else self.repairs or other.repairs
        )
        return SliceTally(
            summed(self.missing, other.missing),
            summed(self.too_long, other.too_long),
            rows,
            repairs,
        )

    def check(self, spec: InputSpec, height: int) -> None:
        """Refuse a mapped column every value of which is missing, or holding too long a
        value."""
        for role in spec.columns:
            column = spec.label(role)
            # Most records have no previous address: an empty history is no mapping mistake.
            if role == "previous_postcodes":
                continue
            if self.missing.get(role, 0) == height:
                raise LinkageInputError(
                    str(spec.path), column, f"every value is missing (mapped as {role})"
                )
            if self.too_long.get(role, 0):
                raise LinkageInputError(
                    str(spec.path),
                    column,
                    f"{self.too_long[role]} values are longer than {MAX_TEXT_LENGTH} "
                    f"characters (first rows: {self.too_long_rows[role]})",
                )


def _check_record_ids(spec: InputSpec, engine: SqlEngine) -> None:
    """Refuse missing or repeated record ids (counted by the engine over the whole column,
    from the view ``input_rows``)."""
    missing, sharing, rows = sql_steps.record_id_problems(engine, "input_rows", spec.record_id)
    if missing:
        raise LinkageInputError(str(spec.path), spec.record_id, f"{missing} record ids are missing")
    if sharing:
        raise LinkageInputError(
            str(spec.path),
            spec.record_id,
            f"{sharing} rows share a record id (first rows: {rows})",
        )


def _linkable(spec: InputSpec) -> pl.Expr:
    """True for records that may be linked (all, unless the input flags unlinkable ones)."""
    if spec.unlinkable_flag is None:
        return pl.lit(True)
    return ~pl.col(spec.unlinkable_flag).fill_null(False)


def _check_history(history: AddressHistory) -> None:
    available = table_columns(history.path)
    for role, column in (
        ("record_id", history.record_id),
        ("postcode", history.postcode),
        ("moved_out", history.moved_out),
    ):
        if column is not None and column not in available:
            raise LinkageInputError(
                str(history.path),
                column,
                f"missing column (address history's {role}); the file has: {', '.join(available)}",
            )


def _file_columns(spec: InputSpec) -> list[str]:
    """The columns read from the input's file: its record id, mapped columns and flag (a
    history role is read from its own table)."""
    mapped = [column for role in spec.columns for column in spec.file_columns(role)]
    if spec.address_history is not None:
        mapped = [column for column in mapped if column != HISTORY_COLUMN]
    flag = [spec.unlinkable_flag] if spec.unlinkable_flag else []
    return list(dict.fromkeys([spec.record_id, *mapped, *flag]))


def _check_mapping(spec: InputSpec) -> None:
    """Refuse a mapping to columns the file (or its address history) lacks."""
    available = table_columns(spec.path, encoding=spec.encoding, delimiter=spec.delimiter)
    if spec.address_history is not None:
        _check_history(spec.address_history)
        available = [*available, HISTORY_COLUMN]
    _check_columns(spec, available)
    if spec.unlinkable_flag is not None and spec.unlinkable_flag not in available:
        raise LinkageInputError(
            str(spec.path), spec.unlinkable_flag, "missing column (flag of unlinkable records)"
        )


def _as_parquet(path: Path, columns: list[str] | None, out: Path, **options: str | None) -> Path:
    """A Parquet file of the table to read in slices: a Parquet input as it is; a CSV file
    written as Parquet to ``out`` a batch of rows at a time (:func:`csv_to_parquet`)."""
    if path.suffix.lower() == ".parquet":
        return path
    if not path.exists():
        raise LinkageInputError(str(path), None, "file not found")
    if path.suffix.lower() not in CSV_SUFFIXES:
        raise LinkageInputError(str(path), None, "must be a .parquet or .csv file")
    csv_to_parquet(path, columns, out, **options)  # type: ignore[arg-type]
    return out


def _role_column(spec: InputSpec, role: str) -> pl.Expr:
    """A role's column, or its columns joined with spaces (an address in parts)."""
    columns = spec.file_columns(role)
    if len(columns) == 1:
        return pl.col(columns[0]).alias(role)
    parts = [pl.col(c).cast(pl.Utf8) for c in columns]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return pl.when(joined.str.strip_chars() != "").then(joined).alias(role)


# What one slice of an input needs, on the driver or on a Spark executor: plain functions
# of a polars frame of the input's file columns and ``file_row``, each row's position in the
# file (so the rows a refusal names, and the records' ids, do not depend on the slicing).


def slice_roles(spec: InputSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """A slice as the record id (text), its mapped roles and ``linkable``."""
    return frame.select(
        pl.col(spec.record_id).cast(pl.Utf8).alias("record_id"),
        *[_role_column(spec, role) for role in spec.columns],
        _linkable(spec).alias("linkable"),
    )


def slice_postcode_counts(spec: InputSpec, frame: pl.DataFrame) -> tuple[int, int]:
    """UK-shaped and recorded postcodes in a slice (see :func:`holds_uk_postcodes`)."""
    uk_shaped, recorded = frame.select(postcode_shape_counts(_role_column(spec, "postcode"))).row(0)
    return int(uk_shaped or 0), int(recorded or 0)


def _repair(
    spec: InputSpec, roles: pl.DataFrame, rows: pl.Series, uk_postcodes: bool | None
) -> tuple[pl.DataFrame, list[RepairTally]]:
    return repair_columns(
        roles,
        input_name=spec.name,
        columns={role: spec.label(role) for role in spec.columns},
        date_formats=spec.date_format,
        uk_postcodes=uk_postcodes,
        row_numbers=rows + 1,
    )


def slice_tally(
    spec: InputSpec, roles: pl.DataFrame, rows: pl.Series, uk_postcodes: bool | None
) -> SliceTally:
    """The checks of one slice (``roles`` from :func:`slice_roles`, ``rows`` its rows'
    positions in the file)."""
    tally = SliceTally()
    for role in spec.columns:
        values = roles.get_column(role)
        tally.missing[role] = values.null_count()
        if values.dtype == pl.Utf8:
            too_long = values.str.len_chars() > MAX_TEXT_LENGTH
            tally.too_long[role] = int(too_long.sum())
            tally.too_long_rows[role] = rows.filter(too_long).head(EXAMPLE_ROWS).to_list()
    tally.repairs = _repair(spec, roles, rows, uk_postcodes)[1]
    return tally


def slice_records(
    spec: InputSpec,
    roles: pl.DataFrame,
    rows: pl.Series,
    uk_postcodes: bool | None,
    first_id: int,
) -> pl.DataFrame:
    """One slice repaired and standardised into rows of the record frame, each record's
    ``unique_id`` the input's ``first_id`` plus its row's position."""
    repaired = _repair(spec, roles, rows, uk_postcodes)[0]
    return _standardised(spec, repaired, (rows + first_id).cast(pl.Int64))


@dataclass(frozen=True)
class CheckedInput:
    """An input that passed every check, ready to be standardised a slice at a time.

    ``table`` is the Parquet file its slices are read from (the input, or its CSV written
    as Parquet), ``history_lists`` the previous postcodes of each of its rows in order (on
    Spark the input's view holds them instead), ``uk_postcodes`` the postcode rule
    decided over the whole input."""

    spec: InputSpec
    table: Path
    columns: tuple[str, ...]
    rows: int
    history_lists: Path | None
    uk_postcodes: bool | None
    repairs: tuple[ColumnRepair, ...]


def _read_slice(path: Path, columns: list[str], start: int, length: int) -> pl.DataFrame:
    try:
        return pl.scan_parquet(path).select(columns).slice(start, length).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise LinkageInputError(str(path), None, f"cannot be read: {exc}") from None


def _local_slices(
    table: Path, columns: list[str], rows: int, history_lists: Path | None
) -> Iterator[pl.DataFrame]:
    """The input's file columns, ``file_row`` and (with a history) its previous postcodes,
    :data:`ROWS_PER_SLICE` rows at a time, read in the Python process."""
    for start in range(0, rows, ROWS_PER_SLICE):
        frame = _read_slice(table, columns, start, ROWS_PER_SLICE)
        frame = frame.with_columns(
            pl.int_range(start, start + frame.height, dtype=pl.Int64).alias("file_row")
        )
        if history_lists is not None:
            lists = _read_slice(history_lists, [HISTORY_COLUMN], start, ROWS_PER_SLICE)
            frame = frame.with_columns(lists.get_column(HISTORY_COLUMN))
        yield frame


def _postcode_rule(spec: InputSpec, counts: Callable[[], Iterable[tuple[int, int]]]) -> bool | None:
    """Whether the input holds UK postcodes, from every slice's ``counts`` (None when it
    maps no postcode)."""
    if "postcode" not in spec.columns:
        return None
    uk_shaped, recorded = 0, 0
    for uk, seen in counts():
        uk_shaped, recorded = uk_shaped + uk, recorded + seen
    return holds_uk_postcodes(uk_shaped, recorded)


def _history_lists(spec: InputSpec, engine: SqlEngine, scratch: Path) -> Path | None:
    """The address history's postcodes for each of the input's rows, by the engine (the
    view ``input_rows`` is the input): on Spark a view of the input with them; on DuckDB
    a file of them in the input's order."""
    history = spec.address_history
    if history is None:
        return None
    columns = [history.record_id, history.postcode] + (
        [history.moved_out] if history.moved_out else []
    )
    table = _as_parquet(history.path, columns, scratch / f"{spec.name}_history_input.parquet")
    engine.parquet_view("history_rows", table, row_numbers=True)
    sql_steps.make_history_lists(
        engine,
        history="history_rows",
        history_id=history.record_id,
        postcode=history.postcode,
        moved_out=history.moved_out,
    )
    if isinstance(engine, SparkSql):
        sql_steps.with_history_lists(
            engine, "input_rows", spec.record_id, _file_columns(spec), _spark_rows(spec)
        )
        return None
    lists = scratch / f"{spec.name}_history_lists.parquet"
    sql_steps.write_history_lists(engine, "input_rows", spec.record_id, lists)
    return lists


def check_input(
    spec: InputSpec,
    engine: SqlEngine,
    scratch: Path,
    *,
    max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE,
) -> CheckedInput:
    """Check one input in full, a slice at a time: its mapping and types, its record ids
    (by the engine), its values, and how many are unreadable (counted repairs; a column
    mostly unreadable is refused). On Spark the slices are checked by the executors.
    ``scratch`` receives a CSV input as Parquet and the address history's lists.

    Raises
    ------
    LinkageInputError
        The file is missing or empty, a mapped column is missing or of the wrong type, a
        record id is null or repeated, or a column is mostly unreadable.
    """
    _check_mapping(spec)
    columns = _file_columns(spec)
    options = {"encoding": spec.encoding, "delimiter": spec.delimiter}
    table = _as_parquet(spec.path, columns, scratch / f"{spec.name}_input.parquet", **options)
    schema = dict(pl.read_parquet_schema(table))
    if spec.address_history is not None:
        schema[HISTORY_COLUMN] = pl.List(pl.Utf8)
    _check_types(spec, schema)
    rows = pl.scan_parquet(table).select(pl.len()).collect().item()
    if rows == 0:
        raise LinkageInputError(str(spec.path), None, "the table is empty")
    engine.parquet_view("input_rows", table, row_numbers=True)
    if isinstance(engine, SparkSql) and spec.address_history is None:
        engine.view(_spark_rows(spec), "SELECT * FROM input_rows")
    _check_record_ids(spec, engine)
    history_lists = _history_lists(spec, engine, scratch)
    if isinstance(engine, SparkSql):
        frame = spark_batches.input_frame(engine, _spark_rows(spec), _batch_columns(spec))
        uk_postcodes = _postcode_rule(
            spec, partial(spark_batches.per_batch, frame, partial(slice_postcode_counts, spec))
        )
        tallies = spark_batches.per_batch(frame, partial(_tally_of, spec, uk_postcodes))
    else:
        slices = partial(_local_slices, table, columns, rows, history_lists)
        uk_postcodes = _postcode_rule(
            spec, lambda: (slice_postcode_counts(spec, part) for part in slices())
        )
        tallies = (_tally_of(spec, uk_postcodes, part) for part in slices())
    tally = reduce(SliceTally.add, tallies, SliceTally())
    tally.check(spec, rows)
    repairs = refuse_unreadable(
        tally.repairs, path=str(spec.path), max_invalid_share=max_invalid_share
    )
    return CheckedInput(
        spec, table, tuple(columns), rows, history_lists, uk_postcodes, tuple(repairs)
    )


def _batch_columns(spec: InputSpec) -> list[str]:
    """The columns each slice carries: the file's, ``file_row`` and any history lists."""
    history = [HISTORY_COLUMN] if spec.address_history is not None else []
    return [*_file_columns(spec), "file_row", *history]


def _spark_rows(spec: InputSpec) -> str:
    """The Spark view of an input's rows (with its history's lists), named safely for any
    input name."""
    return "input_rows_" + hashlib.sha256(spec.name.encode()).hexdigest()[:12]


def _tally_of(spec: InputSpec, uk_postcodes: bool | None, frame: pl.DataFrame) -> SliceTally:
    rows = frame.get_column("file_row")
    return slice_tally(spec, slice_roles(spec, frame), rows, uk_postcodes)


def _records_of(checked: CheckedInput, first_id: int, frame: pl.DataFrame) -> pl.DataFrame:
    spec, rows = checked.spec, frame.get_column("file_row")
    return slice_records(spec, slice_roles(spec, frame), rows, checked.uk_postcodes, first_id)


def _local_records(checked: CheckedInput, first_id: int) -> Iterator[pl.DataFrame]:
    """A checked input's records, a slice at a time, in the Python process."""
    slices = _local_slices(
        checked.table, list(checked.columns), checked.rows, checked.history_lists
    )
    for frame in slices:
        yield _records_of(checked, first_id, frame)


def load_input(
    spec: InputSpec, *, max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE
) -> tuple[pl.DataFrame, list[ColumnRepair]]:
    """Check one input and return it whole, repaired, with its columns renamed to their
    roles (:func:`check_input`): for small inputs and tests."""
    with _scratch_engine(None) as engine, tempfile.TemporaryDirectory() as folder:
        checked = check_input(spec, engine, Path(folder), max_invalid_share=max_invalid_share)
        parts = []
        for frame in _local_slices(
            checked.table, list(checked.columns), checked.rows, checked.history_lists
        ):
            roles = slice_roles(spec, frame)
            parts.append(
                _repair(spec, roles, frame.get_column("file_row"), checked.uk_postcodes)[0]
            )
    return pl.concat(parts), list(checked.repairs)


@contextmanager
def _scratch_engine(engine: SqlEngine | None) -> Iterator[SqlEngine]:
    """The given engine, or a DuckDB one of its own for the input checks."""
    if engine is not None:
        yield engine
        return
    with closing(connect(memory_limit="2GB", threads=2)) as con:
        yield DuckDBSql(con)


RECORD_SCHEMA: dict[str, pl.DataType] = {
    column: pl.Int64
    if column == "unique_id"
    else pl.Boolean
    if column in ("unique_people", "linkable")
    else pl.Date
    if column == "date_of_birth"
    else pl.Int32
    if column == "birth_year"
    else pl.List(pl.Utf8)
    if column in ("address_tokens", "previous_postcodes", "postcode_history")
    else pl.Utf8
    for column in RECORD_COLUMNS
}
"""The type of each column of the record frame: every input's slices, on either engine,
are written with it."""


def standardise_records(spec: InputSpec, raw: pl.DataFrame, first_id: int) -> pl.DataFrame:
    """Standardise one validated input (``raw``, as :func:`load_input` returns it) into
    rows of the record frame, ``unique_id`` counting from ``first_id``."""
    return _standardised(
        spec, raw, pl.int_range(first_id, first_id + raw.height, dtype=pl.Int64, eager=True)
    )


def _standardised(spec: InputSpec, raw: pl.DataFrame, unique_ids: pl.Series) -> pl.DataFrame:
    frame = raw
    for role in IDENTIFIERS:
        if role not in frame.columns:
            dtype = pl.Date if role == "date_of_birth" else pl.Utf8
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(role))
    frame = frame.with_columns(
        standardise_previous_postcodes(frame.get_column("previous_postcodes"))
    )
    frame = standardise_names(frame)
    frame = frame.with_columns(
        unique_ids.alias("unique_id"),
        pl.lit(spec.name).alias("source"),
        pl.lit(spec.name).alias("origin"),
        pl.lit(spec.unique_people).alias("unique_people"),
        pl.col("date_of_birth").dt.year().alias("birth_year"),
        pl.col("date_of_birth").dt.strftime("%Y%m%d").alias("birth_date_text"),
        standardise_sex(pl.col("sex")).alias("sex"),
        forename_group(pl.col("forename")).alias("forename_group"),
        standardise_person_number(pl.col("person_number")).alias("person_number"),
        standardise_person_number(pl.col("shared_number")).alias("shared_number"),
        standardise_place(pl.col("address")).alias("address"),
        standardise_place(pl.col("locality")).alias("locality"),
        # Household ids are only meaningful within their source.
        pl.format("{}:{}", pl.lit(spec.name), pl.col("household").cast(pl.Utf8)).alias("household"),
    ).with_columns(*postcode_parts(), *address_parts(), *history_parts())
    return frame.select(RECORD_COLUMNS).cast(RECORD_SCHEMA)


@dataclass
class InputReport:
    """What reading the inputs repaired and what it found mostly missing."""

    repairs: list[ColumnRepair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records_by_source: dict[str, int] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Records read, over every input."""
        return sum(self.records_by_source.values())

    def as_dict(self) -> dict[str, list]:
        """For ``linkage_summary.json``: repairs per input and column, and the warnings."""
        return {
            "repairs": [r.as_dict() for r in self.repairs if r.invalid],
            "warnings": list(self.warnings),
        }


MOSTLY_MISSING = 0.5
"""A mapped role missing from more than this share of an input's records is warned about:
the comparison can still use it, but it carries little evidence."""


def _missing_warnings(
    spec: InputSpec, missing: dict[str, int], height: int, repairs: list[ColumnRepair]
) -> list[str]:
    """A warning, with the reason, for each mapped role mostly missing after standardising
    (``missing``: the role's missing values among the input's ``height`` records)."""
    repaired = {r.role: r for r in repairs}
    warnings = []
    for role in spec.columns:
        column = spec.label(role)
        # Middle names are blank for many people, and a household id is not compared.
        if role in ("household", "middle_names", "previous_postcodes"):
            continue
        if role not in missing or missing[role] <= MOSTLY_MISSING * height:
            continue
        invalid = repaired[role].invalid if role in repaired else 0
        warnings.append(
            f"input '{spec.name}', column '{column}' ({role}): {missing[role]} of {height} "
            f"records missing after standardisation ({invalid} unreadable, the rest blank "
            "or placeholders); it carries little evidence"
        )
    return warnings


ROWS_PER_SLICE = 250_000
"""Rows standardised at a time. The standardised columns (name tokens, postcode parts,
address words, postcode histories) take several times the memory of the raw ones, so each
input is standardised and written in slices of this many rows and the record frame is never
held whole."""


def _write_standardised(
    checked: list[CheckedInput], path: Path, engine: SqlEngine, scratch: Path
) -> None:
    """Standardise the checked inputs, a slice at a time, into one Parquet file of the
    record frame: on Spark by the executors (Spark sorts the records by ``unique_id`` and
    the driver streams the part files into ``path``), else in the Python process."""
    first_ids = [sum(one.rows for one in checked[:i]) for i in range(len(checked))]
    if isinstance(engine, SparkSql):
        parts = [
            spark_batches.frames_per_batch(
                spark_batches.input_frame(engine, _spark_rows(one.spec), _batch_columns(one.spec)),
                partial(_records_of, one, first_id),
                RECORD_SCHEMA,
            )
            for one, first_id in zip(checked, first_ids, strict=True)
        ]
        spark_batches.write_sorted(parts, "unique_id", path, scratch)
        return
    write_frames(
        (
            part
            for one, first_id in zip(checked, first_ids, strict=True)
            for part in _local_records(one, first_id)
        ),
        path,
    )


def write_records(
    specs: list[InputSpec],
    path: Path,
    *,
    max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE,
    engine: SqlEngine | None = None,
) -> InputReport:
    """Check every input, then standardise and stack them into one Parquet file of the
    record frame (:data:`RECORD_COLUMNS`), ``unique_id`` running 0..n-1 in input order.

    All inputs are checked before any is standardised, so a bad file stops the run early
    and writes nothing. Checking and standardising work on slices of each input; what needs
    a whole column (repeated record ids, joining an address history, the missing values
    after standardising) runs on ``engine``, the stage's DuckDB or Spark (a DuckDB
    connection of its own when none is given). On DuckDB the slices are of
    :data:`ROWS_PER_SLICE` rows, in the Python process; on Spark they are the executors'
    Arrow batches. Either way no process holds a whole input. Repairs and warnings are
    logged (counts and column names only) and returned with the records per input.
    """
    names = [s.name for s in specs]
    if len(specs) < 2 and not any(not s.unique_people for s in specs):
        raise LinkageInputError("inputs", None, "link at least two inputs or one to deduplicate")
    if len(set(names)) != len(names):
        raise LinkageInputError("inputs", None, f"input names must be unique: {names}")
    report = InputReport()
    with (
        _scratch_engine(engine) as sql,
        tempfile.TemporaryDirectory(prefix=".inputs-", dir=path.parent) as folder,
    ):
        scratch = Path(folder)
        checked = [
            check_input(spec, sql, scratch, max_invalid_share=max_invalid_share) for spec in specs
        ]
        _write_standardised(checked, path, sql, scratch)
        sql.parquet_view("written_records", path)
        roles = sorted({role for spec in specs for role in spec.columns})
        missing = sql_steps.missing_by_source(sql, "written_records", roles)
    for one in checked:
        report.records_by_source[one.spec.name] = one.rows
        report.repairs.extend(one.repairs)
        report.warnings.extend(
            _missing_warnings(one.spec, missing.get(one.spec.name, {}), one.rows, list(one.repairs))
        )
    for repair in report.repairs:
        if repair.invalid:
            logger.warning(
                "Input '%s', column '%s': %d of %d values are not %s; made missing",
                repair.input,
                repair.column,
                repair.invalid,
                repair.recorded,
                repair.rule,
            )
    for warning in report.warnings:
        logger.warning(warning)
    return report


def read_inputs(
    specs: list[InputSpec], *, max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE
) -> tuple[pl.DataFrame, InputReport]:
    """:func:`write_records`, with the record frame read back into memory (for small inputs
    and tests; the linkage stage keeps it on disk)."""
    with tempfile.TemporaryDirectory(prefix="triangulate-records-") as folder:
        path = Path(folder) / "records.parquet"
        report = write_records(specs, path, max_invalid_share=max_invalid_share)
        return pl.read_parquet(path), report


def build_records(specs: list[InputSpec]) -> pl.DataFrame:
    """The stacked, standardised record frame of the inputs (see :func:`read_inputs`)."""
    return read_inputs(specs)[0]
