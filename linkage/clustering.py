"""Clustering pairwise links into a person spine, at most one record per one-per-person source.

Links are accepted greedily from the most to the least probable (a maximum-spanning-forest
order); a link that would put two records of the same one-per-person source (two census
records) into one cluster is refused, and so is one that would give a cluster more than
``max_per_source`` records of another source, or two records of one source with different
person numbers (NHS numbers, National Insurance numbers; one mistyped character is allowed).
GP and DWP duplicates therefore
join the cluster of their person instead of being dropped, the census is never merged with
itself, chains of near-duplicates cannot grow into clusters of unrelated people, and a
namesake's registration cannot join a cluster that already holds its person's own.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import polars as pl

SPINE_COLUMNS: tuple[str, ...] = ("source", "record_id", "person_id", "match_probability")


MAX_RECORDS_PER_SOURCE = 2
"""A person holds at most this many records in one source that may hold duplicates (DWP:
some people have two master keys; GP: a duplicated registration)."""


def same_number(a: str, b: str) -> bool:
    """Whether two person numbers can belong to one person: equal, or one character
    mistyped (a DWP customer's second master key often carries their NINO with a wrong
    digit; two people's numbers seldom differ in one place only)."""
    if a == b:
        return True
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def cluster_records(
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    threshold: float,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> pl.DataFrame:
    """Cluster records joined by links at or above ``threshold``.

    Parameters
    ----------
    nodes
        One row per record: ``unique_id`` (0..n-1), ``source``, ``record_id`` and
        ``unique_people`` (bool, the source holds one record per person); optionally
        ``person_number`` (the source's own number for the person, null when unknown).
    edges
        Links: ``unique_id_l``, ``unique_id_r``, ``match_probability``.
    threshold
        Links below this probability are ignored.
    max_per_source
        Most records of one source a cluster may hold (one for a one-per-person source).
        Refusing links beyond it stops chains of near-duplicates from snowballing into
        clusters of unrelated people.

    Returns
    -------
    polars.DataFrame
        The spine: ``source``, ``record_id``, ``person_id`` and ``match_probability`` (the
        best accepted link of the record; 1.0 for the first record of each cluster), plus
        ``unique_id``.
    """
    n = nodes.height
    ids = nodes.get_column("unique_id").to_numpy()
    if not np.array_equal(ids, np.arange(n)):
        raise ValueError("node unique_id must run 0..n-1 in order")
    sources = sorted(nodes.get_column("source").unique().to_list())
    index = {name: i for i, name in enumerate(sources)}
    source_of = nodes.get_column("source").replace_strict(index, return_dtype=pl.Int64).to_numpy()
    k = len(sources)
    limits = [max_per_source] * k
    for name in nodes.filter(pl.col("unique_people")).get_column("source").unique().to_list():
        limits[index[name]] = 1
    # Flat arrays indexed root * k + source (compact: millions of records at 5M people).
    # counts: a cluster's records from each source. numbers: the code of the person number
    # its records of that source carry, -1 for none (records without a number add nothing).
    slot = np.arange(n, dtype=np.int64) * k + source_of
    flat = np.zeros(n * k, dtype=np.int32)
    flat[slot] = 1
    counts = array("i", flat.tobytes())
    codes = np.full(n * k, -1, dtype=np.int64)
    texts: list[str] = []
    if "person_number" in nodes.columns:
        number = nodes.get_column("person_number")
        present = number.is_not_null().to_numpy()
        # Dense ranks of the sorted distinct numbers index ``texts``.
        coded = (number.rank("dense") - 1).fill_null(-1).cast(pl.Int64).to_numpy()
        codes[slot[present]] = coded[present]
        texts = number.drop_nulls().unique().sort().to_list()
    numbers = array("q", codes.tobytes())
    del flat, codes, slot

    def compatible(ra: int, rb: int) -> bool:
        for s in range(k):
            x, y = numbers[ra * k + s], numbers[rb * k + s]
            if x != y and x >= 0 and y >= 0 and not same_number(texts[x], texts[y]):
                return False
        return True

    accepted = edges.filter(pl.col("match_probability") >= threshold).sort(
        ["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]
    )
    left = accepted.get_column("unique_id_l").to_list()
    right = accepted.get_column("unique_id_r").to_list()
    prob = accepted.get_column("match_probability").to_list()
    del accepted

    parent = list(range(n))
    best = [0.0] * n

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b, p in zip(left, right, prob, strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            joined = True
        else:
            oa, ob = ra * k, rb * k
            joined = all(
                counts[oa + s] + counts[ob + s] <= limits[s] for s in range(k)
            ) and compatible(ra, rb)
            if joined:
                # The smaller id becomes the root, so a cluster is named after its first record.
                if rb < ra:
                    ra, rb, oa, ob = rb, ra, ob, oa
                parent[rb] = ra
                for s in range(k):
                    counts[oa + s] += counts[ob + s]
                    if numbers[oa + s] < 0:
                        numbers[oa + s] = numbers[ob + s]
        if joined:
            if p > best[a]:
                best[a] = p
            if p > best[b]:
                best[b] = p

    roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    width = max(9, len(str(n)))
    spine = nodes.select("unique_id", "source", "record_id").with_columns(
        pl.Series("root", roots),
        pl.Series("best", best, dtype=pl.Float64),
    )
    return spine.select(
        "source",
        "record_id",
        pl.format("S{}", pl.col("root").cast(pl.Utf8).str.zfill(width)).alias("person_id"),
        pl.when(pl.col("root") == pl.col("unique_id"))
        .then(1.0)
        .otherwise(pl.col("best"))
        .alias("match_probability"),
        "unique_id",
    )


def spine_at_threshold(
    linkage_dir: Path, threshold: float, *, max_per_source: int = MAX_RECORDS_PER_SOURCE
) -> pl.DataFrame:
    """Re-cluster a run's saved predictions at another threshold.

    Parameters
    ----------
    linkage_dir
        A run's ``linkage/`` folder holding ``records.parquet`` and ``predictions.parquet``.
    threshold
        Match probability at or above which links are accepted; it cannot be below the
        ``prediction_floor`` the run saved predictions at.
    max_per_source
        As in :func:`cluster_records` (the run's ``max_records_per_source``).

    Returns
    -------
    polars.DataFrame
        A spine with the contract columns (see ``docs/data_contracts.md``).
    """
    path = linkage_dir / "records.parquet"
    wanted = ["unique_id", "source", "record_id", "unique_people", "person_number"]
    nodes = pl.read_parquet(path, columns=[c for c in wanted if c in pl.read_parquet_schema(path)])
    edges = pl.read_parquet(
        linkage_dir / "predictions.parquet",
        columns=["unique_id_l", "unique_id_r", "match_probability"],
    )
    return cluster_records(nodes, edges, threshold, max_per_source=max_per_source).select(
        SPINE_COLUMNS
    )
