"""Clustering on Spark against its polars twin, on a hand-made graph and a generated one.

A real local Spark (``local[1]``, two shuffle partitions): Splink's connected components,
then the constrained greedy per component on the executors. The spine must equal the polars
spine row for row, and the clusters worked out by hand below.
"""

import random

import polars as pl
import pytest

from linkage.clustering import SPINE_COLUMNS, cluster_records

pytest.importorskip("pyspark", reason="clustering on Spark needs the extra (make venv-spark)")

pytestmark = pytest.mark.slow

THRESHOLD = 0.5

# unique_id: (source, person number). 0 and 1 are census records of namesakes A and B.
RECORDS = [
    ("census", None),  # 0  A
    ("census", None),  # 1  B, A's namesake
    ("gp", "9434765919"),  # 2  A
    ("gp", "9434765919"),  # 3  A's duplicated registration
    ("dwp", "AB123456C"),  # 4  A
    ("dwp", "AB123956C"),  # 5  A's second key, NINO mistyped in one character
    ("gp", "4010232137"),  # 6  B
    ("dwp", "CD654321A"),  # 7  B
    ("gp", None),  # 8  C
    ("gp", None),  # 9  C's duplicate
    ("gp", None),  # 10 a third near-duplicate in C's chain
    ("census", None),  # 11 C
    ("census", None),  # 12 D, linked to nothing
    ("dwp", "EF111111B"),  # 13 E, linked only below the threshold
    ("gp", None),  # 14 F
    ("census", None),  # 15 F
    ("census", None),  # 16 F's namesake
]

LINKS = [
    (0, 2, 0.99),
    (2, 3, 0.98),
    (0, 4, 0.97),
    (0, 1, 0.95),  # census-census: refused (ties with 4-5, and comes first by id)
    (4, 5, 0.95),
    (3, 6, 0.93),  # a third GP record, another NHS number: refused
    (5, 7, 0.92),  # a third DWP record, another NINO: refused
    (1, 6, 0.90),
    (6, 7, 0.90),
    (8, 11, 0.90),
    (8, 9, 0.85),
    (9, 10, 0.84),  # the chain would snowball into a third GP record: refused
    (14, 15, 0.88),  # ties with 14-16: 15 comes first by id, so 16 is refused
    (14, 16, 0.88),
    (0, 13, 0.30),  # below the threshold
]

# By hand: clusters are named after their smallest id; a record's probability is its best
# accepted link (1.0 for the record naming the cluster).
EXPECTED = {
    0: (0, 1.0),
    1: (1, 1.0),
    2: (0, 0.99),
    3: (0, 0.98),
    4: (0, 0.97),
    5: (0, 0.95),
    6: (1, 0.90),
    7: (1, 0.90),
    8: (8, 1.0),
    9: (8, 0.85),
    10: (10, 1.0),
    11: (8, 0.90),
    12: (12, 1.0),
    13: (13, 1.0),
    14: (14, 1.0),
    15: (14, 0.88),
    16: (16, 1.0),
}


def _nodes(records):
    return pl.DataFrame(
        {
            "unique_id": list(range(len(records))),
            "source": [s for s, _ in records],
            "record_id": [f"r{i}" for i in range(len(records))],
            "unique_people": [s == "census" for s, _ in records],
            "person_number": [n for _, n in records],
        },
        schema_overrides={"person_number": pl.Utf8},
    )


def _edges(links):
    return pl.DataFrame(
        links, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )


@pytest.fixture
def engine(spark_engine):
    return spark_engine


def _spark_spine(engine, nodes, edges, tmp_path, **options):
    from linkage.spark_clustering import cluster_records_spark

    nodes.write_parquet(tmp_path / "nodes.parquet")
    edges.write_parquet(tmp_path / "edges.parquet")
    figures = cluster_records_spark(
        engine,
        tmp_path / "nodes.parquet",
        tmp_path / "edges.parquet",
        THRESHOLD,
        tmp_path / "spine.parquet",
        **options,
    )
    return pl.read_parquet(tmp_path / "spine.parquet"), figures


def test_spark_spine_is_the_polars_spine_and_the_clusters_worked_by_hand(engine, tmp_path):
    nodes, edges = _nodes(RECORDS), _edges(LINKS)
    spark, figures = _spark_spine(engine, nodes, edges, tmp_path)
    polars = cluster_records(nodes, edges, THRESHOLD).select(SPINE_COLUMNS)
    assert spark.equals(polars)
    expected = [(f"S{root:09d}", p) for root, p in EXPECTED.values()]
    assert spark.select("person_id", "match_probability").rows() == expected
    assert spark.get_column("record_id").to_list() == [f"r{i}" for i in range(len(RECORDS))]
    # Clusters of 5 (A), 3 (B, C), 2 (F) and four single records; the unconstrained
    # component of A and B (joined by the refused links) held eight records.
    assert figures == {
        "clusters": 8,
        "cluster_sizes": {"1": 4, "2": 1, "3": 2, "5": 1},
        "largest_component": 8,
    }


def _random_graph(seed, people=150):
    """People with one census record and up to two GP and two DWP records, some with
    numbers (a few mistyped), strong links within a person and weaker ones between
    namesakes, many of them tied."""
    rng = random.Random(seed)
    records, person_of = [], []
    for person in range(people):
        nhs, nino = f"{rng.randrange(10**9):010d}", f"AB{rng.randrange(10**6):06d}C"
        for source in ["census", *["gp"] * rng.randint(0, 2), *["dwp"] * rng.randint(0, 2)]:
            number = {"census": None, "gp": nhs, "dwp": nino}[source]
            if number and rng.random() < 0.2:
                number = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
            records.append((source, number if rng.random() < 0.7 else None))
            person_of.append(person)
    order = list(range(len(records)))
    rng.shuffle(order)
    records = [records[i] for i in order]
    person_of = [person_of[i] for i in order]
    of_person = {}
    for index, person in enumerate(person_of):
        of_person.setdefault(person, []).append(index)
    links = {}
    for a, person in enumerate(person_of):
        for _ in range(3):
            other = min(max(person + rng.choice([-2, -1, 0, 0, 0, 1, 2]), 0), people - 1)
            b = rng.choice(of_person[other])
            strong = [0.99, 0.95, 0.9, 0.9] if other == person else [0.9, 0.7, 0.5]
            if a != b:
                links[min(a, b), max(a, b)] = rng.choice([*strong, round(rng.random(), 2)])
    return _nodes(records), _edges(sorted((a, b, p) for (a, b), p in links.items()))


@pytest.mark.parametrize("max_per_source", [1, 2])
def test_spark_spine_equals_polars_on_a_generated_graph(engine, tmp_path, max_per_source):
    nodes, edges = _random_graph(seed=29)
    assert nodes.height > 300 and edges.height > 300
    spark, figures = _spark_spine(engine, nodes, edges, tmp_path, max_per_source=max_per_source)
    polars = cluster_records(nodes, edges, THRESHOLD, max_per_source=max_per_source)
    assert spark.equals(polars.select(SPINE_COLUMNS))
    assert figures["clusters"] == polars.get_column("person_id").n_unique()
    # The graph is not trivial: the greedy refused links, so some unconstrained
    # component was split into several clusters.
    assert figures["largest_component"] > polars.group_by("person_id").len()["len"].max()


def test_ids_that_do_not_run_from_zero_are_refused(engine, tmp_path):
    nodes = _nodes(RECORDS[:3]).with_columns(pl.col("unique_id") + 1)
    with pytest.raises(ValueError, match="unique_id must run 0..n-1"):
        _spark_spine(engine, nodes, _edges([(1, 2, 0.9)]), tmp_path)
