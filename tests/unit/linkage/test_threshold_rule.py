"""The default threshold rule, worked by hand on tiny sets of links (no truth involved).

These replace the test of the former ``auto`` option (highest expected F1 over every scored
pair), which is now only the rule's fallback and counts only the links clustering accepts.
"""

import math
import random

import polars as pl
import pytest

from linkage.clustering import accepted_links, cluster_records
from linkage.config import LinkageConfig
from linkage.database import connect
from linkage.pipeline import candidate_floor, threshold_choice
from linkage.prediction import choose_threshold, expected_metrics
from linkage.sql_engine import DuckDBSql
from linkage.sql_steps import threshold_sums


def _on_duckdb(links):
    """A DuckDB engine holding ``links`` as ``candidate_links``."""
    engine = DuckDBSql(connect(memory_limit="1GB", threads=1))
    engine.register_frame("candidate_links", links.select("match_probability", "accepted"))
    return engine


def _links(kept, refused=()):
    """Links as ``accepted_links`` returns them: accepted ones, then refused ones."""
    return pl.DataFrame(
        {
            "match_probability": [*kept, *refused],
            "accepted": [True] * len(kept) + [False] * len(refused),
        },
        schema={"match_probability": pl.Float64, "accepted": pl.Boolean},
    )


def _sums(kept, refused=(), *, at):
    """The engine's sums over those links at the thresholds ``at``."""
    return threshold_sums(_on_duckdb(_links(kept, refused)), list(at))


# Eight certain links, one at 0.8 and one at 0.5. By hand, over all accepted links:
#   t = 0.3: 10 links, expected true 9.3 -> precision 0.93,     recall 9.3/9.3 = 1
#   t = 0.6:  9 links, expected true 8.8 -> precision 8.8/9,    recall 8.8/9.3
#   t = 0.9:  8 links, expected true 8.0 -> precision 1,        recall 8/9.3
EIGHT_SURE = [1.0] * 8 + [0.8, 0.5]
CANDIDATES = (0.3, 0.6, 0.9)


def test_expected_figures_by_hand():
    rows = expected_metrics(_sums(EIGHT_SURE, at=CANDIDATES))
    low, mid, high = rows
    assert low["links"] == 10 and mid["links"] == 9 and high["links"] == 8
    assert math.isclose(low["expected_precision"], 0.93)
    assert math.isclose(mid["expected_precision"], 8.8 / 9)
    assert math.isclose(mid["expected_recall"], 8.8 / 9.3)
    assert math.isclose(mid["expected_false_links"], 0.2)
    assert math.isclose(mid["expected_missed_links"], 0.5)
    f1 = 2 * (8.8 / 9) * (8.8 / 9.3) / (8.8 / 9 + 8.8 / 9.3)
    assert math.isclose(mid["expected_f1"], f1)
    assert high["expected_precision"] == 1.0 and math.isclose(high["expected_recall"], 8 / 9.3)


@pytest.mark.parametrize(
    ("target", "chosen"),
    [(0.9, 0.3), (0.95, 0.6), (0.98, 0.9), (1.0, 0.9)],
)
def test_lowest_threshold_meeting_the_precision_target(target, chosen):
    # 0.93 >= 0.9; 0.9778 >= 0.95 but < 0.98; only 0.9 reaches 0.98 and 1.0.
    choice = choose_threshold(_sums(EIGHT_SURE, at=CANDIDATES), target_precision=target)
    assert choice["threshold"] == chosen
    assert choice["rule"] == "lowest threshold meeting the expected precision target"
    assert choice["expected"]["threshold"] == chosen
    assert str(chosen) in choice["reasoning"]


def test_highest_expected_f1_when_no_candidate_meets_the_target():
    # p = 0.9, 0.9, 0.6. t = 0.5: precision 2.4/3 = 0.8, recall 1, F1 = 1.6/1.8 = 0.889.
    # t = 0.8: precision 0.9, recall 1.8/2.4 = 0.75, F1 = 1.35/1.65 = 0.818. Neither reaches
    # 0.999, so the higher F1 (t = 0.5) is chosen.
    choice = choose_threshold(_sums([0.9, 0.9, 0.6], at=(0.5, 0.8)))
    assert choice["threshold"] == 0.5
    assert choice["rule"].startswith("highest expected F1")
    assert math.isclose(choice["expected"]["expected_f1"], 1.6 / 1.8)


def test_refused_links_are_counted_but_not_charged_to_the_threshold():
    # A refused 0.55 link: at t = 0.5 it would lower expected precision to (9.3 + 0.55) / 11
    # if it counted; it does not, because no threshold can make it a link.
    rows = expected_metrics(_sums(EIGHT_SURE, [0.55, 0.2], at=[0.3, 0.5]))
    assert rows[0]["refused_links"] == 1 and rows[1]["refused_links"] == 1
    assert rows[0]["links"] == 10 and math.isclose(rows[0]["expected_precision"], 0.93)


def test_no_links_chooses_the_lowest_candidate():
    choice = choose_threshold(_sums([], at=(0.2, 0.5)))
    assert choice["threshold"] == 0.2


def _nodes(sources):
    return pl.DataFrame(
        {
            "unique_id": list(range(len(sources))),
            "source": sources,
            "record_id": [f"r{i}" for i in range(len(sources))],
            "unique_people": [s == "census" for s in sources],
        }
    )


def _edges(rows):
    return pl.DataFrame(
        rows, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )


def test_accepted_links_marks_what_clustering_refuses():
    # Census 0 and 1, GP 2. G joins census 0 at 0.9; its 0.6 link to census 1 would put two
    # census records in one cluster: refused. The 0.05 link is below the floor.
    nodes = _nodes(["census", "census", "gp"])
    edges = _edges([(1, 2, 0.6), (0, 2, 0.9), (0, 1, 0.05)])
    links = accepted_links(nodes, edges, 0.1)
    assert links.get_column("match_probability").to_list() == [0.9, 0.6]
    assert links.get_column("accepted").to_list() == [True, False]


def _components(spine):
    groups = spine.group_by("person_id").agg(pl.col("unique_id").sort())
    return sorted(tuple(g) for g in groups.get_column("unique_id").to_list())


def test_one_pass_answers_for_every_threshold():
    # A fixed random graph: for each threshold, the clusters of the links marked accepted at
    # or above it are exactly the clusters clustering builds at that threshold.
    rng = random.Random(7)
    sources = [rng.choice(["census", "gp", "dwp"]) for _ in range(40)]
    pairs = {tuple(sorted(rng.sample(range(40), 2))) for _ in range(120)}
    edges = _edges([(a, b, round(rng.random(), 2)) for a, b in sorted(pairs)])
    nodes = _nodes(sources)
    full = edges.sort(
        ["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]
    ).filter(pl.col("match_probability") >= 0.1)
    flags = accepted_links(nodes, edges, 0.1).get_column("accepted")
    kept = full.filter(flags)
    for t in (0.1, 0.3, 0.5, 0.8):
        direct = cluster_records(nodes, edges, t)
        # Accepted links never break a constraint, so clustering them alone refuses none.
        replay = cluster_records(nodes, kept, t, max_per_source=40)
        assert _components(direct) == _components(replay)


def test_a_number_in_the_configuration_overrides_the_rule():
    nodes = _nodes(["census", "gp", "census", "gp"])
    edges = _edges([(0, 1, 0.99), (2, 3, 0.4)])
    config = LinkageConfig(threshold=0.5)
    links = accepted_links(nodes, edges, candidate_floor(config))
    given = threshold_choice(config, _on_duckdb(links), "candidate_links")
    assert given["threshold"] == 0.5 and given["rule"] == "set in the run configuration"
    # At 0.5 one link (0.99) is kept and the 0.4 one missed: precision 0.99, recall 0.99/1.39.
    assert math.isclose(given["expected"]["expected_precision"], 0.99)
    assert math.isclose(given["expected"]["expected_recall"], 0.99 / 1.39)
    links = accepted_links(nodes, edges, candidate_floor(LinkageConfig()))
    auto = threshold_choice(LinkageConfig(), _on_duckdb(links), "candidate_links")
    # No candidate reaches 0.999 (the 0.99 link alone gives 0.99): highest expected F1.
    # t <= 0.3: precision 1.39/2 = 0.695, recall 1, F1 = 0.8201; t = 0.5: precision 0.99,
    # recall 0.7122, F1 = 0.8285; 0.7, 0.9, 0.95 and 0.99 keep the same link and tie with it,
    # and the higher wins ties: 0.99.
    assert auto["rule"].startswith("highest expected F1")
    assert auto["threshold"] == 0.99
