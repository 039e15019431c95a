"""Build self-contained HTML pages: inline CSS, vendored Vega scripts, no remote references."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from common.files import write_text

_VENDOR_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
_REMOTE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


@cache
def _asset(name: str) -> str:
    return resources.files("reporting").joinpath("assets", name).read_text(encoding="utf-8")


def _vega_scripts() -> str:
    # Closing-tag sequences inside the minified code would end the script element early.
    bodies = (
        _asset(f"vendor/{name}").replace("</script", "<\\/script") for name in _VENDOR_SCRIPTS
    )
    return "\n".join(f"<script>{body}</script>" for body in bodies)


def page(title: str, body: str, *, charts: bool = False, subtitle: str | None = None) -> str:
    """Wrap an HTML body in a complete, self-contained page.

    Parameters
    ----------
    title
        The page title, shown in the masthead and the browser tab.
    body
        HTML for the main content.
    charts
        Inline the Vega scripts (about 0.8 MB) so ``altair_chart`` fragments draw offline.
    subtitle
        A line under the masthead title.
    """
    scripts = _vega_scripts() if charts else ""
    sub = f"<div>{html.escape(subtitle)}</div>" if subtitle else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_asset('style.css')}</style>\n"
        f'{scripts}\n</head>\n<body>\n<header class="masthead"><strong>'
        f"{html.escape(title)}</strong>{sub}</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def altair_chart(chart: Any, element_id: str) -> str:
    """Render an Altair chart as a fragment that draws with the page's inlined Vega scripts.

    The ``$schema`` URL is dropped so the page holds no remote reference at all.
    """
    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    spec.pop("$schema", None)
    payload = json.dumps(spec).replace("</", "<\\/")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "-", element_id)
    return (
        f'<div class="chart" id="{safe_id}"></div>\n<script>vegaEmbed("#{safe_id}", {payload}, '
        '{"actions": false, "renderer": "svg"}).catch(console.error);</script>'
    )


def html_table(frame: pl.DataFrame, *, caption: str | None = None, max_rows: int = 500) -> str:
    """Render a polars frame as an accessible HTML table, numbers right-aligned."""
    numeric = {name for name, dtype in frame.schema.items() if dtype.is_numeric()}
    num_class = ' class="num"'
    head = "".join(
        f'<th scope="col"{num_class if name in numeric else ""}>{html.escape(name)}</th>'
        for name in frame.columns
    )
    rows = []
    for row in frame.head(max_rows).iter_rows():
        cells = []
        for name, value in zip(frame.columns, row, strict=True):
            if value is None:
                text = ""
            else:
                text = f"{value:,.2f}" if isinstance(value, float) else str(value)
            cls = num_class if name in numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = (
        f'<p class="note">First {max_rows} of {frame.height} rows.</p>'
        if frame.height > max_rows
        else ""
    )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def remote_references(document: str) -> list[str]:
    """Return every place a page would load something from the network (empty when offline-safe).

    Looks at what a browser fetches (``src``/``href`` attributes, CSS ``url()`` and
    ``@import``), not at URLs that merely appear as text inside scripts.
    """
    return [match.group(0) for match in _REMOTE.finditer(document)]


def write_page(path: Path, document: str) -> Path:
    """Write a page atomically: a reader never sees a half-written file."""
    return write_text(path, document)
