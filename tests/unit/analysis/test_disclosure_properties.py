"""Property-based tests of disclosure control on arbitrary tables.

``test_disclosure.py`` checks tables whose cells add up to a total; here the tables are
anything at all (nulls, zeros, numerators larger than denominators, huge counts, tables
with no rates, random overlapping margins), because a published table must never show a
count below 10 or a count that is not a multiple of 5, whatever reached it.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import SUPPRESSED, apply_disclosure_control

counts = st.one_of(st.none(), st.integers(-3, 40), st.integers(0, 10**9))


@st.composite
def tables(draw):
    size = draw(st.integers(1, 12))
    people = draw(st.lists(counts, min_size=size, max_size=size))
    recipients = draw(st.lists(counts, min_size=size, max_size=size))
    cells = pl.DataFrame(
        {"group": [f"g{i}" for i in range(size)], "people": people, "recipients": recipients},
        schema={"group": pl.Utf8, "people": pl.Int64, "recipients": pl.Int64},
    )
    margins = None
    if draw(st.booleans()):
        pairs = draw(
            st.lists(
                st.tuples(st.integers(0, 3), st.integers(0, size - 1)), min_size=1, unique=True
            )
        )
        margins = pl.DataFrame(
            {"margin": [f"m{m}" for m, _ in pairs], "cell": [c for _, c in pairs]}
        )
    with_rates = draw(st.booleans())
    return cells, margins, with_rates


def _assert_safe(published: pl.DataFrame, columns: list[str]) -> None:
    for column in columns:
        for value in published[column].drop_nulls().to_list():
            assert value >= 10, f"{column}: published {value} below 10"
            assert value % 5 == 0, f"{column}: published {value} not a multiple of 5"


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_table_publishes_a_count_below_ten_or_off_the_base(case):
    cells, margins, with_rates = case
    rates = []
    if with_rates:
        cells = cells.with_columns(
            (pl.col("recipients") / pl.col("people") * 100).alias("crude_pct")
        )
        rates = ["crude_pct"]
    result = apply_disclosure_control(
        cells, table="t", keys=["group"], rates=rates, margins=margins
    )
    published = result.published
    _assert_safe(published, ["people", "recipients"])
    assert published.height == cells.height
    hidden = published.filter(pl.col("people").is_null() | pl.col("recipients").is_null())
    assert (hidden["status"] == SUPPRESSED).all()
    if rates:
        assert hidden["crude_pct"].null_count() == hidden.height


@settings(max_examples=200, deadline=None)
@given(st.lists(counts, min_size=1, max_size=15), st.lists(counts, min_size=1, max_size=15))
def test_counts_without_a_rate_are_safe_too(first, second):
    size = min(len(first), len(second))
    cells = pl.DataFrame(
        {"group": [str(i) for i in range(size)], "a": first[:size], "b": second[:size]},
        schema={"group": pl.Utf8, "a": pl.Int64, "b": pl.Int64},
    )
    result = apply_disclosure_control(
        cells, table="t", keys=["group"], counts=["a", "b"], numerator=None, denominator=None
    )
    _assert_safe(result.published, ["a", "b"])
