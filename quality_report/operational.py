"""Operational estimates (as if the truth were unknown) beside the true figures.

From the match probabilities alone, a scored pair at or above the threshold is a false
match with probability ``1 - p`` and a pair below it a missed match with probability ``p``;
summing gives the model-expected false and missed matches. A clerical review draws a
sample of pairs stratified by match-weight band; here the synthetic truth plays the
reviewer, which shows whether the model's probabilities can be trusted in each band.
"""

from __future__ import annotations

import math

import polars as pl

from evaluation.intervals import wilson_columns

BANDS: tuple[tuple[float, float, str], ...] = (
    (-math.inf, 0.0, "below 0"),
    (0.0, 5.0, "0 to 5"),
    (5.0, 10.0, "5 to 10"),
    (10.0, 15.0, "10 to 15"),
    (15.0, 20.0, "15 to 20"),
    (20.0, math.inf, "20 and above"),
)
"""Match-weight bands of the clerical-review sample; deterministic links form their own."""

EXACT_BAND = "stage 1 matchkey"


def band_of(weight: pl.Expr, match_key: pl.Expr) -> pl.Expr:
    """Band label of each pair."""
    expr = pl.when(match_key == "exact").then(pl.lit(EXACT_BAND))
    for low, high, label in BANDS:
        expr = expr.when((weight >= low) & (weight < high)).then(pl.lit(label))
    return expr.otherwise(pl.lit(BANDS[-1][2]))


def expected_vs_true(labelled: pl.DataFrame, thresholds: list[float]) -> pl.DataFrame:
    """Model-expected and true false and missed matches at each probability threshold.

    Parameters
    ----------
    labelled
        Predictions with ``match_probability``, ``match_key`` and ``is_match``.
    thresholds
        Match-probability thresholds.
    """
    rows = []
    for t in thresholds:
        above = labelled.filter(pl.col("match_probability") >= t)
        below = labelled.filter(pl.col("match_probability") < t)
        p_above = above.get_column("match_probability")
        p_below = below.get_column("match_probability")
        expected_false = float((1 - p_above).sum())
        true_false = int((~above.get_column("is_match")).sum())
        expected_missed = float(p_below.sum())
        true_missed = int(below.get_column("is_match").sum())
        # If the model's probabilities were right, each count would be a sum of independent
        # Bernoulli draws: its standard deviation is sqrt(sum p(1 - p)).
        sd_above = float((p_above * (1 - p_above)).sum()) ** 0.5
        sd_below = float((p_below * (1 - p_below)).sum()) ** 0.5
        rows.append(
            {
                "threshold": t,
                "pairs_above": above.height,
                "expected_false_above": expected_false,
                "true_false_above": true_false,
                "false_above_verdict": count_verdict(true_false, expected_false, sd_above),
                "pairs_below": below.height,
                "expected_missed_below": expected_missed,
                "true_missed_below": true_missed,
                "missed_below_verdict": count_verdict(true_missed, expected_missed, sd_below),
            }
        )
    return pl.DataFrame(rows)


def count_verdict(observed: int, expected: float, sd: float) -> str:
    """Whether an observed count departs from the model's expectation by more than two
    standard deviations (the stated rule for calling a discrepancy real)."""
    margin = 2 * max(sd, 1.0)
    if observed > expected + margin:
        return "more than the model expects"
    if observed < expected - margin:
        return "fewer than the model expects"
    return "as the model expects"


DECIDING_WIDTH = 0.20
"""A clerical band decides only when its Wilson interval is at most 20 points wide."""


def pairs_needed(rate: float, width: float = DECIDING_WIDTH, z: float = 1.959964) -> int:
    """Pairs to review in a band for a 95% interval of ``width`` around ``rate``."""
    p = min(max(rate, 0.05), 0.95)
    return int(math.ceil(z * z * p * (1 - p) / (width / 2) ** 2))


def clerical_sample(labelled: pl.DataFrame, *, per_band: int, seed: int) -> pl.DataFrame:
    """A sample of pairs stratified by match-weight band, with the reviewer's verdict.

    Returns the sampled pairs: ``band``, ids of both records, ``match_weight``,
    ``match_probability`` and ``is_match`` (the verdict).
    """
    banded = labelled.with_columns(
        band_of(pl.col("match_weight"), pl.col("match_key")).alias("band")
    )
    parts = []
    for label in [EXACT_BAND, *[b[2] for b in BANDS]]:
        stratum = banded.filter(pl.col("band") == label).sort(
            "source_l", "record_id_l", "source_r", "record_id_r"
        )
        if stratum.height:
            parts.append(stratum.sample(n=min(per_band, stratum.height), seed=seed))
    if not parts:
        return banded.head(0)
    return pl.concat(parts)


def clerical_summary(sample: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    """Per band: pairs in the band, pairs reviewed, the model's mean probability and the
    reviewed match rate with its Wilson 95% interval."""
    order = [EXACT_BAND, *[b[2] for b in BANDS]]
    sizes = (
        population.with_columns(band_of(pl.col("match_weight"), pl.col("match_key")).alias("band"))
        .group_by("band")
        .agg(pl.len().alias("pairs_in_band"))
    )
    summary = sample.group_by("band").agg(
        pl.len().alias("reviewed"),
        pl.col("is_match").sum().cast(pl.Int64).alias("matches"),
        pl.col("match_probability").mean().alias("mean_probability"),
    )
    out = sizes.join(summary, on="band", how="inner").with_columns(
        pl.col("pairs_in_band").cast(pl.Int64), pl.col("reviewed").cast(pl.Int64)
    )
    out = out.with_columns(*wilson_columns("matches", "reviewed", "reviewed_match_rate"))
    lower, upper = pl.col("reviewed_match_rate_lower"), pl.col("reviewed_match_rate_upper")
    mean = pl.col("mean_probability")
    verdict = (
        pl.when(upper - lower > DECIDING_WIDTH)
        .then(pl.lit("undecided: too few pairs"))
        .when((mean < lower) | (mean > upper))
        .then(pl.lit("model differs from review"))
        .otherwise(pl.lit("consistent"))
    )
    needed = pl.col("mean_probability").map_elements(pairs_needed, return_dtype=pl.Int64)
    out = out.with_columns(verdict.alias("verdict"), needed.alias("pairs_needed"))
    return out.sort(pl.col("band").replace_strict({b: i for i, b in enumerate(order)}))


def missed_unscored(labelled: pl.DataFrame, members: pl.DataFrame, missed_pairs: int) -> int:
    """True pairs left in different clusters that the model never scored.

    ``missed_pairs`` is every true pair in different clusters (the pairwise false
    negatives); those among the scored pairs are subtracted, leaving the ones no blocking
    rule brought together (or scored below the saved-prediction floor), which no
    model-based estimate can see.
    """
    ends = members.select("source", "record_id", "cluster_id")
    scored_missed = (
        labelled.filter(pl.col("is_match"))
        .join(
            ends.rename({"source": "source_l", "record_id": "record_id_l", "cluster_id": "c_l"}),
            on=["source_l", "record_id_l"],
        )
        .join(
            ends.rename({"source": "source_r", "record_id": "record_id_r", "cluster_id": "c_r"}),
            on=["source_r", "record_id_r"],
        )
        .filter(pl.col("c_l") != pl.col("c_r"))
        .height
    )
    return missed_pairs - scored_missed


def _cluster_of(labelled: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Each scored pair with the clusters its two records ended in."""
    ends = members.select("source", "record_id", "cluster_id")
    return labelled.join(
        ends.rename({"source": "source_l", "record_id": "record_id_l", "cluster_id": "c_l"}),
        on=["source_l", "record_id_l"],
    ).join(
        ends.rename({"source": "source_r", "record_id": "record_id_r", "cluster_id": "c_r"}),
        on=["source_r", "record_id_r"],
    )


def false_cluster_pairs(members: pl.DataFrame) -> int:
    """Pairs of records in one cluster that belong to different true people (records with
    no known true person are left out)."""
    known = members.drop_nulls("true_person")
    pairs = known.group_by("cluster_id").agg(pl.len().alias("n"))
    same = known.group_by("cluster_id", "true_person").agg(pl.len().alias("n"))

    def count(frame: pl.DataFrame) -> int:
        return int((frame.get_column("n") * (frame.get_column("n") - 1) // 2).sum())

    return count(pairs) - count(same)


def false_link_origins(
    labelled: pl.DataFrame, members: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """Where the false links of a spine come from, model-expected beside true.

    A scored pair at or above the threshold is either *accepted* (its records share a
    cluster: clustering made the link, or had already joined them) or *refused* (clustering
    kept its records apart for a person's constraints; a refused link can never join
    later, since a cluster only gains records). Pairs in one cluster that no accepted
    link joins directly are *transitive*: the model never weighed them as a pair at the
    threshold, so it has no expectation for them.

    Returns
    -------
    polars.DataFrame
        ``origin``, ``pairs``, ``expected_false`` (sum of ``1 - p``; null where the model
        has none) and ``true_false`` (pairs of different true people).
    """
    above = _cluster_of(labelled.filter(pl.col("match_probability") >= threshold), members)
    joined = pl.col("c_l") == pl.col("c_r")
    exact = pl.col("match_key") == "exact"
    groups = [
        ("scored pairs at or above the threshold", pl.lit(True)),
        ("refused by clustering", ~joined),
        ("accepted: deterministic pass", joined & exact),
        ("accepted: Splink", joined & ~exact),
    ]
    rows = []
    for origin, keep in groups:
        part = above.filter(keep)
        p = part.get_column("match_probability")
        rows.append(
            {
                "origin": origin,
                "pairs": part.height,
                "expected_false": float((1 - p).sum()),
                "true_false": int((~part.get_column("is_match")).sum()),
            }
        )
    direct_false = rows[2]["true_false"] + rows[3]["true_false"]
    in_clusters = false_cluster_pairs(members)
    known = members.drop_nulls("true_person").group_by("cluster_id").agg(pl.len().alias("n"))
    cluster_pairs = int((known.get_column("n") * (known.get_column("n") - 1) // 2).sum())
    direct = rows[2]["pairs"] + rows[3]["pairs"]
    rows.append(
        {
            "origin": "transitive: in one cluster, not joined by an accepted link",
            "pairs": cluster_pairs - direct,
            "expected_false": None,
            "true_false": in_clusters - direct_false,
        }
    )
    rows.append(
        {
            "origin": "all pairs in clusters",
            "pairs": cluster_pairs,
            "expected_false": None,
            "true_false": in_clusters,
        }
    )
    return pl.DataFrame(rows, schema_overrides={"expected_false": pl.Float64})
