"""Household evidence: the members of a census household who still live together.

The census records a household; GP and DWP records carry only a current address. People
move as households, so when the other members of a census household are already linked,
with confidence, to GP records at one postcode, a GP candidate for the remaining member at
that same postcode is far more likely to be theirs than a namesake elsewhere (ONS's
"associative" matching of household members).

After Splink has scored the pairs, every pair of a record with a household (census) and a
record of another source gets an extra comparison, ``household``:

- *agrees*: the other record's postcode is the postcode of a record of its source already
  linked directly (at :data:`ANCHOR_PROBABILITY`) to another member of the household;
- *disagrees*: other members are linked in that source, at other postcodes;
- *null*: no other member is linked in that source, the postcode is missing, or the
  candidate is already linked to another member (a relative's own record).

Its m and u are estimated from the scored pairs themselves, one expectation-maximisation
step holding the rest of the model fixed: m is the share of agreeing pairs weighted by each
pair's match probability, u the same weighted by one minus it. The Bayes factor is added to
the pair's match weight (``mw_household``) and its probability recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

ANCHOR_PROBABILITY = 0.9
"""Links at least this probable tell where a household's other members are now."""

_BOUND = 1e-6
"""m and u are kept within [bound, 1 - bound] so that no weight is infinite."""


@dataclass(frozen=True)
class HouseholdWeights:
    """The estimated m and u of household agreement, and the weights they give."""

    m: float
    u: float
    pairs_with_information: int

    @property
    def agree_weight(self) -> float:
        """Match weight (log2 Bayes factor) added when the household agrees."""
        return math.log2(self.m / self.u)

    @property
    def disagree_weight(self) -> float:
        """Match weight added when other members are linked at other postcodes."""
        return math.log2((1 - self.m) / (1 - self.u))

    def as_dict(self) -> dict[str, float | int]:
        """For the run summary."""
        return {
            "m": self.m,
            "u": self.u,
            "agree_weight": self.agree_weight,
            "disagree_weight": self.disagree_weight,
            "pairs_with_information": self.pairs_with_information,
            "anchor_probability": ANCHOR_PROBABILITY,
        }


def household_agreement(records: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Household agreement of every scored pair between a household record and another
    source's record.

    Parameters
    ----------
    records
        The record frame: ``unique_id``, ``source``, ``postcode`` and ``household`` (null
        where a source has none).
    edges
        Scored pairs: ``unique_id_l``, ``unique_id_r``, ``match_probability``,
        ``match_key``.

    Returns
    -------
    polars.DataFrame
        ``unique_id_l``, ``unique_id_r`` and ``household_agrees`` (bool, null when there
        is no information), one row per pair with a household side.
    """
    pairs = _household_pairs(records, edges)
    # Links this sure (deterministic ones included) tell where each member's records are now.
    anchored = pairs.filter(pl.col("match_probability") >= ANCHOR_PROBABILITY)
    whereabouts = (
        anchored.drop_nulls("postcode").select("household", "member", "source", "postcode").unique()
    )
    pairs = pairs.filter(pl.col("match_key") != "exact")
    taken = _taken_by_another_member(pairs, anchored)
    others = _other_members_at_postcode(pairs, whereabouts)
    return (
        pairs.join(others, on=["unique_id_l", "unique_id_r"], how="left")
        .join(taken, on=["unique_id_l", "unique_id_r"], how="left")
        .select(
            "unique_id_l",
            "unique_id_r",
            pl.when(pl.col("postcode").is_not_null() & pl.col("taken").is_null())
            .then(pl.col("agrees"))
            .alias("household_agrees"),
        )
    )


def _household_pairs(records: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """The scored pairs across sources with a household record on one side: that side is
    the ``member`` of ``household``, the other the ``candidate`` with its ``source`` and
    ``postcode``."""
    ends = records.select(
        pl.col("unique_id").alias("_id"),
        pl.col("source").alias("_source"),
        pl.col("postcode").alias("_postcode"),
        pl.col("household").alias("_household"),
    )
    pairs = (
        edges.select("unique_id_l", "unique_id_r", "match_probability", "match_key")
        .join(ends.rename(lambda c: c + "_l"), left_on="unique_id_l", right_on="_id_l")
        .join(ends.rename(lambda c: c + "_r"), left_on="unique_id_r", right_on="_id_r")
    )
    left_side = pl.col("_household_l").is_not_null()
    return pairs.filter(
        (pl.col("_source_l") != pl.col("_source_r"))
        & (left_side | pl.col("_household_r").is_not_null())
    ).select(
        "unique_id_l",
        "unique_id_r",
        "match_probability",
        "match_key",
        pl.when(left_side).then(pl.col("unique_id_l")).otherwise("unique_id_r").alias("member"),
        pl.when(left_side)
        .then(pl.col("_household_l"))
        .otherwise("_household_r")
        .alias("household"),
        pl.when(left_side).then(pl.col("unique_id_r")).otherwise("unique_id_l").alias("candidate"),
        pl.when(left_side).then(pl.col("_source_r")).otherwise("_source_l").alias("source"),
        pl.when(left_side).then(pl.col("_postcode_r")).otherwise("_postcode_l").alias("postcode"),
    )


def _taken_by_another_member(pairs: pl.DataFrame, anchored: pl.DataFrame) -> pl.DataFrame:
    """The pairs whose candidate is already surely linked to another household member."""
    # A candidate already linked to another household record (a relative's own registration)
    # says nothing about this member: clustering will refuse the pair anyway, and counting
    # it would teach u that non-matches share the household's address.
    holders = anchored.select("candidate", pl.col("member").alias("holder")).unique()
    return (
        pairs.join(holders, on="candidate")
        .filter(pl.col("holder") != pl.col("member"))
        .select("unique_id_l", "unique_id_r", pl.lit(True).alias("taken"))
        .unique()
    )


def _other_members_at_postcode(pairs: pl.DataFrame, whereabouts: pl.DataFrame) -> pl.DataFrame:
    """Per pair, whether another member of the household is surely linked, in the
    candidate's source, at the candidate's postcode (``agrees``)."""
    return (
        pairs.join(
            whereabouts.rename({"member": "other", "postcode": "other_postcode"}),
            on=["household", "source"],
        )
        .filter(pl.col("other") != pl.col("member"))
        .group_by("unique_id_l", "unique_id_r")
        .agg((pl.col("other_postcode") == pl.col("postcode").first()).any().alias("agrees"))
    )


def estimate_weights(edges: pl.DataFrame, agreement: pl.DataFrame) -> HouseholdWeights | None:
    """One EM step for the household comparison: m and u weighted by each pair's match
    probability. ``None`` when no pair carries household information."""
    informed = agreement.drop_nulls("household_agrees").join(
        edges.select("unique_id_l", "unique_id_r", "match_probability"),
        on=["unique_id_l", "unique_id_r"],
    )
    if informed.height == 0:
        return None
    p = informed.get_column("match_probability")
    agrees = informed.get_column("household_agrees").cast(pl.Float64)
    m = float((p * agrees).sum() / max(p.sum(), _BOUND))
    u = float(((1 - p) * agrees).sum() / max((1 - p).sum(), _BOUND))
    bounded = [min(max(x, _BOUND), 1 - _BOUND) for x in (m, u)]
    return HouseholdWeights(bounded[0], bounded[1], informed.height)


def apply_household_evidence(
    predictions: pl.DataFrame, agreement: pl.DataFrame, weights: HouseholdWeights
) -> pl.DataFrame:
    """Add ``mw_household`` to the scored pairs and update their weight and probability."""
    adjusted = predictions.join(agreement, on=["unique_id_l", "unique_id_r"], how="left")
    adjustment = (
        pl.when(pl.col("household_agrees"))
        .then(weights.agree_weight)
        .when(~pl.col("household_agrees"))
        .then(weights.disagree_weight)
        .when(pl.col("match_key") == "exact")
        .then(None)
        .otherwise(0.0)
    )
    weight = pl.col("match_weight") + pl.col("mw_household").fill_null(0.0)
    return (
        adjusted.with_columns(adjustment.alias("mw_household"))
        .with_columns(
            pl.when(pl.col("match_key") == "exact")
            .then(pl.col("match_weight"))
            .otherwise(weight)
            .alias("match_weight"),
        )
        .with_columns(
            pl.when(pl.col("match_key") == "exact")
            .then(pl.col("match_probability"))
            .otherwise(1 / (1 + (2.0 ** -pl.col("match_weight"))))
            .alias("match_probability")
        )
        .drop("household_agrees")
    )
