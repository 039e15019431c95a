"""Reading an input file as it comes: Parquet, or CSV in any encoding and delimiter.

A CSV file is decoded with the input's ``encoding`` (UTF-8 by default; a byte-order mark is
dropped), its delimiter is the input's ``delimiter`` or, when absent, sniffed from its first
lines, and every line must hold as many fields as the header: a ragged line is named by its
line number rather than left for the parser to misread. Every column arrives as text.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import polars as pl

from linkage.errors import LinkageInputError

SNIFFED_DELIMITERS = ",;\t|"
"""Delimiters the sniffer chooses between; a comma when it cannot tell."""

SNIFF_CHARACTERS = 64_000
"""Characters of the file's start the sniffer reads (whole lines only)."""


def decode_text(path: Path, encoding: str) -> str:
    """The file's text in ``encoding``, without a byte-order mark.

    Raises
    ------
    LinkageInputError
        The file is empty, the encoding is unknown or the bytes are not valid in it.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise LinkageInputError(str(path), None, "empty CSV file (no header line)")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise LinkageInputError(str(path), None, f"unknown encoding '{encoding}'") from None
    # A UTF-8 file written by Excel starts with a byte-order mark that would join the first
    # column's name; utf-8-sig drops it and reads files without one alike.
    if codec == "utf-8":
        codec = "utf-8-sig"
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LinkageInputError(
            str(path),
            None,
            f"invalid {encoding} text on line {line} (byte {exc.start}); give the input's "
            "encoding in the mapping (cp1252 and latin-1 are common in UK exports)",
        ) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text, sniffed among :data:`SNIFFED_DELIMITERS` (comma when
    the sample does not decide)."""
    sample = text[:SNIFF_CHARACTERS]
    if len(text) > SNIFF_CHARACTERS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFFED_DELIMITERS).delimiter
    except csv.Error:
        return ","


def check_ragged(path: Path, text: str, delimiter: str) -> list[str]:
    """The header of a CSV text; every other non-blank line must have as many fields.

    Raises
    ------
    LinkageInputError
        A line holds more or fewer fields than the header, named by its line number.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    for row in reader:
        if len(row) != len(header) and any(field.strip() for field in row):
            raise LinkageInputError(
                str(path),
                None,
                f"line {reader.line_num} has {len(row)} fields but the header has "
                f"{len(header)} (delimiter {delimiter!r}): a ragged or wrongly quoted line",
            )
    return header


def read_csv_text(
    path: Path, columns: list[str] | None, *, encoding: str, delimiter: str | None
) -> pl.DataFrame:
    """Read a CSV file as text columns after decoding, sniffing and the ragged-line check."""
    text = decode_text(path, encoding)
    separator = delimiter or sniff_delimiter(text)
    header = check_ragged(path, text, separator)
    frame = pl.read_csv(text.encode("utf-8"), separator=separator, infer_schema=False)
    # Some exports pad the header ("rec_id, given_name"): names are matched without it.
    frame.columns = (
        [name.strip() for name in header] if len(header) == frame.width else frame.columns
    )
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise pl.exceptions.ColumnNotFoundError(", ".join(missing))
        frame = frame.select(columns)
    # Blank lines (often at the end of an export) are read as rows with every field empty.
    return frame.filter(~pl.all_horizontal(pl.all().is_null()))


def read_table(
    path: Path,
    columns: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> pl.DataFrame:
    """Read a Parquet or CSV file (CSV columns arrive as text).

    Raises
    ------
    LinkageInputError
        The file is missing, unreadable, of another type, or lacks a requested column.
    """
    if not path.exists():
        raise LinkageInputError(str(path), None, "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path, columns=columns)
        if suffix in (".csv", ".txt", ".tsv"):
            return read_csv_text(path, columns, encoding=encoding, delimiter=delimiter)
    except pl.exceptions.ColumnNotFoundError as exc:
        raise LinkageInputError(str(path), None, f"column not found: {exc}") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise LinkageInputError(str(path), None, f"cannot be read: {exc}") from None
    raise LinkageInputError(str(path), None, "must be a .parquet or .csv file")


def table_columns(
    path: Path, *, encoding: str = "utf-8", delimiter: str | None = None
) -> list[str]:
    """Column names of a Parquet or CSV file (a Parquet file's schema only is read)."""
    if path.suffix.lower() == ".parquet" and path.exists():
        try:
            return list(pl.read_parquet_schema(path))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise LinkageInputError(
                str(path), None, f"cannot be read as Parquet (truncated or corrupt?): {exc}"
            ) from None
    return read_table(path, encoding=encoding, delimiter=delimiter).columns
