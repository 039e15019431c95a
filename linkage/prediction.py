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


DETERMINISTIC_COLUMNS: tuple[str, ...] = (
    *model.DETERMINISTIC_KEYS,
    "unique_id",
    "unique_people",
    "source",
    "sex",
    "person_number",
)
"""The record columns :func:`deterministic_links` reads."""


def deterministic_links(records: pl.DataFrame) -> pl.DataFrame:
    """Join records that agree exactly on every key of :data:`model.DETERMINISTIC_KEYS`.

    A group is joined only if its records do not disagree on sex, hold at most one
    record of each one-per-person source (so two census records are never joined) and
    carry at most one person number per source. Each
    joined group is represented in the probabilistic stage by one record (its
    one-per-person record if any, otherwise its lowest id); the others are linked to that
    representative with probability 1, and :func:`without_joined` leaves them out of
    Splink's input.

    Returns
    -------
    polars.DataFrame
        The deterministic links (``unique_id_l``, ``unique_id_r``, ``match_probability``);
        each joined record is a ``unique_id_r`` once.
    """
    keys = list(model.DETERMINISTIC_KEYS)
    # Only the columns the groups need: sorting every identifier column of millions of
    # records (name keys, address tokens, postcode histories) cost gigabytes for nothing.
    frame = records.select(c for c in DETERMINISTIC_COLUMNS if c in records.columns)
    if "person_number" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("person_number"))
    complete = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
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
    return (
        groups.select(
            pl.col("unique_id").list.first().alias("unique_id_l"),
            pl.col("unique_id").list.slice(1).alias("unique_id_r"),
        )
        .explode("unique_id_r")
        .with_columns(pl.lit(1.0).alias("match_probability"))
    )


def without_joined(records: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """The records left for Splink to score: all but those :func:`deterministic_links`
    joined to a representative."""
    joined = links.get_column("unique_id_r")
    return records.filter(~pl.col("unique_id").is_in(joined.implode()))


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


THRESHOLD_CANDIDATES: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99)
"""Match probabilities the default rule chooses among (finer where links are modest)."""

TARGET_PRECISION = 0.999
"""The study's precision target (ONS, Census 2021 linkage: 99.9%), which the rule meets."""

THRESHOLD_RULE = (
    "the lowest candidate threshold at which the model-expected precision of the links "
    "clustering accepts reaches the precision target; if none does, the candidate with the "
    "highest model-expected F1"
)
"""The default rule, in words (recorded in ``linkage_summary.json``). Why this rule: the
targets ask for precision of at least 99.9% *and* recall as high as possible (99.75%);
lowering the threshold only ever adds links, so the lowest threshold whose expected
precision still meets the precision target is the one with the highest expected recall
that the precision target allows. Maximising expected F1 instead weighs a false link and a
missed one alike, which for calibrated probabilities puts the threshold near 0.5 whatever
the targets say. Links clustering refuses (a second census record, a second person number)
are left out because no threshold makes them links; counting them would charge the
threshold with false links it cannot make. No truth enters the rule."""


def expected_metrics(links: pl.DataFrame, thresholds: list[float]) -> list[dict[str, Any]]:
    """Model-expected precision, recall and F1 of the accepted links at each threshold.

    ``links`` is :func:`linkage.clustering.accepted_links` at a floor no higher than any of
    ``thresholds``: ``match_probability`` and ``accepted``. Each accepted link is a true
    link with its probability ``p``. At a threshold ``t`` the expected true links are the
    sum of ``p`` over accepted links with ``p >= t``, the expected false links the sum of
    ``1 - p`` over them, and the expected missed links the sum of ``p`` over accepted links
    below ``t`` (links a lower threshold would make). Deterministic links count with
    ``p = 1``.
    """
    kept = links.filter(pl.col("accepted")).get_column("match_probability").cast(pl.Float64)
    refused = links.filter(~pl.col("accepted")).get_column("match_probability")
    total = float(kept.sum())
    table = []
    for t in thresholds:
        above = kept.filter(kept >= t)
        tp = float(above.sum())
        fp = float(above.len() - tp)
        precision = tp / above.len() if above.len() else 1.0
        recall = tp / total if total else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table.append(
            {
                "threshold": t,
                "links": above.len(),
                "refused_links": int((refused >= t).sum()),
                "expected_precision": precision,
                "expected_recall": recall,
                "expected_f1": f1,
                "expected_false_links": fp,
                "expected_missed_links": total - tp,
            }
        )
    return table


def choose_threshold(
    links: pl.DataFrame,
    *,
    candidates: tuple[float, ...] = THRESHOLD_CANDIDATES,
    target_precision: float = TARGET_PRECISION,
) -> dict[str, Any]:
    """Choose the threshold by :data:`THRESHOLD_RULE` from the model's own probabilities.

    Parameters
    ----------
    links
        :func:`linkage.clustering.accepted_links` at a floor no higher than the lowest
        candidate.

    Returns
    -------
    dict
        ``threshold``, ``rule`` (which branch of the rule chose it), ``reasoning`` (a
        sentence), ``expected`` (the chosen candidate's row) and ``candidates`` (expected
        precision, recall and F1 at each candidate).
    """
    table = expected_metrics(links, sorted(candidates))
    meeting = [row for row in table if row["expected_precision"] >= target_precision]
    if meeting:
        best, rule = meeting[0], "lowest threshold meeting the expected precision target"
        why = f"the lowest candidate whose expected precision reaches the target {target_precision}"
    else:
        # Rounded so that float noise cannot decide a tie; the higher threshold wins ties.
        best = max(table, key=lambda row: (round(row["expected_f1"], 9), row["threshold"]))
        rule = "highest expected F1 (no candidate meets the expected precision target)"
        why = (
            f"no candidate's expected precision reaches the target {target_precision}, so "
            "the candidate with the highest expected F1"
        )
    reasoning = (
        f"Chose match probability {best['threshold']}, {why}, among {sorted(candidates)}: "
        f"expected precision {best['expected_precision']:.5f}, recall "
        f"{best['expected_recall']:.5f} and F1 {best['expected_f1']:.5f} over the "
        f"{best['links']} links clustering accepts. Expected values assume the model's "
        "probabilities are calibrated; where a truth exists the evaluation checks them."
    )
    return {
        "threshold": best["threshold"],
        "rule": rule,
        "reasoning": reasoning,
        "expected": best,
        "candidates": table,
    }
