"""Constrained clustering and the deterministic pass on hand-made graphs."""

import numpy as np
import polars as pl

from linkage.clustering import (
    ACCEPTED_LINKS_FILE,
    SPINE_COLUMNS,
    accepted_links,
    cluster_records,
    spine_at_threshold,
    spine_files_at_thresholds,
    spine_from_accepted,
    spines_at_thresholds,
    write_accepted_links,
)


def _nodes(sources, numbers=None):
    frame = pl.DataFrame(
        {
            "unique_id": list(range(len(sources))),
            "source": sources,
            "record_id": [f"r{i}" for i in range(len(sources))],
            "unique_people": [s == "census" for s in sources],
        }
    )
    if numbers is not None:
        frame = frame.with_columns(pl.Series("person_number", numbers, dtype=pl.Utf8))
    return frame


def _edges(rows):
    return pl.DataFrame(
        rows, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )


def test_duplicates_join_their_person_and_two_census_records_never_merge():
    # 0,1 census; 2,3 GP duplicates of 0; 4 DWP links to 3 and weakly to 1.
    nodes = _nodes(["census", "census", "gp", "gp", "dwp"])
    edges = _edges([(0, 2, 0.99), (2, 3, 0.98), (3, 4, 0.97), (1, 4, 0.96), (0, 1, 0.95)])
    spine = cluster_records(nodes, edges, 0.9)
    ids = spine.get_column("person_id").to_list()
    assert ids[0] == ids[2] == ids[3] == ids[4]
    assert ids[1] != ids[0]  # the census-census and the bridging DWP link are refused
    probs = spine.get_column("match_probability").to_list()
    assert probs == [1.0, 1.0, 0.99, 0.98, 0.97]


def test_a_cluster_holds_at_most_max_per_source_records_of_a_source():
    # A chain of four GP records: the weakest link that would make three is refused.
    nodes = _nodes(["gp", "gp", "gp", "gp"])
    edges = _edges([(0, 1, 0.99), (2, 3, 0.98), (1, 2, 0.97)])
    ids = cluster_records(nodes, edges, 0.5, max_per_source=2).get_column("person_id")
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    ids = cluster_records(nodes, edges, 0.5, max_per_source=4).get_column("person_id")
    assert ids.n_unique() == 1


def test_links_below_threshold_are_ignored():
    nodes = _nodes(["census", "gp"])
    spine = cluster_records(nodes, _edges([(0, 1, 0.5)]), 0.9)
    assert spine.get_column("person_id").n_unique() == 2


def test_a_cluster_never_holds_two_numbers_of_one_source():
    # Census 0; GP 1 (its person) and GP 2 (a namesake, another NHS number) both link to
    # it; GP 3 has no number and GP 4 shares GP 1's number. DWP 5 carries a NINO, which is
    # another scheme and never conflicts with an NHS number.
    nodes = _nodes(
        ["census", "gp", "gp", "gp", "gp", "dwp"],
        [None, "9434765919", "4010232137", None, "9434765919", "AB123456C"],
    )
    edges = _edges([(0, 1, 0.99), (0, 2, 0.98), (0, 5, 0.97), (1, 4, 0.96), (2, 3, 0.95)])
    ids = cluster_records(nodes, edges, 0.5, max_per_source=3).get_column("person_id").to_list()
    assert ids[0] == ids[1] == ids[4] == ids[5]  # same number A joins; the NINO is no clash
    assert ids[2] != ids[0]  # number B is refused although its link is strong
    assert ids[3] == ids[2]  # a record without a number may join either


def test_numbers_one_character_apart_may_share_a_cluster():
    # DWP 1 and 2 are one person's two keys, the second with a mistyped NINO digit; DWP 3's
    # NINO differs in two places.
    nodes = _nodes(["census", "dwp", "dwp", "dwp"], [None, "AB123456C", "AB123956C", "AB129966C"])
    edges = _edges([(0, 1, 0.99), (0, 2, 0.98), (0, 3, 0.97)])
    ids = cluster_records(nodes, edges, 0.5, max_per_source=3).get_column("person_id").to_list()
    assert ids[0] == ids[1] == ids[2] and ids[3] != ids[0]


def test_a_cluster_holds_one_shared_number_across_sources():
    # 0 census with number 1234567890; 1 GP one typo away (same person); 2 DWP with another
    # number entirely; 3 GP without one.
    nodes = _nodes(["census", "gp", "dwp", "gp"]).with_columns(
        pl.Series("shared_number", ["1234567890", "1234567891", "9876543210", None])
    )
    edges = _edges([(1, 2, 0.99), (0, 1, 0.98), (0, 2, 0.97), (2, 3, 0.96)])
    ids = cluster_records(nodes, edges, 0.5).get_column("person_id").to_list()
    # 1-2, the strongest link, joins two numbers differing in many places: refused, although
    # 1 and 2 come from different sources; 0-1 differ by one character: joined; 0-2 refused
    # like 1-2; 3 has no number and joins 2.
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    assert ids[0] != ids[2]


def test_a_shared_number_with_one_typo_joins():
    nodes = _nodes(["census", "gp"]).with_columns(
        pl.Series("shared_number", ["1234567890", "1234567891"])
    )
    ids = cluster_records(nodes, _edges([(0, 1, 0.9)]), 0.5).get_column("person_id")
    assert ids.n_unique() == 1


def _saved_run(tmp_path, nodes, edges):
    nodes.write_parquet(tmp_path / "records.parquet")
    edges.write_parquet(tmp_path / "predictions.parquet")
    return tmp_path


def _groups(spine):
    """Clusters as sets of record ids, whatever their names."""
    return sorted(
        sorted(group) for group in spine.group_by("person_id").agg("record_id")["record_id"]
    )


def test_spines_at_several_thresholds_in_one_pass_match_each_threshold_alone(tmp_path):
    # A chain 0-2-3-4 weakening link by link; 1 is a second census record, whose link to 4
    # is refused once 4 has joined 0's cluster.
    nodes = _nodes(["census", "census", "gp", "gp", "dwp"])
    edges = _edges([(0, 2, 0.99), (2, 3, 0.8), (3, 4, 0.6), (1, 4, 0.5)])
    run = _saved_run(tmp_path, nodes, edges)
    spines = spines_at_thresholds(run, [0.9, 0.7, 0.55, 0.5])
    assert _groups(spines[0.9]) == [["r0", "r2"], ["r1"], ["r3"], ["r4"]]
    assert _groups(spines[0.7]) == [["r0", "r2", "r3"], ["r1"], ["r4"]]
    assert _groups(spines[0.55]) == [["r0", "r2", "r3", "r4"], ["r1"]]
    assert _groups(spines[0.5]) == [["r0", "r2", "r3", "r4"], ["r1"]]
    for threshold, spine in spines.items():
        assert spine.equals(spine_at_threshold(run, threshold))


def test_one_pass_equals_separate_clusterings_on_a_random_graph(tmp_path):
    rng = np.random.default_rng(17)
    sources = rng.choice(["census", "gp", "dwp"], size=300).tolist()
    pairs = rng.integers(0, 300, size=(900, 2))
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    probs = np.round(rng.uniform(0.3, 1.0, size=len(pairs)), 2)  # rounded: ties occur
    edges = _edges([(int(a), int(b), float(p)) for (a, b), p in zip(pairs, probs, strict=True)])
    edges = edges.unique(["unique_id_l", "unique_id_r"], keep="first")
    run = _saved_run(tmp_path, _nodes(sources), edges)
    thresholds = [0.35, 0.5, 0.8, 0.95]
    spines = spines_at_thresholds(run, thresholds)
    for threshold in thresholds:
        assert spines[threshold].equals(spine_at_threshold(run, threshold))
    assert len(_groups(spines[0.35])) < len(_groups(spines[0.95]))


def test_spine_from_the_accepted_links_equals_clustering_at_every_higher_threshold(tmp_path):
    rng = np.random.default_rng(29)
    sources = rng.choice(["census", "gp", "dwp"], size=400).tolist()
    numbers = [f"N{int(x)}" if x < 150 else None for x in rng.integers(0, 300, size=400)]
    nodes = _nodes(sources, numbers)
    pairs = rng.integers(0, 400, size=(1500, 2))
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    probs = np.round(rng.uniform(0.05, 1.0, size=len(pairs)), 2)
    edges = _edges([(int(a), int(b), float(p)) for (a, b), p in zip(pairs, probs, strict=True)])
    edges = edges.unique(["unique_id_l", "unique_id_r"], keep="first")
    links = accepted_links(nodes, edges, 0.1)
    kept = links.filter(pl.col("accepted"))
    for threshold in (0.1, 0.2, 0.5, 0.77, 0.99):
        direct = cluster_records(nodes, edges, threshold)
        assert spine_from_accepted(nodes, kept, threshold).equals(direct)
    # Saved beside the run's records, they answer for any threshold at or above the floor
    # under the same per-source limit, and the predictions are never read.
    run = _saved_run(tmp_path, nodes, edges)
    write_accepted_links(links, 0.1, 2, run / ACCEPTED_LINKS_FILE)
    (run / "predictions.parquet").unlink()
    for threshold in (0.1, 0.5):
        expected = cluster_records(nodes, edges, threshold).select(SPINE_COLUMNS)
        assert spine_at_threshold(run, threshold).equals(expected)
        assert spines_at_thresholds(run, [threshold, 0.9])[threshold].equals(expected)


def test_spine_files_hold_each_thresholds_spine_from_the_links_or_the_predictions(tmp_path):
    # The chain of the one-pass test: from the predictions (one pass), then from saved
    # accepted links (a spine at a time); the files equal the spines held in memory.
    nodes = _nodes(["census", "census", "gp", "gp", "dwp"])
    edges = _edges([(0, 2, 0.99), (2, 3, 0.8), (3, 4, 0.6), (1, 4, 0.5)])
    (tmp_path / "run").mkdir()
    run = _saved_run(tmp_path / "run", nodes, edges)
    thresholds = [0.9, 0.55]
    expected = spines_at_thresholds(run, thresholds)
    assert _groups(expected[0.55]) == [["r0", "r2", "r3", "r4"], ["r1"]]
    from_predictions = spine_files_at_thresholds(run, thresholds, tmp_path / "a")
    write_accepted_links(accepted_links(nodes, edges, 0.5), 0.5, 2, run / ACCEPTED_LINKS_FILE)
    (run / "predictions.parquet").unlink()
    from_links = spine_files_at_thresholds(run, thresholds, tmp_path / "b")
    for files in (from_predictions, from_links):
        assert sorted(files) == [0.55, 0.9]
        for threshold, path in files.items():
            assert pl.read_parquet(path).equals(expected[threshold]), (path, threshold)
