"""Reading an input file as it comes: Parquet, or CSV in any encoding and delimiter.

A CSV file is decoded with the input's ``encoding`` (UTF-8 by default; a byte-order mark is
dropped), its delimiter is the input's ``delimiter`` or, when absent, sniffed from its first
lines, and every line must hold as many fields as the header: a ragged line is named by its
line number rather than left for the parser to misread. Every column arrives as text.

A CSV file is read a line and a batch of rows at a time (:func:`csv_batches`), so the
checks never hold the whole text: :func:`csv_to_parquet` writes an input of any size as
Parquet holding one batch, and :func:`read_csv_text` gathers the same batches into a frame.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from common.parquet import write_frames
from linkage.errors import LinkageInputError

SNIFFED_DELIMITERS = ",;\t|"
"""Delimiters the sniffer chooses between; a comma when it cannot tell."""

SNIFF_CHARACTERS = 64_000
"""Characters of the file's start the sniffer reads (whole lines only)."""


CSV_SUFFIXES = (".csv", ".txt", ".tsv")
"""File names read as CSV."""

BATCH_ROWS = 100_000
"""Rows of a CSV file held at a time."""


def _codec(path: Path, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise LinkageInputError(str(path), None, f"unknown encoding '{encoding}'") from None
    # A UTF-8 file written by Excel starts with a byte-order mark that would join the first
    # column's name; utf-8-sig drops it and reads files without one alike.
    return "utf-8-sig" if codec == "utf-8" else codec


def _invalid_text(path: Path, encoding: str, line: int, byte: int) -> LinkageInputError:
    return LinkageInputError(
        str(path),
        None,
        f"invalid {encoding} text on line {line} (byte {byte}); give the input's "
        "encoding in the mapping (cp1252 and latin-1 are common in UK exports)",
    )


def decode_text(path: Path, encoding: str) -> str:
    """The file's text in ``encoding``, without a byte-order mark (whole: for encodings in
    which a line break is not the byte ``\\n``, such as UTF-16).

    Raises
    ------
    LinkageInputError
        The encoding is unknown or the bytes are not valid in it.
    """
    codec = _codec(path, encoding)
    raw = path.read_bytes()
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _invalid_text(path, encoding, line, exc.start) from None


def _lines_safe(codec: str) -> bool:
    """Whether the codec writes ASCII as ASCII, so a file splits into lines at ``\\n``."""
    return "a\n".encode(codec.removesuffix("-sig")) == b"a\n"


def decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines (with their line breaks) in ``encoding``, one at a time, without a
    byte-order mark; a line that is not valid in the encoding is named with its byte.

    Raises
    ------
    LinkageInputError
        The encoding is unknown or a line's bytes are not valid in it.
    """
    codec = _codec(path, encoding)
    if not _lines_safe(codec):
        yield from io.StringIO(decode_text(path, encoding), newline="")
        return
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                # utf-8-sig drops a byte-order mark at the start of what it decodes: the
                # first line only may hold one.
                yield raw.decode(codec if number == 1 else codec.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise _invalid_text(path, encoding, number, offset + exc.start) from None
            offset += len(raw)


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


def _column_names(header: list[str]) -> list[str]:
    """The header's names without padding ("rec_id, given_name"); a repeated name gets the
    suffix polars gives it (``name_duplicated_0``)."""
    names: list[str] = []
    for name in (field.strip() for field in header):
        repeats = sum(1 for seen in names if seen == name or seen.startswith(f"{name}_duplicated_"))
        names.append(f"{name}_duplicated_{repeats - 1}" if repeats else name)
    return names


def _batch(names: list[str], rows: list[list[str]], columns: list[str] | None) -> pl.DataFrame:
    """Rows of text as a frame; an empty field is missing."""
    values = zip(*rows, strict=True) if rows else [()] * len(names)
    frame = pl.DataFrame(
        {name: [v or None for v in column] for name, column in zip(names, values, strict=True)},
        schema=dict.fromkeys(names, pl.Utf8),
    )
    return frame if columns is None else frame.select(columns)


def _first_lines(lines: Iterator[str]) -> list[str]:
    """Whole lines from the start, just over :data:`SNIFF_CHARACTERS` (for the sniffer)."""
    sample: list[str] = []
    size = 0
    for line in lines:
        sample.append(line)
        size += len(line)
        if size > SNIFF_CHARACTERS:
            break
    return sample


def _checked_rows(
    path: Path, reader: Any, header: list[str], separator: str
) -> Iterator[list[str]]:
    """The reader's rows of as many fields as the header; blank lines and rows of empty
    fields are left out, and any other row of another length is refused by line number."""
    for row in _rows(path, reader):
        if not any(field.strip() for field in row) and (len(row) != len(header) or not any(row)):
            continue
        if len(row) != len(header):
            raise LinkageInputError(
                str(path),
                None,
                f"line {reader.line_num} has {len(row)} fields but the header has "
                f"{len(header)} (delimiter {separator!r}): a ragged or wrongly quoted line",
            )
        yield row


def csv_batches(
    path: Path, columns: list[str] | None, *, encoding: str, delimiter: str | None
) -> Iterator[pl.DataFrame]:
    """A CSV file as frames of at most :data:`BATCH_ROWS` rows of text columns (at least
    one frame, empty for a file of a header only), after decoding, sniffing and the
    ragged-line check; blank lines and rows of empty fields are left out.

    Raises
    ------
    LinkageInputError
        The file is empty, its encoding is unknown or its bytes invalid in it, or a line
        holds more or fewer fields than the header, named by its line number.
    polars.exceptions.ColumnNotFoundError
        A requested column is not in the header.
    """
    lines = decoded_lines(path, encoding)
    sample = _first_lines(lines)
    text = "".join(sample)
    if not text.strip():
        raise LinkageInputError(str(path), None, "empty CSV file (no header line)")
    separator = delimiter or sniff_delimiter(text)
    reader = csv.reader(itertools.chain(sample, lines), delimiter=separator)
    header = next(reader)
    names = _column_names(header)
    missing = [c for c in columns or [] if c not in names]
    if missing:
        raise pl.exceptions.ColumnNotFoundError(", ".join(missing))
    rows: list[list[str]] = []
    batches = 0
    for row in _checked_rows(path, reader, header, separator):
        rows.append(row)
        if len(rows) == BATCH_ROWS:
            yield _batch(names, rows, columns)
            rows, batches = [], batches + 1
    if rows or not batches:
        yield _batch(names, rows, columns)


def _rows(path: Path, reader: Any) -> Iterator[list[str]]:
    """The reader's rows; what the csv module cannot parse (a NUL byte, a field beyond its
    size limit) is named with its line."""
    try:
        yield from reader
    except csv.Error as exc:
        raise LinkageInputError(
            str(path), None, f"line {reader.line_num + 1} cannot be read as CSV ({exc})"
        ) from None


def read_csv_text(
    path: Path, columns: list[str] | None, *, encoding: str, delimiter: str | None
) -> pl.DataFrame:
    """Read a CSV file as text columns (:func:`csv_batches`, gathered)."""
    return pl.concat(csv_batches(path, columns, encoding=encoding, delimiter=delimiter))


def csv_to_parquet(
    path: Path,
    columns: list[str] | None,
    out: Path,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> None:
    """Write a CSV file's text columns to ``out`` as Parquet, a batch at a time.

    Raises
    ------
    LinkageInputError
        As :func:`read_table` says of a CSV file.
    """
    try:
        write_frames(csv_batches(path, columns, encoding=encoding, delimiter=delimiter), out)
    except pl.exceptions.ColumnNotFoundError as exc:
        raise LinkageInputError(str(path), None, f"column not found: {exc}") from None
    except OSError as exc:
        raise LinkageInputError(str(path), None, f"cannot be read: {exc}") from None


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
        if suffix in CSV_SUFFIXES:
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
