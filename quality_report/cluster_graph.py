"""Graph measures of spine clusters: edge counts, density, bridges and refused links.

Edges are the scored pairs at or above the threshold (and the deterministic links). A
cluster whose records are held together by few edges (low density) or by a single edge
(a bridge) is where a false link would most likely sit; an edge at or above the threshold
between two clusters is a link the clustering refused (it would have joined two census
records).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import polars as pl


def cluster_edges(
    predictions: pl.DataFrame, members: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """Accepted-strength edges with the clusters of both ends and ``within`` (same cluster)."""
    ends = members.select("source", "record_id", "cluster_id")
    edges = predictions.filter(pl.col("match_probability") >= threshold).select(
        "source_l", "record_id_l", "source_r", "record_id_r", "match_probability"
    )
    for side in ("l", "r"):
        edges = edges.join(
            ends.rename(
                {
                    "source": f"source_{side}",
                    "record_id": f"record_id_{side}",
                    "cluster_id": f"cluster_{side}",
                }
            ),
            on=[f"source_{side}", f"record_id_{side}"],
            how="left",
        )
    return edges.with_columns((pl.col("cluster_l") == pl.col("cluster_r")).alias("within"))


def cluster_density(edges: pl.DataFrame, composition: pl.DataFrame) -> pl.DataFrame:
    """Per cluster of two or more records: ``n_edges`` and ``density`` (edges over pairs)."""
    counts = (
        edges.filter(pl.col("within"))
        .group_by(pl.col("cluster_l").alias("cluster_id"))
        .agg(pl.len().alias("n_edges"))
    )
    return (
        composition.filter(pl.col("size") > 1)
        .join(counts, on="cluster_id", how="left")
        .with_columns(pl.col("n_edges").fill_null(0).cast(pl.Int64))
        .with_columns(
            (pl.col("n_edges") / (pl.col("size") * (pl.col("size") - 1) / 2)).alias("density")
        )
    )


class _Tarjan:
    """Iterative Tarjan bridge search (no recursion, so deep clusters cannot overflow)."""

    def __init__(self, links: list[tuple[str, str]]) -> None:
        self.links = links
        self.adjacency: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for i, (a, b) in enumerate(links):
            self.adjacency[a].append((b, i))
            self.adjacency[b].append((a, i))
        self.order: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.found: set[tuple[str, str]] = set()

    def _visit(self, node: str) -> tuple[str, int, Iterator[tuple[str, int]]]:
        self.order[node] = self.low[node] = len(self.order)
        return iter(self.adjacency[node])

    def _descend(self, stack: list, node: str, via: int, neighbours: Iterator) -> bool:
        """Step to the next unvisited neighbour of ``node``; False when it has none left."""
        for nxt, edge in neighbours:
            if edge == via:
                continue
            if nxt in self.order:
                self.low[node] = min(self.low[node], self.order[nxt])
                continue
            stack.append((nxt, edge, self._visit(nxt)))
            return True
        return False

    def search(self, root: str) -> None:
        stack = [(root, -1, self._visit(root))]
        while stack:
            node, via, neighbours = stack[-1]
            if self._descend(stack, node, via, neighbours):
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                self.low[parent] = min(self.low[parent], self.low[node])
                if self.low[node] > self.order[parent]:
                    self.found.add(self.links[via])


def _bridges(nodes: list[str], links: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Bridges of an undirected graph: the links whose removal disconnects it."""
    tarjan = _Tarjan(links)
    for root in nodes:
        if root not in tarjan.order:
            tarjan.search(root)
    return tarjan.found


def bridge_edges(edges: pl.DataFrame) -> pl.DataFrame:
    """Within-cluster edges whose removal would split their cluster, weakest first."""
    within = edges.filter(pl.col("within")).with_columns(
        (pl.col("source_l") + ":" + pl.col("record_id_l")).alias("a"),
        (pl.col("source_r") + ":" + pl.col("record_id_r")).alias("b"),
    )
    rows = []
    # A cluster is connected by its within-cluster links. When they form a tree (one link
    # fewer than records) every link is a bridge; three records joined by three links form
    # a triangle, which has none. Only the other clusters are searched, one row of lists
    # per cluster (iterating rows, not sub-frames).
    shape = within.group_by("cluster_l").agg(
        pl.len().alias("links"),
        pl.concat_list("a", "b")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .n_unique()
        .alias("records"),
    )
    trees = shape.filter(
        (pl.col("links") == pl.col("records") - 1) & (pl.col("records") >= 3)
    ).get_column("cluster_l")
    searched = shape.filter(
        (pl.col("links") >= pl.col("records")) & (pl.col("records") > 3)
    ).get_column("cluster_l")
    grouped = (
        within.filter(pl.col("cluster_l").is_in(searched))
        .group_by("cluster_l")
        .agg("a", "b")
        .select("cluster_l", "a", "b")
    )
    for cluster, ends_a, ends_b in grouped.iter_rows():
        links = list(zip(ends_a, ends_b, strict=True))
        nodes = sorted({n for link in links for n in link})
        if len(nodes) < 3:
            continue
        for a, b in _bridges(nodes, links):
            rows.append({"cluster_id": cluster, "a": a, "b": b})
    schema = {"cluster_id": pl.Utf8, "a": pl.Utf8, "b": pl.Utf8}
    tree_links = within.filter(pl.col("cluster_l").is_in(trees)).select(
        pl.col("cluster_l").alias("cluster_id"), "a", "b"
    )
    found = pl.concat([pl.DataFrame(rows, schema=schema), tree_links.cast(schema)])
    return (
        found.join(within.select("a", "b", "match_probability"), on=["a", "b"], how="left")
        .rename({"a": "record_l", "b": "record_r"})
        .sort("match_probability", "cluster_id", "record_l", "record_r")
    )


def refused_links(edges: pl.DataFrame) -> pl.DataFrame:
    """Edges at or above the threshold whose ends ended in different clusters."""
    return edges.filter(~pl.col("within")).sort(
        ["match_probability", "record_id_l", "record_id_r"], descending=[True, False, False]
    )


def _side_of(start: str, links: list[tuple[str, str]], removed: tuple[str, str]) -> set[str]:
    """Records reachable from ``start`` without the ``removed`` link."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in links:
        if (a, b) != removed:
            neighbours[a].add(b)
            neighbours[b].add(a)
    seen, todo = {start}, [start]
    while todo:
        for nxt in neighbours[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _disagree(left: set[str], right: set[str], values: dict[str, object]) -> bool:
    """The two sides record values of a field and no value is common to both."""
    lv = {values[n] for n in left if values.get(n) is not None}
    rv = {values[n] for n in right if values.get(n) is not None}
    return bool(lv) and bool(rv) and not (lv & rv)


def _nodes_of(within: pl.DataFrame) -> pl.DataFrame:
    """``node, cluster_id`` of every record at an end of a within-cluster edge."""
    return pl.concat(
        [
            within.select(
                (pl.col(f"source_{side}") + ":" + pl.col(f"record_id_{side}")).alias("node"),
                pl.col("cluster_l").alias("cluster_id"),
            )
            for side in ("l", "r")
        ]
    ).unique()


def _clusters_with_mixed_values(within: pl.DataFrame, keyed: pl.DataFrame) -> pl.Series:
    """Clusters whose records record more than one sex or more than one date of birth."""
    return (
        _nodes_of(within)
        .join(keyed, on="node", how="left")
        .group_by("cluster_id")
        .agg(
            pl.col("sex").drop_nulls().n_unique().alias("sexes"),
            pl.col("date_of_birth").drop_nulls().n_unique().alias("dobs"),
        )
        .filter((pl.col("sexes") > 1) | (pl.col("dobs") > 1))
        .get_column("cluster_id")
    )


def actionable_bridges(
    bridges: pl.DataFrame, edges: pl.DataFrame, attributes: pl.DataFrame
) -> pl.DataFrame:
    """Bridges whose removal separates records with no common date of birth or sex.

    Most bridges join records that agree (a chain of one person's registrations); a
    reviewer can act on the ones that hold together records that look like two people.

    Parameters
    ----------
    bridges
        Output of :func:`bridge_edges`.
    edges
        Output of :func:`cluster_edges`.
    attributes
        ``source, record_id, sex, date_of_birth`` per record
        (:func:`quality_report.validation.record_attributes`).

    Returns
    -------
    polars.DataFrame
        The bridges' columns with ``records_l_side``, ``records_r_side``, ``sex_differs``
        and ``dob_differs``; only bridges where either differs, weakest first.
    """
    keyed = attributes.select(
        (pl.col("source") + ":" + pl.col("record_id")).alias("node"), "sex", "date_of_birth"
    )
    within = edges.filter(pl.col("within") & pl.col("cluster_l").is_in(bridges["cluster_id"]))
    # Only a cluster whose records hold two sexes or two dates of birth can have a bridge
    # that separates them; at a million people that leaves a few per cent of the bridges
    # to walk, the rest are settled by one group-by.
    mixed = _clusters_with_mixed_values(within, keyed)
    bridges = bridges.filter(pl.col("cluster_id").is_in(mixed))
    within = within.filter(pl.col("cluster_l").is_in(mixed))
    keyed = keyed.join(_nodes_of(within), on="node", how="semi")
    sexes = dict(keyed.select("node", "sex").iter_rows())
    dobs = dict(keyed.select("node", "date_of_birth").iter_rows())
    links_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for cluster, a, b in within.select(
        "cluster_l",
        pl.col("source_l") + ":" + pl.col("record_id_l"),
        pl.col("source_r") + ":" + pl.col("record_id_r"),
    ).iter_rows():
        links_of[cluster].append((a, b))
    rows = []
    for cluster, a, b in bridges.select("cluster_id", "record_l", "record_r").iter_rows():
        left = _side_of(a, links_of[cluster], (a, b))
        right = _side_of(b, links_of[cluster], (a, b))
        rows.append(
            (len(left), len(right), _disagree(left, right, sexes), _disagree(left, right, dobs))
        )
    flags = pl.DataFrame(
        rows,
        schema={
            "records_l_side": pl.Int64,
            "records_r_side": pl.Int64,
            "sex_differs": pl.Boolean,
            "dob_differs": pl.Boolean,
        },
        orient="row",
    )
    return pl.concat([bridges, flags], how="horizontal").filter(
        pl.col("sex_differs") | pl.col("dob_differs")
    )
