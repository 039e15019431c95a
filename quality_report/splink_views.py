"""Splink's own explanations: waterfall charts, the comparison viewer and cluster studio.

The saved model is loaded into a Splink ``Linker`` over the run's standardised records
(``linkage/records.parquet``), with the intermediate columns these views need switched on.
Only the records of the pairs and clusters shown are scored again, so this stays quick at
any scale; term frequencies come from all records, as in the linkage itself. DuckDB is
opened through the linkage package's database module, the project's one place for that.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from reporting import remote_references

logger = logging.getLogger(__name__)

_REMOTE_LINK = re.compile(r"<link\b[^>]*href\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.IGNORECASE)


@dataclass
class SplinkViews:
    """What :func:`build_views` produced."""

    waterfalls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    comparison_viewer: str | None = None
    cluster_studio: str | None = None
    problems: list[str] = field(default_factory=list)


def make_offline(path: Path) -> None:
    """Drop the web-font links Splink's dashboards carry, so they open with no network.

    Raises
    ------
    RuntimeError
        If anything else in the page would still be fetched from the network.
    """
    text = path.read_text(encoding="utf-8")
    text = _REMOTE_LINK.sub("", text)
    left = remote_references(text)
    if left:
        raise RuntimeError(f"{path.name} still refers to the network: {left[:3]}")
    path.write_text(text, encoding="utf-8")


def _linker(model_path: Path, subset: pl.DataFrame, everyone: pl.DataFrame) -> Any:
    from splink import Linker

    from linkage.database import connect, splink_api
    from linkage.sql_engine import DuckDBSql
    from linkage.sql_steps import frequency_tables
    from linkage.training import FREQUENCY_FOLDER, read_frequency_tables, register_frequencies

    settings = json.loads(model_path.read_text(encoding="utf-8"))
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = True
    con = connect(memory_limit="2GB", threads=2)
    db_api = splink_api(con)
    table = db_api.register(subset.to_arrow(), table_name="report_records")
    linker = Linker(table, settings, log_level=logging.WARNING)
    # The frequencies the linkage saved (those the model scored with); a run from before
    # they were saved has them computed again from its records.
    saved = read_frequency_tables(model_path.parent / FREQUENCY_FOLDER)
    if saved is None:
        engine = DuckDBSql(con)
        engine.register_frame("linkable_records", everyone)
        saved = frequency_tables(engine)
    register_frequencies(linker, db_api, saved)
    return linker


def build_views(
    linkage_dir: Path,
    out_dir: Path,
    *,
    pairs: pl.DataFrame,
    cluster_ids: list[str],
    spine: pl.DataFrame,
    redact: bool,
) -> SplinkViews:
    """Score the chosen pairs and clusters again and draw Splink's views of them.

    Parameters
    ----------
    linkage_dir
        The run's ``linkage/`` folder (``model.json``, ``records.parquet``).
    out_dir
        The report folder; dashboards are written here.
    pairs
        ``kind`` (accepted, rejected, borderline) and ``source_l, record_id_l, source_r,
        record_id_r`` of the pairs to explain with a waterfall chart.
    cluster_ids
        Spine clusters to show in cluster studio.
    spine
        The spine (``source, record_id, person_id``).
    redact
        Waterfalls show weights only, and no dashboard is written (both show record values).
    """
    views = SplinkViews()
    records = pl.read_parquet(linkage_dir / "records.parquet")
    subset = _records_shown(records, pairs, cluster_ids, spine)
    if subset.height < 2:
        views.problems.append("too few records to score")
        return views
    linker = _linker(linkage_dir / "model.json", subset, records)
    views.waterfalls = _waterfalls(linker, subset, pairs, redact=redact)
    if redact:
        return views
    predicted = linker.inference.predict()
    views.comparison_viewer = _comparison_viewer(linker, predicted, out_dir)
    views.cluster_studio = _cluster_studio(linker, predicted, subset, spine, cluster_ids, out_dir)
    return views


def _records_shown(
    records: pl.DataFrame, pairs: pl.DataFrame, cluster_ids: list[str], spine: pl.DataFrame
) -> pl.DataFrame:
    """The standardised records of both sides of every pair and of every cluster shown."""
    keys = pl.concat(
        [
            pairs.select(
                pl.col("source_l").alias("source"), pl.col("record_id_l").alias("record_id")
            ),
            pairs.select(
                pl.col("source_r").alias("source"), pl.col("record_id_r").alias("record_id")
            ),
            spine.filter(pl.col("person_id").is_in(cluster_ids)).select("source", "record_id"),
        ]
    ).unique()
    return records.join(keys, on=["source", "record_id"], how="semi").sort("unique_id")


def _waterfalls(
    linker: Any, subset: pl.DataFrame, pairs: pl.DataFrame, *, redact: bool
) -> list[tuple[str, dict[str, Any]]]:
    """A waterfall chart (by the pair's kind) of every pair whose two records are found."""
    waterfalls = []
    for i, row in enumerate(pairs.iter_rows(named=True)):
        sides = [_pair_side(linker, subset, row, i, side) for side in ("l", "r")]
        if None in sides:
            continue
        compared = linker.inference.score_pair(sides[0], sides[1]).as_record_list()
        chart = linker.visualisations.waterfall_chart(compared, remove_sensitive_data=redact)
        waterfalls.append((row["kind"], chart.chart_dict))
    return waterfalls


def _pair_side(
    linker: Any, subset: pl.DataFrame, row: dict[str, Any], index: int, side: str
) -> Any | None:
    """One side of a pair registered as a one-record table, or ``None`` if not found once."""
    one = subset.filter(
        (pl.col("source") == row[f"source_{side}"])
        & (pl.col("record_id") == row[f"record_id_{side}"])
    )
    if one.height != 1:
        return None
    # Registered as tables, not dicts, so a missing value keeps its column's type.
    return linker.table_management.register_table(
        one.to_arrow(), f"report_pair_{index}_{side}", overwrite=True
    )


def _comparison_viewer(linker: Any, predicted: Any, out_dir: Path) -> str:
    """Write Splink's comparison viewer, offline; its file name."""
    viewer = out_dir / "comparison_viewer.html"
    linker.visualisations.comparison_viewer_dashboard(
        predicted, str(viewer), overwrite=True, num_example_rows=2
    )
    make_offline(viewer)
    return viewer.name


def _cluster_studio(
    linker: Any,
    predicted: Any,
    subset: pl.DataFrame,
    spine: pl.DataFrame,
    cluster_ids: list[str],
    out_dir: Path,
) -> str | None:
    """Write Splink's cluster studio, offline, for the chosen clusters present; its file
    name, or ``None`` when none of them is present."""
    clustered = subset.join(
        spine.select("source", "record_id", pl.col("person_id").alias("cluster_id")),
        on=["source", "record_id"],
    )
    present = [c for c in cluster_ids if c in set(clustered.get_column("cluster_id").to_list())]
    if not present:
        return None
    table = linker.table_management.register_table(
        clustered.to_arrow(), "report_clusters", overwrite=True
    )
    studio = out_dir / "cluster_studio.html"
    linker.visualisations.cluster_studio_dashboard(
        predicted, table, str(studio), cluster_ids=present, overwrite=True
    )
    make_offline(studio)
    return studio.name
