"""Household evidence on a hand-made household: agreement, one EM step, rescoring."""

import math

import polars as pl
import pytest

from linkage.household import apply_household_evidence, estimate_weights, household_agreement


def _records():
    # Census household H: c0, c1, c2 (ids 0-2) and c3 living alone (id 3, no household
    # members). GP: g0, g1 at P1 (ids 4, 5), candidates for c2 at P1 and P2 (ids 6, 7),
    # a candidate for c3 at P1 (id 8) and one without a postcode (id 9).
    return pl.DataFrame(
        {
            "unique_id": list(range(10)),
            "source": ["census"] * 4 + ["gp"] * 6,
            "record_id": [f"r{i}" for i in range(10)],
            "unique_people": [True] * 4 + [False] * 6,
            "person_number": [None] * 4 + ["A", "B", "C", "D", "E", "F"],
            "postcode": [None] * 4 + ["P1", "P1", "P1", "P2", "P1", None],
            "household": ["census:H"] * 3 + ["census:K"] + [None] * 6,
        }
    )


def _edges(rows):
    frame = pl.DataFrame(
        rows, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )
    p = pl.col("match_probability")
    return frame.with_columns(
        (p / (1 - p)).log(2).alias("match_weight"), pl.lit("1").alias("match_key")
    )


EDGES = [
    (0, 4, 0.99),
    (1, 5, 0.99),
    (2, 6, 0.3),
    (2, 7, 0.3),
    (3, 8, 0.3),
    (2, 9, 0.3),
    (2, 4, 0.3),  # c0's own registration, a candidate for its relative c2
]


def test_agreement_uses_the_other_members_linked_postcodes():
    agreement = household_agreement(_records(), _edges(EDGES))
    found = {
        (r["unique_id_l"], r["unique_id_r"]): r["household_agrees"]
        for r in agreement.iter_rows(named=True)
    }
    assert found[(2, 6)] is True  # c2's household members are linked at P1
    assert found[(2, 7)] is False  # P2: the household is elsewhere
    assert found[(0, 4)] is True  # c1 is at P1 too
    assert found[(3, 8)] is None  # nobody else in c3's household
    assert found[(2, 9)] is None  # no postcode to compare
    assert found[(2, 4)] is None  # already c0's: a relative's record says nothing


def test_one_em_step_weights_agreement_by_match_probability():
    edges = _edges(EDGES)
    weights = estimate_weights(edges, household_agreement(_records(), edges))
    # Informed pairs: (0,4) .99 T, (1,5) .99 T, (2,6) .3 T, (2,7) .3 F.
    assert weights.m == pytest.approx((0.99 + 0.99 + 0.3) / (0.99 + 0.99 + 0.3 + 0.3))
    assert weights.u == pytest.approx((0.01 + 0.01 + 0.7) / (0.01 + 0.01 + 0.7 + 0.7))
    assert weights.pairs_with_information == 4


def test_rescoring_adds_the_bayes_factor_to_the_weight():
    edges = _edges(EDGES)
    agreement = household_agreement(_records(), edges)
    weights = estimate_weights(edges, agreement)
    out = apply_household_evidence(edges, agreement, weights)
    row = out.filter((pl.col("unique_id_l") == 2) & (pl.col("unique_id_r") == 6)).row(0, named=True)
    expected = math.log2(0.3 / 0.7) + math.log2(weights.m / weights.u)
    assert row["match_weight"] == pytest.approx(expected)
    assert row["match_probability"] == pytest.approx(2**expected / (1 + 2**expected))
    against = out.filter(pl.col("unique_id_r") == 7).row(0, named=True)
    assert against["mw_household"] == pytest.approx(math.log2((1 - weights.m) / (1 - weights.u)))
    assert against["match_probability"] < 0.3
    untouched = out.filter(pl.col("unique_id_r") == 8).row(0, named=True)
    assert untouched["mw_household"] == 0.0 and untouched["match_probability"] == pytest.approx(0.3)


def test_no_households_means_no_weights():
    records = _records().with_columns(pl.lit(None, dtype=pl.Utf8).alias("household"))
    edges = _edges(EDGES)
    assert estimate_weights(edges, household_agreement(records, edges)) is None
