"""Reading, validating and standardising the tables to link into one record frame.

Every input is described by an :class:`InputSpec` (which column holds which identifier);
the project's own extracts have fixed specs (:func:`project_inputs`), and the ``link``
command builds specs from a user's mapping file. All checks run before any training, and
an error names the file, the column and the problem.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from linkage.errors import LinkageInputError
from linkage.model import PROJECT_ROLES
from linkage.reading import read_table, table_columns
from linkage.repairs import DEFAULT_MAX_INVALID_SHARE, ColumnRepair, repair_values
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

    def previous_postcodes(self) -> pl.DataFrame:
        """``record_id`` and ``previous_postcodes`` (a list, newest first) per record."""
        columns = [self.record_id, self.postcode] + ([self.moved_out] if self.moved_out else [])
        table = read_table(self.path, columns).with_row_index("_order")
        order = [self.moved_out, "_order"] if self.moved_out else ["_order"]
        return (
            table.sort(order, descending=True, nulls_last=False)
            .group_by(self.record_id, maintain_order=True)
            .agg(pl.col(self.postcode).cast(pl.Utf8).alias(HISTORY_COLUMN))
            .select(pl.col(self.record_id).cast(pl.Utf8).alias("_history_id"), HISTORY_COLUMN)
        )


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


def _check_types(spec: InputSpec, frame: pl.DataFrame) -> None:
    for role in spec.columns:
        for column in spec.file_columns(role):
            dtype = frame.schema[column]
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


MAX_TEXT_LENGTH = 255
"""Longest identifier text accepted: longer is a broken export, not a name or postcode (and
string comparisons cost time in proportion to the product of the lengths)."""


def _check_values(spec: InputSpec, frame: pl.DataFrame) -> None:
    for role in spec.columns:
        column = spec.label(role)
        values = frame.get_column(role)
        # Most records have no previous address: an empty history is no mapping mistake.
        if role == "previous_postcodes":
            continue
        if values.null_count() == frame.height:
            raise LinkageInputError(
                str(spec.path), column, f"every value is missing (mapped as {role})"
            )
        if values.dtype == pl.Utf8:
            too_long = values.str.len_chars() > MAX_TEXT_LENGTH
            if too_long.any():
                rows = too_long.arg_true().head(5).to_list()
                raise LinkageInputError(
                    str(spec.path),
                    column,
                    f"{int(too_long.sum())} values are longer than {MAX_TEXT_LENGTH} "
                    f"characters (first rows: {rows})",
                )


def _check_record_ids(spec: InputSpec, frame: pl.DataFrame) -> pl.Series:
    ids = frame.get_column(spec.record_id).cast(pl.Utf8)
    if ids.null_count():
        raise LinkageInputError(
            str(spec.path), spec.record_id, f"{ids.null_count()} record ids are missing"
        )
    duplicated = ids.is_duplicated()
    if duplicated.any():
        rows = duplicated.arg_true().head(5).to_list()
        raise LinkageInputError(
            str(spec.path),
            spec.record_id,
            f"{int(duplicated.sum())} rows share a record id (first rows: {rows})",
        )
    return ids


def _linkable(spec: InputSpec, frame: pl.DataFrame) -> pl.Expr:
    """True for records that may be linked (all, unless the input flags unlinkable ones)."""
    if spec.unlinkable_flag is None:
        return pl.lit(True)
    if frame.schema[spec.unlinkable_flag] != pl.Boolean:
        raise LinkageInputError(
            str(spec.path),
            spec.unlinkable_flag,
            f"expected a boolean flag, found {frame.schema[spec.unlinkable_flag]}",
        )
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


def _read_mapped_columns(spec: InputSpec) -> pl.DataFrame:
    """The record id, mapped and flag columns of an input, checked to exist and not empty."""
    available = table_columns(spec.path, encoding=spec.encoding, delimiter=spec.delimiter)
    if spec.address_history is not None:
        _check_history(spec.address_history)
        available = [*available, HISTORY_COLUMN]
    _check_columns(spec, available)
    if spec.unlinkable_flag is not None and spec.unlinkable_flag not in available:
        raise LinkageInputError(
            str(spec.path), spec.unlinkable_flag, "missing column (flag of unlinkable records)"
        )
    flag = [spec.unlinkable_flag] if spec.unlinkable_flag else []
    mapped = [column for role in spec.columns for column in spec.file_columns(role)]
    if spec.address_history is not None:
        mapped = [column for column in mapped if column != HISTORY_COLUMN]
    frame = spec.read(list(dict.fromkeys([spec.record_id, *mapped, *flag])))
    if frame.height == 0:
        raise LinkageInputError(str(spec.path), None, "the table is empty")
    return _with_history(spec, frame)


def _with_history(spec: InputSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """The input with its address history's postcodes as a list column (empty for a record
    with no previous address)."""
    if spec.address_history is None:
        return frame
    history = spec.address_history.previous_postcodes()
    ids = pl.col(spec.record_id).cast(pl.Utf8)
    return (
        frame.with_columns(ids.alias("_history_id"))
        .join(history, on="_history_id", how="left", maintain_order="left")
        .drop("_history_id")
    )


def _role_column(spec: InputSpec, role: str) -> pl.Expr:
    """A role's column, or its columns joined with spaces (an address in parts)."""
    columns = spec.file_columns(role)
    if len(columns) == 1:
        return pl.col(columns[0]).alias(role)
    parts = [pl.col(c).cast(pl.Utf8) for c in columns]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return pl.when(joined.str.strip_chars() != "").then(joined).alias(role)


def load_input(
    spec: InputSpec, *, max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE
) -> tuple[pl.DataFrame, list[ColumnRepair]]:
    """Read and validate one input, returning its raw columns renamed to their roles, with
    unreadable dates, postcodes and numbers made missing, and those repairs counted.

    Raises
    ------
    LinkageInputError
        The file is missing or empty, a mapped column is missing or of the wrong type, a
        record id is null or repeated, or a column is mostly unreadable.
    """
    frame = _read_mapped_columns(spec)
    _check_types(spec, frame)
    ids = _check_record_ids(spec, frame)
    out = frame.select(
        ids.alias("record_id"),
        *[_role_column(spec, role) for role in spec.columns],
        _linkable(spec, frame).alias("linkable"),
    )
    _check_values(spec, out)
    return repair_values(
        out,
        input_name=spec.name,
        path=str(spec.path),
        columns={role: spec.label(role) for role in spec.columns},
        date_formats=spec.date_format,
        max_invalid_share=max_invalid_share,
    )


def standardise_records(spec: InputSpec, raw: pl.DataFrame, first_id: int) -> pl.DataFrame:
    """Standardise one validated input into rows of the record frame."""
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
        pl.int_range(first_id, first_id + frame.height, dtype=pl.Int64).alias("unique_id"),
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
    return frame.select(RECORD_COLUMNS)


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


class _RecordWriter:
    """Appends slices of the record frame to one Parquet file, all with the first slice's
    schema."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, part: pl.DataFrame) -> None:
        table = part.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _write_standardised(
    spec: InputSpec, raw: pl.DataFrame, first_id: int, writer: _RecordWriter
) -> dict[str, int]:
    """Standardise one validated input slice by slice into ``writer``; return each role's
    missing values after standardising."""
    missing: dict[str, int] = {}
    for start in range(0, raw.height, ROWS_PER_SLICE):
        part = standardise_records(spec, raw.slice(start, ROWS_PER_SLICE), first_id + start)
        for role in spec.columns:
            if role in part.columns:
                missing[role] = missing.get(role, 0) + part.get_column(role).null_count()
        writer.write(part)
    return missing


def write_records(
    specs: list[InputSpec],
    path: Path,
    *,
    max_invalid_share: float = DEFAULT_MAX_INVALID_SHARE,
) -> InputReport:
    """Validate every input, then standardise and stack them into one Parquet file of the
    record frame (:data:`RECORD_COLUMNS`), ``unique_id`` running 0..n-1 in input order.

    All inputs are validated before any is standardised, so a bad file stops the run early
    and writes nothing. Each input is standardised in slices of :data:`ROWS_PER_SLICE`
    rows, so only its raw columns are held whole. Repairs and warnings are logged (counts
    and column names only) and returned with the records per input.
    """
    names = [s.name for s in specs]
    if len(specs) < 2 and not any(not s.unique_people for s in specs):
        raise LinkageInputError("inputs", None, "link at least two inputs or one to deduplicate")
    if len(set(names)) != len(names):
        raise LinkageInputError("inputs", None, f"input names must be unique: {names}")
    loaded = [load_input(spec, max_invalid_share=max_invalid_share) for spec in specs]
    report = InputReport()
    writer, next_id = _RecordWriter(path), 0
    try:
        for index, spec in enumerate(specs):
            raw, repairs = loaded[index]
            # Dropped once written: the inputs' raw columns are held only until then.
            loaded[index] = (pl.DataFrame(), repairs)
            missing = _write_standardised(spec, raw, next_id, writer)
            report.records_by_source[spec.name] = raw.height
            next_id += raw.height
            report.repairs.extend(repairs)
            report.warnings.extend(_missing_warnings(spec, missing, raw.height, repairs))
            del raw
    finally:
        writer.close()
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
