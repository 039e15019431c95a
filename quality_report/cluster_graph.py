"""Graph measures of spine clusters: edge counts, density, bridges and refused links.

Edges are the scored pairs at or above the threshold (and the deterministic links). A
cluster whose records are held together by few edges (low density) or by a single edge
(a bridge) is where a false link would most likely sit; an edge at or above the threshold
between two clusters is a link the clustering refused (it would have joined two census
records).
"""

from __future__ import annotations

from collections import defaultdict

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


def _bridges(nodes: list[str], links: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Bridges of an undirected graph (iterative Tarjan, so deep clusters cannot overflow)."""
    adjacency: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, (a, b) in enumerate(links):
        adjacency[a].append((b, i))
        adjacency[b].append((a, i))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    found: set[tuple[str, str]] = set()
    counter = 0
    for root in nodes:
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            advanced = False
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, iter(adjacency[nxt])))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.add(links[via])
    return found


def bridge_edges(edges: pl.DataFrame) -> pl.DataFrame:
    """Within-cluster edges whose removal would split their cluster, weakest first."""
    within = edges.filter(pl.col("within")).with_columns(
        (pl.col("source_l") + ":" + pl.col("record_id_l")).alias("a"),
        (pl.col("source_r") + ":" + pl.col("record_id_r")).alias("b"),
    )
    rows = []
    for (cluster,), part in within.group_by("cluster_l"):
        links = list(
            zip(part.get_column("a").to_list(), part.get_column("b").to_list(), strict=True)
        )
        nodes = sorted({n for link in links for n in link})
        if len(nodes) < 3:
            continue
        for a, b in _bridges(nodes, links):
            rows.append({"cluster_id": cluster, "a": a, "b": b})
    schema = {"cluster_id": pl.Utf8, "a": pl.Utf8, "b": pl.Utf8}
    found = pl.DataFrame(rows, schema=schema)
    return (
        found.join(within.select("a", "b", "match_probability"), on=["a", "b"], how="left")
        .rename({"a": "record_l", "b": "record_r"})
        .sort("match_probability", "cluster_id", "record_l")
    )


def refused_links(edges: pl.DataFrame) -> pl.DataFrame:
    """Edges at or above the threshold whose ends ended in different clusters."""
    return edges.filter(~pl.col("within")).sort(
        ["match_probability", "record_id_l", "record_id_r"], descending=[True, False, False]
    )
