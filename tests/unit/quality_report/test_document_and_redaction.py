import polars as pl

from quality_report.document import figure, figure_table, pct
from quality_report.redaction import find_identifiers, strip_vendored


def test_figure_carries_the_raw_value_and_escapes():
    html = figure("a/<b>", 0.99912, pct)
    assert 'data-key="a/&lt;b&gt;"' in html and 'data-value="0.99912"' in html
    assert ">99.91%<" in html


def test_figure_table_keys_each_numeric_cell():
    frame = pl.DataFrame({"pair": ["census-gp"], "n": [12], "rate": [0.5], "note": ["x"]})
    html = figure_table(frame, key="t", row_key=["pair"], formats={"rate": pct})
    assert 'data-key="t/census-gp/n" data-value="12"' in html
    assert 'data-key="t/census-gp/rate" data-value="0.5">50.00%<' in html
    assert "t/census-gp/note" not in html


def test_find_identifiers_sees_each_kind_and_ignores_ordinary_text():
    values = {
        "nhs_number": {"9434765919"},
        "nino": {"AB123456C"},
        "postcode": {"SW1A1AA"},
        "date_of_birth": {"1980-05-01", "2020-03-01"},
        "full_name": {"JOHN SMITH"},
    }
    text = "<p>John  Smith, sw1a 1aa, 1980-05-01, 9434765919, ab123456c, 2020-03-01</p>"
    found = {kind for kind, _ in find_identifiers(text, values, ignore_dates={"2020-03-01"})}
    assert found == {"nhs_number", "nino", "postcode", "date_of_birth", "full_name"}
    assert find_identifiers("<p>Smith, John; 1980 05 01</p>", values) == []


def test_strip_vendored_keeps_small_scripts():
    page = "<script>" + "x" * 60_000 + "</script><script>var spec = 'JOHN SMITH';</script>"
    assert "JOHN SMITH" in strip_vendored(page) and "x" * 100 not in strip_vendored(page)


def test_counts_held_as_floats_print_as_counts():
    from quality_report.document import number

    assert number(30817.0) == "30,817"
    assert number(1_000_000.0) == "1,000,000"
    assert number(372.708) == "372.7"
    assert number(1234.5) == "1,234.5"
