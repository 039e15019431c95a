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
      record_id: episode_id
      forename: given
      surname: family
      date_of_birth: birth_date
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import yaml

from linkage.config import LinkageConfig
from linkage.errors import LinkageInputError
from linkage.inputs import IDENTIFIERS, InputSpec, read_table
from linkage.pipeline import link_records

FLAG = "one_record_per_person"


def read_mapping(path: Path, inputs: dict[str, Path]) -> list[InputSpec]:
    """Build input specs from a mapping file and the named input paths.

    Raises
    ------
    LinkageInputError
        The mapping is not YAML, misses an input, names an unknown role or lacks a
        record id.
    """
    try:
        mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LinkageInputError(str(path), None, "mapping file not found") from None
    except yaml.YAMLError as exc:
        raise LinkageInputError(str(path), None, f"not valid YAML: {exc}") from None
    if not isinstance(mapping, dict):
        raise LinkageInputError(str(path), None, "must map each input name to its columns")
    specs = []
    for name, file in inputs.items():
        entry = mapping.get(name)
        if not isinstance(entry, dict):
            raise LinkageInputError(
                str(path), None, f"no mapping for input '{name}' (mapped: {list(mapping)})"
            )
        entry = dict(entry)
        unique = bool(entry.pop(FLAG, False))
        record_id = entry.pop("record_id", None)
        if not record_id:
            raise LinkageInputError(str(path), None, f"input '{name}' needs a record_id column")
        unknown = sorted(set(entry) - set(IDENTIFIERS))
        if unknown:
            raise LinkageInputError(
                str(path),
                None,
                f"input '{name}' maps unknown roles {unknown}; valid roles: record_id, "
                f"{', '.join(IDENTIFIERS)}, {FLAG}",
            )
        columns = {role: str(col) for role, col in entry.items() if col}
        specs.append(InputSpec(name, Path(file), str(record_id), columns, unique))
    return specs


def truth_record_map(specs: list[InputSpec], truth_column: str) -> pl.DataFrame:
    """Read a truth column from each input as a record map (for evaluation only)."""
    parts = []
    for spec in specs:
        frame = read_table(spec.path)
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
    truth_column: str | None = None,
    config: LinkageConfig | None = None,
) -> dict[str, Any]:
    """Link two or more CSV/Parquet files into a spine written to ``out_dir``.

    Parameters
    ----------
    inputs
        Input name to file path.
    mapping
        The YAML column mapping.
    out_dir
        Output folder; receives ``spine.parquet`` and the other linkage artefacts.
    truth_column
        A column in every input holding the true person id; when given, the evaluation
        tables are written to ``out_dir/evaluation``.

    Returns
    -------
    dict
        The linkage summary, with ``evaluation`` when a truth column was given.
    """
    from evaluation.linkage import evaluate_against_record_map

    specs = read_mapping(mapping, inputs)
    record_map = truth_record_map(specs, truth_column) if truth_column else None
    summary = link_records(specs, Path(out_dir), config)
    if record_map is not None:
        summary["evaluation"] = evaluate_against_record_map(
            Path(out_dir), record_map, None, Path(out_dir) / "evaluation"
        )
    return summary
