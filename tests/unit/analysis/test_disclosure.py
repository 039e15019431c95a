"""Every disclosure rule on hand-made tables, and a property test over random tables."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import SUPPRESSED, apply_disclosure_control, round_to_base

RATES = ["crude_pct"]


def _control(cells, margins=None):
    cells = cells.with_columns((pl.col("recipients") / pl.col("people") * 100).alias("crude_pct"))
    return apply_disclosure_control(cells, table="t", keys=["group"], rates=RATES, margins=margins)


def test_rounding_to_nearest_five_halves_up():
    values = pl.DataFrame({"n": [10, 12, 13, 15, 17, 18, 22, 23]})
    assert values.select(round_to_base(pl.col("n"), 5))["n"].to_list() == [
        10,
        10,
        15,
        15,
        15,
        20,
        20,
        25,
    ]
    halves = pl.DataFrame({"n": [15, 25]})
    assert halves.select(round_to_base(pl.col("n"), 10))["n"].to_list() == [20, 30]


def test_primary_rules():
    cells = pl.DataFrame(
        {
            "group": ["few people", "few recipients", "fine", "few non-recipients", "zero"],
            "people": [5, 100, 102, 103, 50],
            "recipients": [2, 5, 52, 97, 0],
        }
    )
    result = _control(cells)
    out = {row["group"]: row for row in result.published.iter_rows(named=True)}
    assert out["few people"]["people"] is None and out["few people"]["recipients"] is None
    assert out["few people"]["status"] == SUPPRESSED
    assert out["few recipients"]["people"] == 100 and out["few recipients"]["recipients"] is None
    assert out["few recipients"]["crude_pct"] is None
    assert out["fine"]["people"] == 100 and out["fine"]["recipients"] == 50
    assert out["fine"]["crude_pct"] == 51.0  # 52 / 102, computed before rounding: 50.98
    assert out["fine"]["status"] == "published"
    assert out["few non-recipients"]["people"] == 105
    assert out["few non-recipients"]["recipients"] is None
    assert out["zero"]["recipients"] is None  # a zero is suppressed too
    audit = {(r["cell"], r["measure"]): r["rule"] for r in result.audit.iter_rows(named=True)}
    assert audit[("group=few people", "people")] == "count_below_min"
    assert audit[("group=few recipients", "recipients")] == "count_below_min"
    assert audit[("group=few recipients", "people")] == "rounded"
    assert audit[("group=few non-recipients", "recipients")] == "complement_below_min"
    assert audit[("group=few recipients", "crude_pct")] == "rate_suppressed"
    assert audit[("group=fine", "crude_pct")] == "rounded_1dp"


def test_secondary_suppression_protects_a_lone_suppressed_cell():
    cells = pl.DataFrame(
        {
            "group": ["total", "A", "B", "C", "D"],
            "people": [300, 5, 95, 100, 100],
            "recipients": [150, 2, 48, 50, 50],
        }
    )
    margins = pl.DataFrame({"margin": ["m"] * 5, "cell": [0, 1, 2, 3, 4]})
    result = _control(cells, margins)
    status = dict(zip(result.published["group"], result.published["status"], strict=True))
    assert status == {
        "total": "published",
        "A": SUPPRESSED,
        "B": SUPPRESSED,  # the smallest other cell of the margin
        "C": "published",
        "D": "published",
    }
    b = result.published.filter(pl.col("group") == "B").row(0, named=True)
    assert b["people"] is None and b["recipients"] is None and b["crude_pct"] is None
    audit = result.audit.filter((pl.col("cell") == "group=B") & (pl.col("measure") == "people"))
    assert audit["rule"].item() == "secondary_margin"


def test_secondary_suppression_follows_nested_margins():
    # Total = A + B + C + D and P1 = A + B, P2 = C + D. C is below 10, alone in both the
    # total margin and P2. D sits in both, so suppressing D alone protects both margins
    # (C + D = 48 is known, neither part is); P1 keeps no suppression at all.
    cells = pl.DataFrame(
        {
            "group": ["total", "P1", "P2", "A", "B", "C", "D"],
            "people": [138, 90, 48, 30, 60, 8, 40],
            "recipients": [69, 45, 24, 15, 30, 4, 20],
        }
    )
    margins = pl.DataFrame(
        {
            "margin": ["all"] * 5 + ["p1"] * 3 + ["p2"] * 3,
            "cell": [0, 3, 4, 5, 6, 1, 3, 4, 2, 5, 6],
        }
    )
    result = _control(cells, margins)
    suppressed = result.published.filter(pl.col("status") == SUPPRESSED)["group"].to_list()
    assert sorted(suppressed) == ["C", "D"]


def test_secondary_suppression_on_recipients_margin():
    # Recipients: A has 3 (suppressed), so the smallest other recipients count goes too.
    cells = pl.DataFrame(
        {
            "group": ["total", "A", "B", "C"],
            "people": [300, 100, 100, 100],
            "recipients": [73, 3, 30, 40],
        }
    )
    margins = pl.DataFrame({"margin": ["m"] * 4, "cell": [0, 1, 2, 3]})
    result = _control(cells, margins)
    out = {row["group"]: row for row in result.published.iter_rows(named=True)}
    assert out["A"]["recipients"] is None
    assert out["B"]["recipients"] is None
    assert out["C"]["recipients"] == 40


def test_table_without_rates_suppresses_counts_only():
    flow = pl.DataFrame({"step": [1, 2], "people": [1000, 996], "removed": [0, 4]})
    result = apply_disclosure_control(
        flow,
        table="flow",
        keys=["step"],
        counts=["people", "removed"],
        numerator=None,
        denominator=None,
    )
    assert result.published["people"].to_list() == [1000, 995]
    assert result.published["removed"].to_list() == [None, None]


@st.composite
def partitions(draw):
    size = draw(st.integers(1, 8))
    people = draw(st.lists(st.integers(0, 60), min_size=size, max_size=size))
    recipients = [draw(st.integers(0, p)) for p in people]
    groups = ["total"] + [f"g{i}" for i in range(size)]
    cells = pl.DataFrame(
        {
            "group": groups,
            "people": [sum(people), *people],
            "recipients": [sum(recipients), *recipients],
        }
    )
    margins = pl.DataFrame({"margin": ["m"] * (size + 1), "cell": list(range(size + 1))})
    return cells, margins


@settings(max_examples=150, deadline=None)
@given(partitions())
def test_no_published_count_below_ten_and_no_lone_suppression(case):
    cells, margins = case
    result = _control(cells, margins)
    published = result.published
    for column in ("people", "recipients"):
        values = published[column].drop_nulls().to_list()
        assert all(value >= 10 and value % 5 == 0 for value in values)
        assert published[column].null_count() != 1  # one margin: never a lone [c]
    hidden = published.filter(pl.col("recipients").is_null() | pl.col("people").is_null())
    assert hidden["crude_pct"].null_count() == hidden.height


def _two_months():
    # Per month: total = A + B + C + G; G (Gypsy-like) is below 10 every month. By month, the
    # smallest other cell is B in month 1 (40 < 45) and C in month 2 (38 < 44); over the
    # series C has fewer people (45 + 38 = 83 against 40 + 44 = 84), so C is the complement
    # in both months: one pattern for the whole series.
    return pl.DataFrame(
        {
            "month": [1] * 5 + [2] * 5,
            "group": ["total", "A", "B", "C", "G"] * 2,
            "people": [190, 100, 40, 45, 5, 190, 100, 44, 38, 8],
            "recipients": [95, 50, 20, 22, 3, 95, 50, 22, 19, 4],
        }
    )


def _month_margins():
    return pl.DataFrame({"margin": ["m1"] * 5 + ["m2"] * 5, "cell": list(range(10))})


def _suppressed(result):
    rows = result.published.filter(pl.col("status") == SUPPRESSED)
    return sorted(zip(rows["month"], rows["group"], strict=True))


def test_secondary_suppression_keeps_one_pattern_across_months():
    cells = _two_months().with_columns(
        (pl.col("recipients") / pl.col("people") * 100).alias("crude_pct")
    )
    result = apply_disclosure_control(
        cells,
        table="t",
        keys=["group", "month"],
        rates=RATES,
        margins=_month_margins(),
        series=["group"],
    )
    assert _suppressed(result) == [(1, "C"), (1, "G"), (2, "C"), (2, "G")]


def test_secondary_suppression_spares_protected_headline_groups():
    cells = _two_months()
    result = apply_disclosure_control(
        cells,
        table="t",
        keys=["group", "month"],
        margins=_month_margins(),
        series=["group"],
        protected=pl.col("group").is_in(["C", "total"]),
    )
    # C is protected, so B (the next smallest series) is given up in both months.
    assert _suppressed(result) == [(1, "B"), (1, "G"), (2, "B"), (2, "G")]


def test_nested_schemes_are_suppressed_jointly_with_one_complement():
    # An 18-group style scheme (I, T, O under White; X outside) nested in a 2-group scheme
    # (White, Other), all against the total. T (Traveller-like) is below 10. I sits in both
    # the all-groups margin and the White margin, so it alone protects both: White and
    # Other stay published and nothing else is lost.
    cells = pl.DataFrame(
        {
            "group": ["total", "White", "Other", "I", "T", "O", "X"],
            "people": [400, 300, 100, 30, 6, 264, 100],
            "recipients": [100, 75, 25, 8, 2, 65, 25],
        }
    )
    margins = pl.DataFrame(
        {
            "margin": ["fine"] * 5 + ["broad"] * 3 + ["white"] * 4,
            "cell": [0, 3, 4, 5, 6, 0, 1, 2, 1, 3, 4, 5],
        }
    )
    result = apply_disclosure_control(cells, table="t", keys=["group"], margins=margins)
    suppressed = result.published.filter(pl.col("status") == SUPPRESSED)["group"].to_list()
    assert sorted(suppressed) == ["I", "T"]


def test_zeros_in_a_flow_table_are_published_and_explained():
    flow = pl.DataFrame({"step": [1, 2, 3], "people": [1000, 1000, 996], "removed": [0, 0, 4]})
    result = apply_disclosure_control(
        flow,
        table="flow",
        keys=["step"],
        counts=["people", "removed"],
        numerator=None,
        denominator=None,
        zero_safe=True,
    )
    assert result.published["removed"].to_list() == [0, 0, None]
    audit = result.audit.filter(pl.col("measure") == "removed")
    assert audit["rule"].to_list() == ["published", "published", "count_below_min"]
    assert "nobody removed" in audit["detail"][0]


def test_audit_explains_every_cell():
    cells = _two_months().with_columns(
        (pl.col("recipients") / pl.col("people") * 100).alias("crude_pct")
    )
    result = apply_disclosure_control(
        cells, table="t", keys=["group", "month"], rates=RATES, margins=_month_margins()
    )
    audit = result.audit
    assert audit.height == cells.height * 3  # people, recipients and the rate of every cell
    assert audit["detail"].null_count() == 0 and audit["rule"].null_count() == 0
    secondary = audit.filter(pl.col("rule") == "secondary_margin")
    assert secondary.height and all("margin m" in d for d in secondary["detail"])
