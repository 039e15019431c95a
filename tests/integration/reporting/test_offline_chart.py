import altair as alt
import polars as pl
import pytest

from reporting import altair_chart, page, write_page


@pytest.mark.browser
def test_chart_draws_offline_in_headless_chromium(tmp_path, chromium):
    frame = pl.DataFrame({"month": [1, 2, 3], "pct": [13.0, 18.5, 18.9]})
    chart = alt.Chart(frame.to_pandas()).mark_line().encode(x="month", y="pct")
    path = write_page(tmp_path / "p.html", page("Chart", altair_chart(chart, "c"), charts=True))
    dom = chromium.dom(path.as_uri())
    assert 'class="marks"' in dom  # Vega drew an SVG, with no network
    assert "<path" in dom
