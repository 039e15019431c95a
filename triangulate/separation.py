"""The separation step: what the analysis may see of a linked run.

Real linkage environments keep the people who see names apart from the people who see
attributes. After linkage this step writes ``<run>/analysis_inputs/``, the only folder the
analysis stage reads, in the layout of a run folder (``sources/``, ``linkage/spine.parquet``,
``truth/record_map.parquet``, ``spines/``) but holding:

- record ids and person ids replaced by keyed hashes (HMAC-SHA256, hex) under a linkage key
  that the analysis never holds, so ids join across tables but cannot be traced back;
- only the attribute columns the analysis uses: no name, postcode, NHS number or NINO;
- the date of birth reduced to the month of birth: ``date_of_birth`` holds the first of the
  birth month for people born on the 1st and the 2nd for everyone else, which is exactly
  what completed age on the first day of each study month needs (``analysis.population``).

The key comes from ``TRIANGULATE_LINKAGE_KEY`` or the file named by
``TRIANGULATE_LINKAGE_KEY_FILE``; a run on synthetic data may fall back to a published demo
key, with a warning. The key is never logged or written.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from analysis.inputs import SOURCE_COLUMNS

logger = logging.getLogger(__name__)

KEY_ENV = "TRIANGULATE_LINKAGE_KEY"
KEY_FILE_ENV = "TRIANGULATE_LINKAGE_KEY_FILE"
DEMO_KEY = b"triangulate-demo-linkage-key: not secret, synthetic data only"
MIN_KEY_BYTES = 16
FOLDER = "analysis_inputs"

# Columns the analysis reads from each extract, split into the id column that is
# pseudonymised (listed first in analysis.inputs.SOURCE_COLUMNS) and the attributes.
SOURCE_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    source: (columns[0], columns[1:]) for source, columns in SOURCE_COLUMNS.items()
}


class SeparationError(ValueError):
    """No usable linkage key, or an input the separation step cannot read."""


def linkage_key(*, demo: bool) -> bytes:
    """The secret key of the keyed hashes.

    Parameters
    ----------
    demo
        True for runs on synthetic data: without a configured key, the published demo key
        is used (with a warning) rather than stopping the run.

    Raises
    ------
    SeparationError
        No key is configured outside demo mode, or the key is shorter than 16 bytes.
    """
    value = os.environ.get(KEY_ENV, "").encode("utf-8")
    source = KEY_ENV
    if not value and os.environ.get(KEY_FILE_ENV):
        path = Path(os.environ[KEY_FILE_ENV])
        try:
            value = path.read_bytes().strip()
        except OSError as exc:
            raise SeparationError(
                f"{KEY_FILE_ENV}={path}: cannot read the key file ({exc})"
            ) from None
        source = f"{KEY_FILE_ENV} ({path})"
    if not value:
        if not demo:
            raise SeparationError(
                f"no linkage key: set {KEY_ENV} or {KEY_FILE_ENV} (a demo key is only "
                "allowed for synthetic data)"
            )
        logger.warning(
            "No linkage key set (%s or %s): using the demo key, so pseudonyms are not "
            "secret. Acceptable for synthetic data only.",
            KEY_ENV,
            KEY_FILE_ENV,
        )
        return DEMO_KEY
    if len(value) < MIN_KEY_BYTES:
        raise SeparationError(f"the key from {source} is shorter than {MIN_KEY_BYTES} bytes")
    return value


def keyed_hash(values: pl.Series, key: bytes, namespace: str) -> pl.Series:
    """HMAC-SHA256 (hex) of each value, prefixed by a namespace; nulls stay null."""
    prefix = f"{namespace}:".encode()
    digests = {
        value: hmac.new(key, prefix + value.encode("utf-8"), hashlib.sha256).hexdigest()
        for value in values.drop_nulls().cast(pl.Utf8).unique().to_list()
    }
    return values.cast(pl.Utf8).replace_strict(digests, default=None, return_dtype=pl.Utf8)


def month_of_birth(dates: pl.Expr) -> pl.Expr:
    """The first of the birth month, or the 2nd for people not born on the 1st."""
    return pl.date(
        dates.dt.year(), dates.dt.month(), pl.when(dates.dt.day() == 1).then(1).otherwise(2)
    )


def _pseudonymise_spine(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return frame.select(
        "source",
        keyed_hash(frame.get_column("record_id"), key, "record").alias("record_id"),
        keyed_hash(frame.get_column("person_id"), key, "person").alias("person_id"),
    )


def _read(path: Path, columns: list[str]) -> pl.DataFrame:
    try:
        return pl.read_parquet(path, columns=columns)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SeparationError(f"{path}: cannot be read for separation ({exc})") from None


def separate_run(
    run_dir: Path,
    key: bytes,
    *,
    threshold_spines: dict[float, pl.DataFrame | Path] | None = None,
) -> dict[str, Any]:
    """Write ``<run_dir>/analysis_inputs/`` (replacing it as a whole, atomically).

    Parameters
    ----------
    run_dir
        A linked run folder (``sources/``, ``linkage/spine.parquet``, optionally ``truth/``).
    key
        The linkage key (see :func:`linkage_key`).
    threshold_spines
        Spines re-clustered at other thresholds; written pseudonymised to
        ``spines/threshold_<p>.parquet``.

    Returns
    -------
    dict
        ``folder``, ``tables`` (rows per written table) and ``threshold_spines``
        (threshold to written path).
    """
    run_dir = Path(run_dir)
    target = run_dir / FOLDER
    staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER}.", dir=run_dir))
    try:
        tables: dict[str, int] = {}
        (staging / "sources").mkdir()
        for name, (id_column, attributes) in SOURCE_ATTRIBUTES.items():
            frame = _read(run_dir / "sources" / f"{name}.parquet", [id_column, *attributes])
            frame = frame.with_columns(keyed_hash(frame.get_column(id_column), key, "record"))
            if "date_of_birth" in attributes:
                frame = frame.with_columns(
                    month_of_birth(pl.col("date_of_birth")).alias("date_of_birth")
                )
            frame.write_parquet(staging / "sources" / f"{name}.parquet")
            tables[f"sources/{name}"] = frame.height
        spine_columns = ["source", "record_id", "person_id"]
        (staging / "linkage").mkdir()
        spine = _read(run_dir / "linkage" / "spine.parquet", spine_columns)
        _pseudonymise_spine(spine, key).write_parquet(staging / "linkage" / "spine.parquet")
        tables["linkage/spine"] = spine.height
        record_map = run_dir / "truth" / "record_map.parquet"
        if record_map.is_file():
            (staging / "truth").mkdir()
            truth = _read(record_map, spine_columns)
            _pseudonymise_spine(truth, key).write_parquet(staging / "truth" / "record_map.parquet")
            tables["truth/record_map"] = truth.height
        written: dict[float, str] = {}
        if threshold_spines:
            (staging / "spines").mkdir()
            for threshold, spine_at in sorted(threshold_spines.items()):
                frame = (
                    spine_at
                    if isinstance(spine_at, pl.DataFrame)
                    else _read(Path(spine_at), spine_columns)
                )
                name = f"threshold_{threshold:g}.parquet"
                _pseudonymise_spine(frame.select(spine_columns), key).write_parquet(
                    staging / "spines" / name
                )
                written[float(threshold)] = str(target / "spines" / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return {"folder": str(target), "tables": tables, "threshold_spines": written}
