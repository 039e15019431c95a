"""Linking anyone's CSV or Parquet files with a column mapping (the ``link`` command).

The mapping is a YAML file with one entry per input name (see ``docs/linkage.md``)::

    census:
      record_id: person_ref
      forename: first_name
      surname: last_name
      date_of_birth: dob
      sex: gender
      postcode: post_code
      one_record_per_person: true
    hospital:
      date_format: ["%m/%d/%Y", "%Y%m%d"]   # tried in order; default: ISO and UK forms
      encoding: cp1252                     # default utf-8 (a byte-order mark is dropped)
      delimiter: ";"                       # default: sniffed from the first lines
      record_id: episode_id
      forename: given
      surname: family
      date_of_birth: birth_date
      address: [house_number, street]      # one column, or several joined in order
      locality: town
      shared_number: nhs_number            # held by two or more inputs for one person
      previous_postcodes: old_postcodes    # earlier postcodes, newest first ("A|B" or a list)
    gp:
      record_id: patient_id
      postcode: postcode
      address_history:                     # or a table with one row per previous address
        file: gp_history.csv               # relative to the mapping file
        record_id: patient_id
        postcode: postcode
        moved_out: to_date                 # optional: orders the addresses, newest first
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import yaml

from linkage.config import LinkageConfig
from linkage.errors import LinkageInputError
from linkage.inputs import HISTORY_COLUMN, IDENTIFIERS, AddressHistory, InputSpec
from linkage.pipeline import link_records

FLAG = "one_record_per_person"
FILE_OPTIONS: tuple[str, ...] = ("date_format", "encoding", "delimiter", "address_history")
"""How an input's file is written, given beside its roles (see :class:`InputSpec`)."""


def _load_mapping(path: Path) -> dict[str, Any]:
    try:
        mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LinkageInputError(str(path), None, "mapping file not found") from None
    except yaml.YAMLError as exc:
        raise LinkageInputError(str(path), None, f"not valid YAML: {exc}") from None
    if not isinstance(mapping, dict):
        raise LinkageInputError(str(path), None, "must map each input name to its columns")
    return mapping


def _file_options(path: Path, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Pop and check an entry's file options: date formats, encoding, delimiter."""
    options: dict[str, Any] = {}
    formats = entry.pop("date_format", None)
    if formats is not None:
        formats = [formats] if isinstance(formats, str) else formats
        if not isinstance(formats, list) or not all(
            isinstance(f, str) and "%" in f for f in formats
        ):
            raise LinkageInputError(
                str(path),
                None,
                f"input '{name}': date_format must be a strftime pattern such as '%m/%d/%Y' "
                "or a list of them",
            )
        options["date_format"] = tuple(formats)
    encoding = entry.pop("encoding", None)
    if encoding is not None:
        options["encoding"] = str(encoding)
    delimiter = entry.pop("delimiter", None)
    if delimiter is not None:
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise LinkageInputError(
                str(path), None, f"input '{name}': delimiter must be one character"
            )
        options["delimiter"] = delimiter
    return options


HISTORY_KEYS = ("file", "record_id", "postcode", "moved_out")


def _address_history(path: Path, name: str, entry: dict[str, Any]) -> AddressHistory | None:
    """Pop and check an entry's address-history table (its file relative to the mapping)."""
    history = entry.pop("address_history", None)
    if history is None:
        return None
    if not isinstance(history, dict) or not all(history.get(k) for k in HISTORY_KEYS[:3]):
        raise LinkageInputError(
            str(path),
            None,
            f"input '{name}': address_history needs file, record_id and postcode "
            "(and optionally moved_out)",
        )
    unknown = sorted(set(history) - set(HISTORY_KEYS))
    if unknown:
        raise LinkageInputError(
            str(path), None, f"input '{name}': address_history has unknown keys {unknown}"
        )
    if HISTORY_COLUMN in entry:
        raise LinkageInputError(
            str(path),
            None,
            f"input '{name}': map previous_postcodes or give an address_history, not both",
        )
    moved_out = history.get("moved_out")
    return AddressHistory(
        Path(path).parent / str(history["file"]),
        str(history["record_id"]),
        str(history["postcode"]),
        str(moved_out) if moved_out else None,
    )


def _mapped_columns(path: Path, name: str, role: str, value: Any) -> str | tuple[str, ...]:
    """One column, or for an address a list of columns joined in order."""
    if isinstance(value, list):
        if role != "address" or not value or not all(isinstance(v, str) for v in value):
            raise LinkageInputError(
                str(path), None, f"input '{name}': only address may list several columns"
            )
        return tuple(value)
    return str(value)


def _input_spec(path: Path, name: str, file: Path, entry: Any, mapped: list[str]) -> InputSpec:
    if not isinstance(entry, dict):
        raise LinkageInputError(
            str(path), None, f"no mapping for input '{name}' (mapped: {mapped})"
        )
    entry = dict(entry)
    unique = bool(entry.pop(FLAG, False))
    options = _file_options(path, name, entry)
    history = _address_history(path, name, entry)
    record_id = entry.pop("record_id", None)
    if not record_id:
        raise LinkageInputError(str(path), None, f"input '{name}' needs a record_id column")
    unknown = sorted(set(entry) - set(IDENTIFIERS))
    if unknown:
        raise LinkageInputError(
            str(path),
            None,
            f"input '{name}' maps unknown roles {unknown}; valid roles: record_id, "
            f"{', '.join(IDENTIFIERS)}, {FLAG}, {', '.join(FILE_OPTIONS)}",
        )
    columns = {role: _mapped_columns(path, name, role, col) for role, col in entry.items() if col}
    if history is not None:
        columns[HISTORY_COLUMN] = HISTORY_COLUMN
    return InputSpec(
        name, Path(file), str(record_id), columns, unique, address_history=history, **options
    )


def read_mapping(path: Path, inputs: dict[str, Path]) -> list[InputSpec]:
    """Build input specs from a mapping file and the named input paths.

    Raises
    ------
    LinkageInputError
        The mapping is not YAML, misses an input, names an unknown role, lacks a record id
        or gives a malformed file option.
    """
    mapping = _load_mapping(path)
    return [
        _input_spec(path, name, file, mapping.get(name), list(mapping))
        for name, file in inputs.items()
    ]


def truth_record_map(specs: list[InputSpec], truth_column: str) -> pl.DataFrame:
    """Read a truth column from each input as a record map (for evaluation only)."""
    parts = []
    for spec in specs:
        frame = spec.read()
        if truth_column not in frame.columns:
            raise LinkageInputError(str(spec.path), truth_column, "truth column not found")
        parts.append(
            frame.select(
                pl.lit(spec.name).alias("source"),
                pl.col(spec.record_id).cast(pl.Utf8).alias("record_id"),
                pl.col(truth_column).cast(pl.Utf8).alias("person_id"),
            )
        )
    return pl.concat(parts)


def link_files(
    inputs: dict[str, Path],
    mapping: Path,
    out_dir: Path,
    *,
    config: LinkageConfig | None = None,
) -> dict[str, Any]:
    """Link two or more CSV/Parquet files into a spine written to ``out_dir``.

    Scoring the links against a truth column is the evaluation's part
    (:func:`evaluation.linkage.link_and_evaluate_files`).

    Parameters
    ----------
    inputs
        Input name to file path.
    mapping
        The YAML column mapping.
    out_dir
        Output folder; receives ``spine.parquet`` and the other linkage artefacts.

    Returns
    -------
    dict
        The linkage summary.
    """
    return link_records(read_mapping(mapping, inputs), Path(out_dir), config)
