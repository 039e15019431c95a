"""The deterministic first pass, Splink prediction and threshold selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from linkage import model

PREDICTION_COLUMNS: tuple[str, ...] = (
    "unique_id_l",
    "unique_id_r",
    "source_l",
    "record_id_l",
    "source_r",
    "record_id_r",
    "match_weight",
    "match_probability",
    "match_key",
)
"""Leading columns of ``predictions.parquet``; Splink's per-comparison match weights
(``mw_<comparison>`` and ``mw_tf_adj_<comparison>``) follow, null for deterministic links."""

DETERMINISTIC_MATCH_KEY = "exact"
"""``match_key`` of links made by the deterministic pass (probability 1)."""


def deterministic_pass(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join records that agree exactly on every key of :data:`model.DETERMINISTIC_KEYS`.

    A group is joined only if its records do not disagree on sex, hold at most one
    record of each one-per-person source (so two census records are never joined) and
    carry at most one person number per source. Each
    joined group is represented in the probabilistic stage by one record (its
    one-per-person record if any, otherwise its lowest id); the others are linked to that
    representative with probability 1.

    Returns
    -------
    tuple of polars.DataFrame
        The representatives (records left for Splink) and the deterministic links
        (``unique_id_l``, ``unique_id_r``, ``match_probability``).
    """
    keys = list(model.DETERMINISTIC_KEYS)
    if "person_number" not in records.columns:
        records = records.with_columns(pl.lit(None, dtype=pl.Utf8).alias("person_number"))
    complete = records.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    groups = (
        complete.sort(["unique_people", "unique_id"], descending=[True, False])
        .group_by(keys)
        .agg(
            pl.col("unique_id"),
            pl.col("sex").drop_nulls().n_unique().alias("n_sex"),
            pl.col("unique_people").sum().alias("n_unique"),
            (pl.col("source").filter(pl.col("unique_people")).n_unique()).alias("n_unique_src"),
            pl.struct("source", "person_number")
            .filter(pl.col("person_number").is_not_null())
            .n_unique()
            .alias("n_numbers"),
            pl.col("source")
            .filter(pl.col("person_number").is_not_null())
            .n_unique()
            .alias("n_numbered_src"),
        )
        .filter(
            (pl.col("unique_id").list.len() > 1)
            & (pl.col("n_sex") <= 1)
            & (pl.col("n_unique") == pl.col("n_unique_src"))
            & (pl.col("n_numbers") == pl.col("n_numbered_src"))
        )
    )
    links = (
        groups.select(
            pl.col("unique_id").list.first().alias("unique_id_l"),
            pl.col("unique_id").list.slice(1).alias("unique_id_r"),
        )
        .explode("unique_id_r")
        .with_columns(pl.lit(1.0).alias("match_probability"))
    )
    members = links.get_column("unique_id_r")
    representatives = records.filter(~pl.col("unique_id").is_in(members.implode()))
    return representatives, links


def write_predictions(
    con: Any,
    splink_table: str,
    deterministic_links: pl.DataFrame,
    weight_columns: list[str],
    path: Path,
) -> None:
    """Write Splink's scored pairs and the deterministic links to one Parquet file.

    ``records`` must be a table in ``con`` holding every record (for source and id).
    """
    con.register("deterministic_links", deterministic_links.to_arrow())
    gammas = ", ".join(f"p.{g}" for g in weight_columns)
    nulls = ", ".join(f"CAST(NULL AS DOUBLE) AS {g}" for g in weight_columns)
    sep = ", " if weight_columns else ""
    sql = f"""
    COPY (
      WITH pairs AS (
        SELECT unique_id_l, unique_id_r, match_weight, match_probability,
               CAST(match_key AS VARCHAR) AS match_key{sep}{gammas}
        FROM {splink_table} AS p
        UNION ALL
        SELECT unique_id_l, unique_id_r, CAST('Infinity' AS DOUBLE) AS match_weight,
               match_probability, '{DETERMINISTIC_MATCH_KEY}' AS match_key{sep}{nulls}
        FROM deterministic_links
      )
      SELECT p.unique_id_l, p.unique_id_r, l.source AS source_l, l.record_id AS record_id_l,
             r.source AS source_r, r.record_id AS record_id_r,
             p.* EXCLUDE (unique_id_l, unique_id_r)
      FROM pairs AS p
      JOIN records AS l ON l.unique_id = p.unique_id_l
      JOIN records AS r ON r.unique_id = p.unique_id_r
      ORDER BY p.unique_id_l, p.unique_id_r
    ) TO '{path.as_posix()}' (FORMAT parquet, COMPRESSION zstd)
    """
    con.execute(sql)
    con.unregister("deterministic_links")


def choose_threshold(
    probabilities: pl.Series,
    *,
    candidates: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999),
) -> dict[str, Any]:
    """Pick the threshold with the highest model-expected F1, and say why.

    Without truth, each scored pair is a match with its predicted probability; at a
    threshold ``t`` the expected true links are the sum of ``p`` over pairs with
    ``p >= t``, the expected false links the sum of ``1 - p`` over them, and the expected
    missed matches the sum of ``p`` below ``t``. The threshold maximising the expected F1
    is chosen (the higher one on ties, favouring precision as the ONS targets do).

    Returns
    -------
    dict
        ``threshold``, ``reasoning`` (a sentence) and ``candidates`` (expected precision,
        recall and F1 at each candidate).
    """
    frame = pl.DataFrame({"p": probabilities.cast(pl.Float64)})
    total = float(frame.get_column("p").sum())
    table = []
    for t in candidates:
        above = frame.filter(pl.col("p") >= t).get_column("p")
        tp = float(above.sum())
        fp = float(above.len() - tp)
        fn = total - tp
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / total if total else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table.append(
            {
                "threshold": t,
                "expected_precision": precision,
                "expected_recall": recall,
                "expected_f1": f1,
                "expected_false_links": fp,
                "expected_missed_links": fn,
            }
        )
    best = max(table, key=lambda row: (round(row["expected_f1"], 6), row["threshold"]))
    reasoning = (
        f"Chose match probability {best['threshold']} because it maximises the model-expected "
        f"F1 ({best['expected_f1']:.5f}) over the candidates {list(candidates)}: expected "
        f"precision {best['expected_precision']:.5f} and recall {best['expected_recall']:.5f} "
        f"among scored pairs, against targets of 0.999 and 0.9975. Expected values assume "
        "the model's probabilities are calibrated; the evaluation checks this against truth."
    )
    return {"threshold": best["threshold"], "reasoning": reasoning, "candidates": table}
