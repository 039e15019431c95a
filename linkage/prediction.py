"""The predictions' columns and the threshold rule.

The deterministic pass and writing ``predictions.parquet`` are SQL run on the linkage
engine (:mod:`linkage.sql_steps`); the threshold rule here works from the small sums the
engine returns, so it is the same on DuckDB and Spark."""

from __future__ import annotations

from typing import Any

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


def expected_metrics(sums: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Model-expected precision, recall and F1 of the accepted links at each threshold.

    ``sums`` are :func:`linkage.sql_steps.threshold_sums` over
    :func:`linkage.clustering.accepted_links` at a floor no higher than any threshold. Each
    accepted link is a true link with its probability ``p``. At a threshold ``t`` the
    expected true links are the sum of ``p`` over accepted links with ``p >= t``, the
    expected false links the sum of ``1 - p`` over them, and the expected missed links the
    sum of ``p`` over accepted links below ``t`` (links a lower threshold would make).
    Deterministic links count with ``p = 1``.
    """
    table = []
    for row in sums:
        links, tp, total = row["links"], row["expected_true"], row["accepted_total"]
        precision = tp / links if links else 1.0
        recall = tp / total if total else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table.append(
            {
                "threshold": row["threshold"],
                "links": links,
                "refused_links": row["refused_links"],
                "expected_precision": precision,
                "expected_recall": recall,
                "expected_f1": f1,
                "expected_false_links": links - tp,
                "expected_missed_links": total - tp,
            }
        )
    return table


def choose_threshold(
    sums: list[dict[str, Any]], *, target_precision: float = TARGET_PRECISION
) -> dict[str, Any]:
    """Choose the threshold by :data:`THRESHOLD_RULE` from the model's own probabilities.

    Parameters
    ----------
    sums
        :func:`linkage.sql_steps.threshold_sums` at each candidate threshold.

    Returns
    -------
    dict
        ``threshold``, ``rule`` (which branch of the rule chose it), ``reasoning`` (a
        sentence), ``expected`` (the chosen candidate's row) and ``candidates`` (expected
        precision, recall and F1 at each candidate).
    """
    table = expected_metrics(sorted(sums, key=lambda row: row["threshold"]))
    candidates = [row["threshold"] for row in table]
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
        f"Chose match probability {best['threshold']}, {why}, among {candidates}: "
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
