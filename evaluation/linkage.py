"""Scoring a linkage against the synthetic truth: the evaluation stage's pairwise metrics.

Pairwise metrics count record pairs: a predicted pair is two records in one spine cluster,
a true pair two records of one true person. For a source pair (A, B) each pair is counted
once; within one source (``gp-gp``) it is the deduplication. Metrics by subgroup attribute
a pair to the true person of its first record (the census record for ``census-*`` pairs).
Confidence intervals are Wilson score intervals at 95% (:mod:`evaluation.intervals`); groups
are those of :mod:`evaluation.groups`. Counts of pairs are integers.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from common.files import staged_output
from evaluation.groups import BREAKDOWNS, person_groups
from evaluation.intervals import wilson, wilson_columns
from evaluation.spine import lowest_recall_cells, members, rates_by_group, record_outcomes
from evaluation.world import census_flags, census_record_outcomes, world_comparison, world_shares
from linkage import model
from linkage.config import LinkageConfig
from linkage.files import read_mapping, truth_record_map
from linkage.pipeline import link_records

DIMENSIONS = BREAKDOWNS


def _labelled_records(spine: pl.DataFrame, record_map: pl.DataFrame) -> pl.DataFrame:
    joined = spine.select("source", "record_id", pl.col("person_id").alias("cluster")).join(
        record_map.select("source", "record_id", pl.col("person_id").alias("person")),
        on=["source", "record_id"],
        how="left",
    )
    missing = joined.get_column("person").null_count()
    if missing:
        raise ValueError(f"{missing} spine records have no entry in truth/record_map.parquet")
    return joined


def _with_counts(records: pl.DataFrame, sources: list[str]) -> pl.DataFrame:
    """Each record with the records of every source in its cluster (``nc_*``), in its
    cluster and true person (``ncp_*``) and in its true person (``np_*``)."""
    # Window sums over integer codes of the cluster and person: one pass, no pivot and
    # no join of millions of rows on string ids.
    codes = records.with_columns(
        pl.col("cluster").cast(pl.Categorical).to_physical().alias("_cluster"),
        pl.col("person").cast(pl.Categorical).to_physical().alias("_person"),
    )
    counts = [
        (pl.col("source") == s).sum().over(keys).alias(f"{prefix}_{s}")
        for keys, prefix in (
            (["_cluster"], "nc"),
            (["_cluster", "_person"], "ncp"),
            (["_person"], "np"),
        )
        for s in sources
    ]
    return codes.with_columns(counts).drop("_cluster", "_person")


def _pair_terms(frame: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Per record of source ``a``: its predicted, true-positive and true pairs with ``b``."""
    same = 1 if a == b else 0
    half = 0.5 if a == b else 1.0
    return frame.filter(pl.col("source") == a).with_columns(
        ((pl.col(f"nc_{b}") - same) * half).alias("predicted"),
        ((pl.col(f"ncp_{b}") - same) * half).alias("true_positive"),
        ((pl.col(f"np_{b}") - same) * half).alias("true_pairs"),
    )


def _metrics_row(predicted: float, tp: float, true: float) -> dict[str, float]:
    # Per-record terms are halves within one source; their sums are whole pairs.
    predicted, tp, true = round(predicted), round(tp), round(true)
    precision, p_lo, p_hi = wilson(tp, predicted)
    recall, r_lo, r_hi = wilson(tp, true)
    f1 = 2 * precision * recall / (precision + recall) if predicted and true and tp else 0.0
    return {
        "predicted_pairs": predicted,
        "true_positive": tp,
        "true_pairs": true,
        "false_positive": predicted - tp,
        "false_negative": true - tp,
        "precision": precision,
        "precision_lower": p_lo,
        "precision_upper": p_hi,
        "recall": recall,
        "recall_lower": r_lo,
        "recall_upper": r_hi,
        "f1": f1,
    }


def overall_f1(linkage_dir: Path) -> float:
    """Pairwise F1 over every row of a run's saved ``evaluation/pairwise.parquet`` (true,
    predicted and correct pairs summed first): one figure to compare two runs by."""
    table = pl.read_parquet(Path(linkage_dir) / "evaluation" / "pairwise.parquet")
    true, predicted, correct = table.select(
        pl.col("true_pairs", "predicted_pairs", "true_positive").sum()
    ).row(0)
    precision, recall = correct / predicted, correct / true
    return 2 * precision * recall / (precision + recall)


def source_pairs(sources: list[str]) -> list[tuple[str, str]]:
    """Ordered source pairs (census, gp, dwp, then others), each source with itself too."""
    rank = {"census": 0, "gp": 1, "dwp": 2}
    order = sorted(sources, key=lambda s: (rank.get(s, 3), s))
    return list(itertools.combinations_with_replacement(order, 2))


def pairwise_metrics(
    spine: pl.DataFrame,
    record_map: pl.DataFrame,
    people: pl.DataFrame | None = None,
    excluded: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairwise precision, recall and F1 per source pair, overall and by subgroup.

    Parameters
    ----------
    excluded
        ``source`` and ``record_id`` of records the linkage leaves unlinked by design (the
        census's wholly imputed records). The metrics are given for ``scope`` ``all`` (every
        true pair) and, when given, ``linkable`` (pairs of other records only).

    Returns
    -------
    tuple of polars.DataFrame
        ``(pairwise, by_group)``; ``by_group`` is empty without ``people``.
    """
    scopes = [("all", spine, record_map)]
    if excluded is not None and excluded.height:
        keys = ["source", "record_id"]
        scopes.append(
            (
                "linkable",
                spine.join(excluded, on=keys, how="anti"),
                record_map.join(excluded, on=keys, how="anti"),
            )
        )
    pairwise, grouped = [], []
    for scope, scope_spine, scope_map in scopes:
        p, g = _pairwise_one_scope(scope_spine, scope_map, people)
        pairwise.append(p.select(pl.lit(scope).alias("scope"), pl.all()))
        if g.height:
            grouped.append(g.select(pl.lit(scope).alias("scope"), pl.all()))
    return pl.concat(pairwise), (pl.concat(grouped) if grouped else pl.DataFrame())


def _pairwise_one_scope(
    spine: pl.DataFrame, record_map: pl.DataFrame, people: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    records = _labelled_records(spine, record_map)
    sources = sorted(records.get_column("source").unique().to_list())
    frame = _with_counts(records, sources)
    if people is not None:
        frame = frame.join(
            person_groups(people), left_on="person", right_on="person_id", how="left"
        )
    overall, grouped = [], []
    totals = [0.0, 0.0, 0.0]
    for a, b in source_pairs(sources):
        terms = _pair_terms(frame, a, b)
        sums = terms.select(pl.sum("predicted", "true_positive", "true_pairs")).row(0)
        if sums[2] == 0 and sums[0] == 0:
            continue
        overall.append({"source_pair": f"{a}-{b}", **_metrics_row(*sums)})
        totals = [t + s for t, s in zip(totals, sums, strict=True)]
        if people is None:
            continue
        for dim in DIMENSIONS:
            agg = terms.group_by(dim).agg(pl.sum("predicted", "true_positive", "true_pairs"))
            for group, pred, tp, true in agg.iter_rows():
                grouped.append(
                    {
                        "dimension": dim,
                        "group": str(group),
                        "source_pair": f"{a}-{b}",
                        **_metrics_row(pred, tp, true),
                    }
                )
    if overall:
        overall.append({"source_pair": "all", **_metrics_row(*totals)})
    by_group = pl.DataFrame(grouped) if grouped else pl.DataFrame()
    if by_group.height:
        by_group = by_group.sort(["dimension", "group", "source_pair"])
    return pl.DataFrame(overall), by_group


def cluster_metrics(spine: pl.DataFrame, record_map: pl.DataFrame) -> pl.DataFrame:
    """Cluster-level quality: exact clusters, split people, merged clusters, census clashes."""
    records = _labelled_records(spine, record_map)
    per_person = records.group_by("person").agg(pl.col("cluster").n_unique().alias("k"))
    per_cluster = records.group_by("cluster").agg(
        pl.col("person").n_unique().alias("k"),
        (pl.col("source") == "census").sum().alias("census"),
        pl.len().alias("size"),
    )
    exact = (
        records.group_by("person")
        .agg(pl.col("cluster").first(), pl.col("cluster").n_unique().alias("k"))
        .filter(pl.col("k") == 1)
        .join(per_cluster.filter(pl.col("k") == 1).select("cluster"), on="cluster")
    )
    n_people = per_person.height
    rows = {
        "true_people": n_people,
        "clusters": per_cluster.height,
        "people_exactly_clustered": exact.height,
        "cluster_exact_rate": exact.height / n_people if n_people else math.nan,
        "people_split": int((per_person.get_column("k") > 1).sum()),
        "clusters_merging_people": int((per_cluster.get_column("k") > 1).sum()),
        "clusters_with_several_census_records": int((per_cluster.get_column("census") > 1).sum()),
        "largest_cluster": int(per_cluster.get_column("size").max()),
    }
    return pl.DataFrame({"metric": list(rows), "value": [float(v) for v in rows.values()]})


def blocking_recall(records_path: Path, record_map: pl.DataFrame) -> pl.DataFrame:
    """Share of true pairs that the deterministic pass or any blocking rule brings together.

    Rules are evaluated on each true pair's standardised records (the deterministic pass
    joins records equal on all its keys, so a pair's representatives share its keys). Pairs
    involving a record left unlinked by design (wholly imputed) are not counted.
    """
    con = duckdb.connect()
    try:
        con.register("record_map", record_map.to_arrow())
        con.execute(
            f"CREATE TABLE recs AS SELECT r.*, m.person_id FROM read_parquet('{records_path}') r "
            "JOIN record_map m USING (source, record_id) WHERE r.linkable"
        )
        keys = " AND ".join(f"l.{k} = r.{k}" for k in model.DETERMINISTIC_KEYS)
        rules = {"exact_keys": keys} | {
            f"rule_{i + 1}": rule for i, rule in enumerate(model.BLOCKING_RULES)
        }
        flags = ", ".join(f"coalesce({sql}, false) AS {name}" for name, sql in rules.items())
        pairs = con.sql(
            f"""
            SELECT l.source AS source_l, r.source AS source_r, {flags}
            FROM recs l JOIN recs r ON l.person_id = r.person_id AND l.unique_id < r.unique_id
            WHERE NOT (l.source = r.source AND l.unique_people)
            """
        ).pl()
    finally:
        con.close()
    names = list(rules)
    sources = sorted(set(pairs.get_column("source_l")) | set(pairs.get_column("source_r")))
    # Both orders of each pair map to one name (a join, not a Python call per true pair).
    pair_names = pl.DataFrame(
        [
            {"source_l": left, "source_r": right, "source_pair": f"{a}-{b}"}
            for a, b in source_pairs(sources)
            for left, right in {(a, b), (b, a)}
        ],
        schema={"source_l": pl.Utf8, "source_r": pl.Utf8, "source_pair": pl.Utf8},
    )
    pairs = pairs.join(pair_names, on=["source_l", "source_r"], how="left").with_columns(
        pl.any_horizontal(names).alias("any_rule")
    )
    summary = pairs.group_by("source_pair").agg(
        pl.len().alias("true_pairs"),
        *[pl.col(n).mean().alias(f"recall_{n}") for n in [*names, "any_rule"]],
        pl.col("any_rule").sum().alias("blocked_pairs"),
    )
    total = pairs.select(
        pl.lit("all").alias("source_pair"),
        pl.len().alias("true_pairs"),
        *[pl.col(n).mean().alias(f"recall_{n}") for n in [*names, "any_rule"]],
        pl.col("any_rule").sum().alias("blocked_pairs"),
    )
    out = pl.concat([summary.sort("source_pair"), total], how="vertical_relaxed")
    return out.with_columns(*wilson_columns("blocked_pairs", "true_pairs", "recall")[1:])


def evaluate_linkage(
    linkage_dir: Path, truth_dir: Path, out_dir: Path | None = None
) -> dict[str, Any]:
    """Stage entry point: score a run's spine against the truth and write the tables.

    Writes ``pairwise.parquet``, ``by_group.parquet``, ``clusters.parquet``,
    ``blocking_recall.parquet``, ``evaluation_summary.json`` and (with the people)
    ``rates_by_group.parquet``, ``lowest_recall.parquet`` and ``world_shares.parquet`` to
    ``out_dir`` (default ``linkage_dir/evaluation``), replaced as a whole.

    Returns
    -------
    dict
        Precision, recall and F1 per source pair, overall blocking recall and cluster rate.
    """
    linkage_dir, truth_dir = Path(linkage_dir), Path(truth_dir)
    record_map = pl.read_parquet(truth_dir / "record_map.parquet")
    people_path = truth_dir / "people.parquet"
    people = pl.read_parquet(people_path) if people_path.exists() else None
    out_dir = Path(out_dir) if out_dir is not None else linkage_dir / "evaluation"
    return evaluate_against_record_map(linkage_dir, record_map, people, out_dir)


def _write_record_rates(
    spine: pl.DataFrame,
    record_map: pl.DataFrame,
    people: pl.DataFrame,
    excluded: pl.DataFrame,
    staging: Path,
) -> None:
    """Census-record linkage rates by group, the lowest-recall cells and the world's shares
    against ONS's figures, for the report."""
    outcomes = record_outcomes(members(spine, record_map), excluded)
    groups = person_groups(people)
    rates_by_group(outcomes, groups).write_parquet(staging / "rates_by_group.parquet")
    lowest_recall_cells(outcomes, groups).write_parquet(staging / "lowest_recall.parquet")
    # The world's census linkage by ONS's groups beside ONS's figures (evaluation.world).
    census = census_flags(record_map, excluded)
    world = world_shares(census_record_outcomes(people, record_map, spine, census))
    world_comparison(world).write_parquet(staging / "world_shares.parquet")


def evaluate_against_record_map(
    linkage_dir: Path,
    record_map: pl.DataFrame,
    people: pl.DataFrame | None,
    out_dir: Path,
) -> dict[str, Any]:
    """Score the spine in ``linkage_dir`` against a record map and write the tables.

    ``people`` (truth/people.parquet) adds the subgroup table; without it
    ``by_group.parquet`` is empty.
    """
    spine = pl.read_parquet(linkage_dir / "spine.parquet")
    excluded = (
        pl.read_parquet(
            linkage_dir / "records.parquet", columns=["source", "record_id", "linkable"]
        )
        .filter(~pl.col("linkable"))
        .drop("linkable")
    )
    pairwise, by_group = pairwise_metrics(spine, record_map, people, excluded)
    clusters = cluster_metrics(spine, record_map)
    blocking = blocking_recall(linkage_dir / "records.parquet", record_map)

    def scores(scope: str) -> dict[str, dict[str, float]]:
        return {
            row["source_pair"]: {k: row[k] for k in ("precision", "recall", "f1")}
            for row in pairwise.filter(pl.col("scope") == scope).iter_rows(named=True)
        }

    summary = {
        "pairwise": scores("all"),
        "pairwise_linkable": scores("linkable") if excluded.height else scores("all"),
        "unlinkable_records": excluded.height,
        "blocking_recall": blocking.filter(pl.col("source_pair") == "all")
        .get_column("recall_any_rule")
        .item(),
        "cluster_exact_rate": clusters.filter(pl.col("metric") == "cluster_exact_rate")
        .get_column("value")
        .item(),
    }
    with staged_output(out_dir) as staging:
        if people is not None:
            _write_record_rates(spine, record_map, people, excluded, staging)
        pairwise.write_parquet(staging / "pairwise.parquet")
        by_group.write_parquet(staging / "by_group.parquet")
        clusters.write_parquet(staging / "clusters.parquet")
        blocking.write_parquet(staging / "blocking_recall.parquet")
        (staging / "evaluation_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def link_and_evaluate_files(
    inputs: dict[str, Path],
    mapping: Path,
    out_dir: Path,
    *,
    truth_column: str,
    config: LinkageConfig | None = None,
) -> dict[str, Any]:
    """Link files as :func:`linkage.link_files` does and score the links against a column
    every input holds with the true person id; the tables go to ``out_dir/evaluation``.

    The truth column is read before anything is linked, so a missing one stops the command
    before anything is written.

    Returns
    -------
    dict
        The linkage summary, with ``evaluation``.

    Raises
    ------
    linkage.LinkageInputError
        An input or the mapping is unusable, or an input lacks the truth column.
    """
    specs = read_mapping(mapping, inputs)
    record_map = truth_record_map(specs, truth_column)
    summary = link_records(specs, Path(out_dir), config)
    summary["evaluation"] = evaluate_against_record_map(
        Path(out_dir), record_map, None, Path(out_dir) / "evaluation"
    )
    return summary
