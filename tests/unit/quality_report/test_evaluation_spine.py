import polars as pl

from evaluation.groups import person_groups
from evaluation.linkage import pairwise_metrics
from evaluation.spine import cluster_sizes, members, rates_by_group, record_outcomes


def _row(table, pair):
    return table.filter(pl.col("source_pair") == pair).row(0, named=True)


def test_pairwise_counts_match_the_hand_count(spine, record_map):
    table, _ = pairwise_metrics(spine, record_map)
    # census-gp: K1 gives 2 pairs, K2 1, K3 1; all true.
    assert (
        _row(table, "census-gp")["predicted_pairs"],
        _row(table, "census-gp")["true_pairs"],
    ) == (4, 4)
    assert _row(table, "census-gp")["true_positive"] == 4
    # census-dwp: linked C1-D1 (true) and C3-D3 (false); true C1-D1, C2-D2, C4-D3.
    cd = _row(table, "census-dwp")
    assert (cd["predicted_pairs"], cd["true_pairs"], cd["true_positive"]) == (2, 3, 1)
    assert cd["precision"] == 0.5 and abs(cd["recall"] - 1 / 3) < 1e-12
    # gp-dwp: linked G1-D1, G2-D1, G4-D3; true G1-D1, G2-D1, G3-D2.
    gd = _row(table, "gp-dwp")
    assert (gd["predicted_pairs"], gd["true_pairs"], gd["true_positive"]) == (3, 3, 2)
    gg = _row(table, "gp-gp")
    assert (gg["predicted_pairs"], gg["true_pairs"], gg["true_positive"]) == (1, 1, 1)
    total = _row(table, "all")
    assert (total["predicted_pairs"], total["true_pairs"], total["true_positive"]) == (10, 11, 8)
    assert total["precision_lower"] < 0.8 < total["precision_upper"]


def test_census_record_outcomes(spine, record_map):
    out = record_outcomes(members(spine, record_map)).sort("record_id")
    assert out.get_column("linked_gp").to_list() == [True, True, True, False]
    assert out.get_column("missed_dwp").to_list() == [False, True, False, True]
    assert out.get_column("false_dwp").to_list() == [False, False, True, False]
    assert out.get_column("correct_dwp").to_list() == [True, False, False, False]


def test_rates_by_group_overall_and_by_ethnic_group(spine, record_map, people):
    rates = rates_by_group(record_outcomes(members(spine, record_map)), person_groups(people))
    dwp = rates.filter((pl.col("target") == "dwp") & (pl.col("breakdown") == "all")).row(
        0, named=True
    )
    assert (dwp["census_records"], dwp["linked"], dwp["true_links"]) == (4, 2, 3)
    assert (dwp["correct"], dwp["missed"], dwp["false_links"]) == (1, 2, 1)
    assert dwp["false_link_rate"] == 0.5
    bangladeshi = rates.filter(
        (pl.col("target") == "dwp") & (pl.col("group") == "Bangladeshi")
    ).row(0, named=True)
    # C2 (P2) and C3 (P3): one DWP link, and it is false.
    assert (bangladeshi["census_records"], bangladeshi["linked"], bangladeshi["false_links"]) == (
        2,
        1,
        1,
    )
    quintile = rates.filter(pl.col("breakdown") == "imd_quintile").get_column("group").unique()
    assert quintile.to_list() == ["5 (least deprived)"]


def test_cluster_sizes(spine, record_map):
    sizes = cluster_sizes(members(spine, record_map))
    assert dict(sizes.select("size", "clusters").iter_rows()) == {1: 4, 2: 1, 3: 1, 4: 1}
    assert sizes.get_column("records").sum() == 13


def test_unlinkable_records_are_counted_apart_from_missed_links(spine, record_map, people):
    # C4 (P4) is wholly imputed: its absent DWP link (D3) is by design, not a missed link.
    unlinkable = pl.DataFrame({"source": ["census"], "record_id": ["C4"]})
    outcomes = record_outcomes(members(spine, record_map), unlinkable).sort("record_id")
    assert outcomes.get_column("linkable").to_list() == [True, True, True, False]
    assert outcomes.get_column("missed_dwp").to_list() == [False, True, False, False]
    assert outcomes.get_column("by_design_dwp").to_list() == [False, False, False, True]
    rates = rates_by_group(outcomes, person_groups(people))
    dwp = rates.filter((pl.col("target") == "dwp") & (pl.col("breakdown") == "all")).row(
        0, named=True
    )
    assert (dwp["true_links"], dwp["unlinkable_by_design"], dwp["missed"]) == (3, 1, 1)
    # Recall over linkable true links: C1 right, C2 missed -> 1 of 2.
    assert dwp["recall"] == 0.5
