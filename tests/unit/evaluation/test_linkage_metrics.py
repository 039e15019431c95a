"""Pairwise and cluster metrics derived by hand on a tiny spine."""

import polars as pl

from evaluation.linkage import cluster_metrics, pairwise_metrics


def _tiny():
    # Truth: person A has census c1, gp g1, gp g2; person B has census c2, dwp d1.
    record_map = pl.DataFrame(
        {
            "source": ["census", "gp", "gp", "census", "dwp"],
            "record_id": ["c1", "g1", "g2", "c2", "d1"],
            "person_id": ["A", "A", "A", "B", "B"],
        }
    )
    # Spine: c1+g1 together, g2 alone (missed duplicate), c2 alone, d1 wrongly with c1.
    spine = pl.DataFrame(
        {
            "source": ["census", "gp", "gp", "census", "dwp"],
            "record_id": ["c1", "g1", "g2", "c2", "d1"],
            "person_id": ["S1", "S1", "S2", "S3", "S1"],
            "match_probability": [1.0] * 5,
        }
    )
    return spine, record_map


def test_pairwise_counts_per_source_pair():
    pairwise, _ = pairwise_metrics(*_tiny())
    rows = {r["source_pair"]: r for r in pairwise.iter_rows(named=True)}
    # census-gp: true pairs c1g1, c1g2 (2); predicted c1g1 (1), correct.
    assert rows["census-gp"]["true_pairs"] == 2
    assert rows["census-gp"]["predicted_pairs"] == 1
    assert rows["census-gp"]["precision"] == 1.0
    assert rows["census-gp"]["recall"] == 0.5
    # census-dwp: true c2d1; predicted c1d1 (wrong).
    assert rows["census-dwp"]["true_positive"] == 0
    assert rows["census-dwp"]["predicted_pairs"] == 1
    # gp-gp dedupe: true g1g2; predicted none.
    assert rows["gp-gp"]["true_pairs"] == 1
    assert rows["gp-gp"]["predicted_pairs"] == 0
    # gp-dwp: predicted g1d1 (wrong), no true pairs.
    assert rows["gp-dwp"]["false_positive"] == 1


def test_cluster_metrics():
    metrics = dict(cluster_metrics(*_tiny()).iter_rows())
    assert metrics["true_people"] == 2
    assert metrics["clusters"] == 3
    assert metrics["people_split"] == 2
    assert metrics["clusters_merging_people"] == 1
    assert metrics["people_exactly_clustered"] == 0
    assert metrics["clusters_with_several_census_records"] == 0
