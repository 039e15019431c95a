"""The sections built on the analysis stage's tidy tables, on a hand-made table."""

import datetime as dt
import math

import polars as pl
import pytest

from quality_report.artefacts import RunArtefacts
from quality_report.context import ReportContext
from quality_report.document import Section
from quality_report.sections_published import bias_section, impact_section, sensitivity_section

MONTHS = [dt.date(2019 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(17)]
# (table, breakdown, group): truth before and from March 2020, linked offset before/after,
# ipw offset.
CELLS = [
    ("overall", "all", "all", 14.0, 19.0, -1.0, -1.0, -0.2),
    ("by_imd_quintile", "imd_quintile", "1 (most deprived)", 30.0, 36.0, -1.0, -2.0, 0.1),
    ("by_imd_quintile", "imd_quintile", "5 (least deprived)", 8.0, 10.0, 0.2, 0.2, 0.3),
]
OFFSETS = {"threshold_0.9": 0.3, "threshold_0.99": -0.4}


def _rows():
    for table, breakdown, group, before, after, lb, la, ipw in CELLS:
        for month in MONTHS:
            pandemic = month >= dt.date(2020, 3, 1)
            truth = after if pandemic else before
            linked = truth + (la if pandemic else lb)
            values = {"truth": truth, "linked": linked, "ipw": truth + ipw}
            values |= {k: linked + v for k, v in OFFSETS.items()}
            for estimate, pct in values.items():
                yield {
                    "table": table,
                    "breakdown": breakdown,
                    "group": group,
                    "month": month,
                    "estimate": estimate,
                    "people": 1000,
                    "recipients": 150,
                    "crude_pct": pct,
                    "asr_pct": pct,
                    "asr_lower": pct - 0.5,
                    "asr_upper": pct + 0.5,
                    "status": "published",
                }


@pytest.fixture
def ctx(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "analysis/published").mkdir(parents=True)
    pl.DataFrame(list(_rows())).write_parquet(tmp_path / "analysis/published/monthly.parquet")
    # A non-tidy published table is ignored, not an error.
    pl.DataFrame({"table": ["x"], "gap": [1.0]}).write_parquet(
        tmp_path / "analysis/published/other.parquet"
    )
    pl.DataFrame(
        {
            "estimate": ["linked", "truth", "linked", "truth", "linked"],
            "group": ["Bangladeshi", "Bangladeshi", "Pakistani", "Pakistani", "Chinese"],
            "gap_widening": [1.5, 2.5, 0.9, 1.0, None],
        }
    ).write_parquet(tmp_path / "analysis/published/ethnic_gaps.parquet")
    return ReportContext(RunArtefacts.open(tmp_path))


def _figures(section: Section) -> dict[str, float]:
    import re

    html = "".join(section.body)
    return {k: float(v) for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]+)"', html)}


def test_impact_statement_counts_by_hand(ctx):
    section = impact_section(ctx)
    figures = _figures(section)
    assert figures["impact/cells"] == 3
    assert figures["impact/material_cells"] == 2  # overall (1.0) and quintile 1 (2.0)
    assert figures["impact/outside_ci"] == 2
    assert figures["impact/ipw_better"] == 2  # quintile 5 gets worse
    assert math.isclose(figures["impact/bias/by_imd_quintile|1 (most deprived)"], 2.0)
    assert math.isclose(figures["impact/change_bias"], 1.0)
    text = "".join(section.body)
    assert "understates the true change of 6.00 points" in text
    # Bangladeshi: linked widening 1.5 against 2.5 true, the larger of the two distortions.
    assert figures["impact/gap/linked"] == 1.5 and figures["impact/gap/truth"] == 2.5
    assert math.isclose(figures["impact/gap/difference"], 1.0)
    assert "Bangladeshi gap" in text and "understates the widening" in text
    # Largest bias first.
    assert text.index("IMD quintile: 1 (most deprived)") < text.index("All people: the linked")


def test_bias_section_means_by_hand(ctx):
    figures = _figures(bias_section(ctx))
    assert math.isclose(figures["bias/mean_abs_linked_pp"], (1.0 + 2.0 + 0.2) / 3)
    assert math.isclose(figures["bias/mean_abs_ipw_pp"], (0.2 + 0.1 + 0.3) / 3)
    assert math.isclose(figures["bias/by_imd_quintile|5 (least deprived)/linked_bias_pp"], 0.2)


def test_sensitivity_spread_by_hand(ctx):
    section = sensitivity_section(ctx)
    assert section.absent == []
    figures = _figures(section)
    assert math.isclose(figures["sensitivity/max_spread_pp"], 0.7, abs_tol=1e-9)
    assert math.isclose(
        figures["sensitivity/overall|all|2021-03-01/threshold_0.99"], 19.0 - 1.0 - 0.4
    )


def test_sections_say_when_the_analysis_is_absent(tmp_path):
    (tmp_path / "sources").mkdir()
    ctx = ReportContext(RunArtefacts.open(tmp_path))
    for build in (sensitivity_section, bias_section):
        assert build(ctx).absent == ["analysis/published/*.parquet"]
