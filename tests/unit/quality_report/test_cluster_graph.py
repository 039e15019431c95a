import datetime as dt

import polars as pl

from quality_report.cluster_graph import (
    actionable_bridges,
    bridge_edges,
    cluster_density,
    cluster_edges,
    refused_links,
)


def _edges():
    # Cluster K1: a triangle a-b-c with a tail c-d (bridge); cluster K2: e-f.
    # Edge b-e is at the threshold but joins two clusters (refused).
    pred = pl.DataFrame(
        {
            "source_l": ["gp"] * 6,
            "record_id_l": ["a", "b", "a", "c", "e", "b"],
            "source_r": ["gp"] * 6,
            "record_id_r": ["b", "c", "c", "d", "f", "e"],
            "match_probability": [0.99, 0.98, 0.97, 0.6, 0.99, 0.95],
        }
    )
    members = pl.DataFrame(
        {
            "source": ["gp"] * 6,
            "record_id": list("abcdef"),
            "cluster_id": ["K1"] * 4 + ["K2"] * 2,
        }
    )
    return cluster_edges(pred, members, 0.5)


def test_bridges_are_found_and_cycles_are_not():
    bridges = bridge_edges(_edges())
    assert bridges.select("record_l", "record_r").rows() == [("gp:c", "gp:d")]
    assert bridges.get_column("match_probability").to_list() == [0.6]


def test_density_and_refused_links():
    edges = _edges()
    composition = pl.DataFrame({"cluster_id": ["K1", "K2"], "size": [4, 2]})
    density = cluster_density(edges, composition).sort("cluster_id")
    assert density.get_column("n_edges").to_list() == [4, 1]
    assert density.get_column("density").to_list() == [4 / 6, 1.0]
    assert refused_links(edges).select("record_id_l", "record_id_r").rows() == [("b", "e")]


def test_long_chain_does_not_overflow():
    n = 5000
    pred = pl.DataFrame(
        {
            "source_l": ["gp"] * (n - 1),
            "record_id_l": [str(i) for i in range(n - 1)],
            "source_r": ["gp"] * (n - 1),
            "record_id_r": [str(i + 1) for i in range(n - 1)],
            "match_probability": [0.9] * (n - 1),
        }
    )
    members = pl.DataFrame(
        {"source": ["gp"] * n, "record_id": [str(i) for i in range(n)], "cluster_id": ["K"] * n}
    )
    assert bridge_edges(cluster_edges(pred, members, 0.5)).height == n - 1


def test_only_bridges_splitting_different_people_are_actionable():
    # K1: triangle a-b-c, tail c-d. d differs from a, b, c in date of birth: actionable.
    # K3: chain x-y-z of one person's records (same sex and date of birth): not actionable.
    edges = _edges()
    chain = cluster_edges(
        pl.DataFrame(
            {
                "source_l": ["gp", "gp"],
                "record_id_l": ["x", "y"],
                "source_r": ["gp", "gp"],
                "record_id_r": ["y", "z"],
                "match_probability": [0.7, 0.8],
            }
        ),
        pl.DataFrame({"source": ["gp"] * 3, "record_id": list("xyz"), "cluster_id": ["K3"] * 3}),
        0.5,
    )
    edges = pl.concat([edges, chain])
    bridges = bridge_edges(edges)
    assert bridges.height == 3  # c-d, x-y, y-z
    day = dt.date(1980, 1, 1)
    attributes = pl.DataFrame(
        {
            "source": ["gp"] * 7,
            "record_id": list("abcdxyz"),
            "sex": ["M", "M", None, "M", "F", "F", "F"],
            "date_of_birth": [day, day, day, dt.date(1990, 6, 1), day, day, day],
        }
    )
    found = actionable_bridges(bridges, edges, attributes)
    assert found.select("record_l", "record_r").rows() == [("gp:c", "gp:d")]
    row = found.row(0, named=True)
    assert (row["records_l_side"], row["records_r_side"]) == (3, 1)
    assert row["dob_differs"] and not row["sex_differs"]
