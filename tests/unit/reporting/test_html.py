import polars as pl

from reporting import html_table, page, remote_references, write_page


def test_remote_references_finds_what_a_browser_would_fetch():
    doc = (
        '<link href="https://cdn.example/x.css"><script src="//cdn.example/x.js"></script>'
        "<style>@import 'http://x/y.css'; a { background: url(https://x/i.png) }</style>"
        '<a href="local.html">ok</a><script>var s = "https://vega.github.io/schema";</script>'
    )
    found = remote_references(doc)
    assert len(found) == 4


def test_page_is_self_contained_even_with_charts():
    doc = page("Title", "<p>body</p>", charts=True)
    assert remote_references(doc) == []
    assert doc.count("<script>") == 3


def test_html_table_escapes_and_formats():
    frame = pl.DataFrame({"group": ["<b>"], "rate": [12.3456]})
    out = html_table(frame)
    assert "&lt;b&gt;" in out and "12.35" in out and 'class="num"' in out


def test_write_page_leaves_no_temporary_file(tmp_path):
    target = write_page(tmp_path / "a" / "p.html", "<p>x</p>")
    assert target.read_text() == "<p>x</p>"
    assert [p.name for p in target.parent.iterdir()] == ["p.html"]
