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
from collections.abc import Iterator
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


def _number_codes(numbers: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Each record's number as a code into the sorted distinct numbers (-1 for none)."""
    coded = (numbers.rank("dense") - 1).fill_null(-1).cast(pl.Int64).to_numpy()
    return coded, numbers.drop_nulls().unique().sort().to_list()


class _Clusters:
    """Union-find over records that refuses joins breaking a cluster's constraints.

    Flat arrays indexed ``root * width + slot`` keep it compact (millions of records at 5M
    people). ``counts`` holds a cluster's records from each source. ``numbers`` holds, for
    each source, the code of the person number its records of that source carry, and in a
    last slot the code of the shared number (held across sources) when there is one; -1
    for none (records without a number add nothing).
    """

    def __init__(self, nodes: pl.DataFrame, max_per_source: int) -> None:
        n = nodes.height
        sources = sorted(nodes.get_column("source").unique().to_list())
        index = {name: i for i, name in enumerate(sources)}
        source_of = nodes.get_column("source").replace_strict(index, return_dtype=pl.Int64)
        k = self.k = len(sources)
        self.limits = [max_per_source] * k
        for name in nodes.filter(pl.col("unique_people")).get_column("source").unique():
            self.limits[index[name]] = 1
        flat = np.zeros(n * k, dtype=np.int32)
        flat[np.arange(n, dtype=np.int64) * k + source_of.to_numpy()] = 1
        self.counts = array("i", flat.tobytes())
        del flat
        self.slots = k + 1
        codes = np.full(n * self.slots, -1, dtype=np.int64)
        self.texts: list[list[str]] = [[], []]
        rows = np.arange(n, dtype=np.int64) * self.slots
        for which, (column, slot) in enumerate(
            [("person_number", rows + source_of.to_numpy()), ("shared_number", rows + k)]
        ):
            if column in nodes.columns:
                coded, self.texts[which] = _number_codes(nodes.get_column(column))
                present = coded >= 0
                codes[slot[present]] = coded[present]
        self.numbers = array("q", codes.tobytes())
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        """The root of ``x``'s cluster (compressing the path)."""
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def roots(self) -> np.ndarray:
        """Every record's root, by pointer jumping over the whole parent array at once
        (a Python ``find`` per record takes seconds at millions of records)."""
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent
            parent = grand

    def _compatible(self, ra: int, rb: int) -> bool:
        oa, ob = ra * self.slots, rb * self.slots
        for s in range(self.slots):
            x, y = self.numbers[oa + s], self.numbers[ob + s]
            texts = self.texts[1 if s == self.k else 0]
            if x != y and x >= 0 and y >= 0 and not same_number(texts[x], texts[y]):
                return False
        ca, cb = ra * self.k, rb * self.k
        return all(
            self.counts[ca + s] + self.counts[cb + s] <= self.limits[s] for s in range(self.k)
        )

    def join(self, a: int, b: int) -> bool:
        """Join the clusters of ``a`` and ``b`` unless that breaks a constraint; True when
        they end up in one cluster."""
        find = self.find
        ra, rb = find(a), find(b)
        if ra == rb:
            return True
        if not self._compatible(ra, rb):
            return False
        # The smaller id becomes the root, so a cluster is named after its first record.
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        for s in range(self.k):
            self.counts[ra * self.k + s] += self.counts[rb * self.k + s]
        for s in range(self.slots):
            if self.numbers[ra * self.slots + s] < 0:
                self.numbers[ra * self.slots + s] = self.numbers[rb * self.slots + s]
        return True


def person_id_width(records: int) -> int:
    """Digits of the zero-padded root id in ``person_id`` for a run of ``records`` records
    (at least nine, so ids sort as text and stay the same length in small runs)."""
    return max(9, len(str(records)))


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
        ``person_number`` (the source's own number for the person, null when unknown) and
        ``shared_number`` (a number several sources hold for the person: a cluster holds
        one, give or take a mistyped character).
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
    if not np.array_equal(nodes.get_column("unique_id").to_numpy(), np.arange(n)):
        raise ValueError("node unique_id must run 0..n-1 in order")
    kept = edges.filter(pl.col("match_probability") >= threshold)
    roots, best = _greedy(nodes, kept, max_per_source)
    return _spine_frame(nodes, roots, best)


def _greedy(
    nodes: pl.DataFrame, edges: pl.DataFrame, max_per_source: int
) -> tuple[np.ndarray, list[float]]:
    """Accept ``edges`` (between positions 0..n-1 of ``nodes``) from the most to the least
    probable, refusing those that break a cluster's constraints.

    Returns each record's root position and the probability of its best accepted link.
    """
    n = nodes.height
    clusters = _Clusters(nodes, max_per_source)
    accepted = edges.select("unique_id_l", "unique_id_r", "match_probability").sort(
        ["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]
    )
    left, right, prob = (accepted.get_column(c).to_list() for c in accepted.columns[:3])
    del accepted
    best = [0.0] * n
    join = clusters.join  # bound once: this loop runs once per link, millions of times
    for a, b, p in zip(left, right, prob, strict=True):
        if join(a, b):
            if p > best[a]:
                best[a] = p
            if p > best[b]:
                best[b] = p
    return clusters.roots(), best


def _spine_frame(nodes: pl.DataFrame, roots: np.ndarray, best: list[float]) -> pl.DataFrame:
    """The spine of clusters given by each record's root and best accepted link."""
    spine = nodes.select("unique_id", "source", "record_id").with_columns(
        pl.Series("root", roots),
        pl.Series("best", best, dtype=pl.Float64),
    )
    width = person_id_width(nodes.height)
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


def accepted_links(
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    floor: float,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> pl.DataFrame:
    """The links at or above ``floor``, each marked whether clustering accepts it.

    Clustering takes links from the most to the least probable, and whether a link is
    refused depends only on the links before it; so the links accepted at any threshold
    ``t >= floor`` are exactly those marked ``accepted`` here with probability at least
    ``t``, and one pass answers for every candidate threshold. A refused link is refused
    at every threshold (the links that refuse it come first whatever the threshold).

    Parameters are as in :func:`cluster_records`.

    Returns
    -------
    polars.DataFrame
        ``match_probability`` and ``accepted`` (bool) of every link at or above ``floor``,
        most probable first.
    """
    clusters = _Clusters(nodes, max_per_source)
    ordered = (
        edges.select("unique_id_l", "unique_id_r", "match_probability")
        .filter(pl.col("match_probability") >= floor)
        .sort(["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False])
    )
    join = clusters.join
    left, right = ordered.get_column("unique_id_l").to_list(), ordered.get_column("unique_id_r")
    accepted = [join(a, b) for a, b in zip(left, right.to_list(), strict=True)]
    return ordered.with_columns(pl.Series("accepted", accepted, dtype=pl.Boolean))


def accepted_in_component(
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    floor: float,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> pl.DataFrame:
    """:func:`accepted_links` over one connected component of the links at ``floor`` (or
    a union of whole components), whose ``unique_id`` values need not run 0..n-1.

    Whether a link is refused depends only on the links before it among the records a
    chain of links connects, so each component alone gives exactly the marks
    :func:`accepted_links` gives over every record: this is what Spark runs per bucket of
    components (:mod:`linkage.spark_clustering`). Returns ``unique_id_l``, ``unique_id_r``,
    ``match_probability`` and ``accepted``.
    """
    nodes = nodes.sort("unique_id")
    ids = nodes.get_column("unique_id").to_numpy()
    # Positions in id order: the mapping keeps the order of ids, so ties between links
    # come out as they do over all records.
    local = edges.with_columns(
        pl.Series("unique_id_l", np.searchsorted(ids, edges.get_column("unique_id_l").to_numpy())),
        pl.Series("unique_id_r", np.searchsorted(ids, edges.get_column("unique_id_r").to_numpy())),
    )
    marked = accepted_links(nodes, local, floor, max_per_source=max_per_source)
    return marked.with_columns(
        pl.Series("unique_id_l", ids[marked.get_column("unique_id_l").to_numpy()]),
        pl.Series("unique_id_r", ids[marked.get_column("unique_id_r").to_numpy()]),
    )


RECORDS_FILE = "records.parquet"
"""In a run's ``linkage/`` folder: the standardised records (written first; Splink's part
reads them from there)."""

ACCEPTED_LINKS_FILE = "accepted_links.parquet"
"""In a run's ``linkage/`` folder: the links clustering accepts at the lowest threshold the
run considered, from which the spine at any higher threshold follows without clustering
again (:func:`spine_from_accepted`)."""


def write_accepted_links(
    links: pl.DataFrame, floor: float, max_per_source: int, path: Path
) -> None:
    """Save the accepted links of :func:`accepted_links` with the floor and the per-source
    limit they hold for (constant columns: the file is self-describing)."""
    links.filter(pl.col("accepted")).select(
        "unique_id_l",
        "unique_id_r",
        "match_probability",
        pl.lit(floor, dtype=pl.Float64).alias("floor"),
        pl.lit(max_per_source, dtype=pl.Int32).alias("max_per_source"),
    ).write_parquet(path)


def spine_from_accepted(
    nodes: pl.DataFrame, accepted: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """The spine at ``threshold`` from the links clustering accepted at a lower floor.

    The clusters at a threshold are the connected components of the accepted links at or
    above it (clustering merges along exactly those links), each named after its smallest
    record as :func:`cluster_records` names it; a record's probability is its best accepted
    link (1.0 for the first record of a cluster). Equal to :func:`cluster_records` at that
    threshold, without a pass over the links in Python.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = nodes.height
    links = accepted.filter(pl.col("match_probability") >= threshold)
    left = links.get_column("unique_id_l").to_numpy()
    right = links.get_column("unique_id_r").to_numpy()
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    first = np.full(component.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n, dtype=np.int64))
    best = (
        pl.concat(
            [
                links.select(pl.col(f"unique_id_{side}").alias("unique_id"), "match_probability")
                for side in ("l", "r")
            ]
        )
        .group_by("unique_id")
        .agg(pl.col("match_probability").max())
    )
    best_of = np.zeros(n, dtype=np.float64)
    best_of[best.get_column("unique_id").to_numpy()] = best.get_column(
        "match_probability"
    ).to_numpy()
    return _spine_frame(nodes, first[component], best_of.tolist())


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
    saved = _saved_accepted(linkage_dir, threshold, max_per_source)
    if saved is not None:
        return spine_from_accepted(saved[0], saved[1], threshold).select(SPINE_COLUMNS)
    nodes, edges = _saved_nodes_and_edges(linkage_dir)
    return cluster_records(nodes, edges, threshold, max_per_source=max_per_source).select(
        SPINE_COLUMNS
    )


def spines_at_thresholds(
    linkage_dir: Path, thresholds: list[float], *, max_per_source: int = MAX_RECORDS_PER_SOURCE
) -> dict[float, pl.DataFrame]:
    """Re-cluster a run's saved predictions at several thresholds in one pass.

    Links are taken once from the most to the least probable; the clusters at a threshold
    are those reached when the links above it have been taken (whether a link is accepted
    depends only on the links before it), so each spine equals
    :func:`spine_at_threshold` at its threshold for the cost of one clustering.

    Returns
    -------
    dict
        Each threshold's spine with the contract columns.
    """
    return dict(_spines_in_turn(linkage_dir, thresholds, max_per_source))


def spine_files_at_thresholds(
    linkage_dir: Path,
    thresholds: list[float],
    folder: Path,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> dict[float, Path]:
    """:func:`spines_at_thresholds` written to ``folder``, a file per threshold (the
    one-machine twin of :func:`linkage.spark_clustering.spines_at_thresholds_spark`).

    From the accepted links the run saved, each spine is built, written and dropped in turn,
    so one spine is held at a time (at 3,000,000 people three held together took about
    0.7 GB more); from the saved predictions, the one clustering pass holds them all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[float, Path] = {}
    for threshold, spine in _spines_in_turn(linkage_dir, thresholds, max_per_source):
        files[threshold] = folder / f"spine_{threshold:g}.parquet"
        spine.write_parquet(files[threshold])
        del spine  # before the next spine is built
    return files


def _spines_in_turn(
    linkage_dir: Path, thresholds: list[float], max_per_source: int
) -> Iterator[tuple[float, pl.DataFrame]]:
    """Each threshold's spine with the contract columns, built when it is asked for where
    the saved accepted links answer, else all in one clustering pass."""
    if not thresholds:
        return
    saved = _saved_accepted(linkage_dir, min(thresholds), max_per_source)
    if saved is not None:
        for t in thresholds:
            yield t, spine_from_accepted(saved[0], saved[1], t).select(SPINE_COLUMNS)
        return
    yield from _spines_in_one_pass(linkage_dir, thresholds, max_per_source).items()


def _spines_in_one_pass(
    linkage_dir: Path, thresholds: list[float], max_per_source: int
) -> dict[float, pl.DataFrame]:
    """Re-cluster the saved predictions once, taking each threshold's spine on the way."""
    nodes, edges = _saved_nodes_and_edges(linkage_dir)
    n = nodes.height
    clusters = _Clusters(nodes, max_per_source)
    ordered = edges.filter(pl.col("match_probability") >= min(thresholds)).sort(
        ["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]
    )
    left, right, prob = (ordered.get_column(c).to_list() for c in ordered.columns[:3])
    del ordered
    best = [0.0] * n
    spines: dict[float, pl.DataFrame] = {}
    pending = sorted(set(thresholds), reverse=True)
    join = clusters.join
    for a, b, p in zip(left, right, prob, strict=True):
        while pending and p < pending[0]:
            spines[pending.pop(0)] = _spine_frame(nodes, clusters.roots(), best)
        if join(a, b):
            if p > best[a]:
                best[a] = p
            if p > best[b]:
                best[b] = p
    for threshold in pending:
        spines[threshold] = _spine_frame(nodes, clusters.roots(), best)
    return {t: spine.select(SPINE_COLUMNS) for t, spine in spines.items()}


def saved_links_answer(linkage_dir: Path, threshold: float, max_per_source: int) -> bool:
    """Whether the accepted links a run saved answer for ``threshold``: saved at a floor no
    higher and under the same per-source limit (read from their two constant columns)."""
    path = linkage_dir / ACCEPTED_LINKS_FILE
    if not path.is_file():
        return False
    limits = pl.scan_parquet(path).select("floor", "max_per_source").unique().collect()
    if limits.height != 1:
        return False  # no links accepted: nothing tells the floor
    floor, limit = limits.row(0)
    return threshold >= floor and limit == max_per_source


def _saved_accepted(
    linkage_dir: Path, threshold: float, max_per_source: int
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The run's records and accepted links when they answer for ``threshold`` (saved at a
    floor no higher, under the same per-source limit), else None."""
    if not saved_links_answer(linkage_dir, threshold, max_per_source):
        return None
    accepted = pl.read_parquet(linkage_dir / ACCEPTED_LINKS_FILE)
    nodes = pl.read_parquet(
        linkage_dir / RECORDS_FILE, columns=["unique_id", "source", "record_id"]
    )
    return nodes, accepted


def _saved_nodes_and_edges(linkage_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records and scored links a run saved, with the columns clustering needs."""
    path = linkage_dir / RECORDS_FILE
    wanted = ["unique_id", "source", "record_id", "unique_people", "person_number", "shared_number"]
    nodes = pl.read_parquet(path, columns=[c for c in wanted if c in pl.read_parquet_schema(path)])
    edges = pl.read_parquet(
        linkage_dir / "predictions.parquet",
        columns=["unique_id_l", "unique_id_r", "match_probability"],
    )
    return nodes, edges
