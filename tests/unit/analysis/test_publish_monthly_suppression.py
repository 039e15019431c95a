"""Secondary suppression of the ethnic tables as published: one month, one estimate.

Hand-made counts reproduce the case the release hit: one Gypsy or Irish Traveller cell below
10, published beside the 18-group and 5-group schemes. White Irish sits in both the 18-group
margin and the "White" margin, so it alone protects both; Bangladeshi (a headline group,
and the smallest other group here) stays published.
"""

from datetime import date

import polars as pl

from analysis import AnalysisConfig
from analysis.breakdowns import breakdown
from analysis.tables import publish_monthly

PEOPLE = {"White Irish": 40, "Gypsy or Irish Traveller": 6, "Bangladeshi": 30, "Chinese": 35}


def _row(table, group, people):
    recipients = people // 2
    pct = 100 * recipients / people
    return {
        "table": table,
        "breakdown": breakdown(table).breakdown,
        "group": group,
        "k": 3,
        "month": date(2020, 2, 1),
        "estimate": "linked",
        "people": people,
        "recipients": recipients,
        "crude_pct": pct,
        "asr_pct": pct,
        "asr_lower": pct - 5,
        "asr_upper": pct + 5,
    }


def _results():
    spec = breakdown("by_ethnic_group")
    fine = {group: PEOPLE.get(group, 200) for group in spec.labels}
    broad: dict[str, int] = {}
    for group, people in fine.items():
        broad[spec.parents[group]] = broad.get(spec.parents[group], 0) + people
    rows = [_row("overall", "All people", sum(fine.values()))]
    rows += [_row("by_ethnic_group", group, people) for group, people in fine.items()]
    rows += [_row("by_ethnic_group_5", group, people) for group, people in broad.items()]
    return pl.DataFrame(rows)


def test_one_complement_protects_both_schemes_and_spares_bangladeshi():
    result = publish_monthly(_results(), AnalysisConfig())
    suppressed = result.published.filter(pl.col("status") == "[c]")
    assert sorted(zip(suppressed["table"], suppressed["group"], strict=True)) == [
        ("by_ethnic_group", "Gypsy or Irish Traveller"),
        ("by_ethnic_group", "White Irish"),
    ]
    audit = result.audit.filter(
        (pl.col("cell").str.contains("White Irish")) & (pl.col("measure") == "people")
    )
    assert audit["rule"].item() == "secondary_margin"
    assert "by_ethnic_group" in audit["detail"].item()
