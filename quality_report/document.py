"""The report as data: sections holding HTML, and figures marked up so tests can read them.

Every number the report states is written through :func:`figure` or :func:`figure_table`,
which put the raw value in a ``data-value`` attribute and a stable name in ``data-key``.
A reader sees the formatted number; a test parses the attributes and compares them with the
run's own tables, so no figure can drift from its source unnoticed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

Formatter = Callable[[object], str]
NUM_CLASS = ' class="num"'


@dataclass
class Section:
    """One numbered part of the report, matching an item of the quality checklist.

    Parameters
    ----------
    anchor
        HTML id used by the table of contents.
    title
        Heading shown to the reader.
    checklist
        The items of the checklist (STUDY.md section 6) this section answers.
    body
        HTML fragments, in order.
    absent
        Artefacts the section needed but the run folder lacks.
    """

    anchor: str
    title: str
    checklist: tuple[int, ...]
    body: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)

    def add(self, *fragments: str) -> None:
        """Append HTML fragments."""
        self.body.extend(fragments)

    def missing(self, artefact: str, consequence: str) -> None:
        """Record that an artefact is absent and say so in the section."""
        self.absent.append(artefact)
        self.body.append(
            f'<p class="absent" data-absent="{html.escape(artefact)}"><span class="badge warn">'
            f"artefact absent</span> <code>{html.escape(artefact)}</code> is not in this run "
            f"folder: {html.escape(consequence)}</p>"
        )

    def render(self) -> str:
        """The section as HTML."""
        items = ", ".join(str(i) for i in self.checklist)
        return (
            f'<section id="{self.anchor}" data-checklist="{items}">\n<h2>{html.escape(self.title)}'
            f'</h2>\n<p class="note">Checklist items: {items}</p>\n' + "\n".join(self.body) + "\n"
            "</section>"
        )


def pct(value: object, digits: int = 2) -> str:
    """Format a proportion in [0, 1] as a percentage."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def points(value: object) -> str:
    """Format a difference in percentage points to two decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{float(value):.2f}"


def number(value: object) -> str:
    """Format a count (also one held as a float) with thousands separators, or a float with
    four significant figures."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer():
        # A count that travelled as a float is still a count: no "30,817.0".
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    return str(value)


def _raw(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def figure(key: str, value: object, fmt: Formatter = number) -> str:
    """A number in running text, machine-readable through ``data-key``/``data-value``."""
    return (
        f'<span class="fig" data-key="{html.escape(key)}" data-value="{html.escape(_raw(value))}">'
        f"{html.escape(fmt(value))}</span>"
    )


def card(label: str, key: str, value: object, fmt: Formatter = number, note: str = "") -> str:
    """A headline figure in a summary card."""
    extra = f'<div class="note">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="card"><div>{html.escape(label)}</div><div class="value">'
        f"{figure(key, value, fmt)}</div>{extra}</div>"
    )


def figure_table(
    frame: pl.DataFrame,
    *,
    key: str,
    row_key: Sequence[str],
    formats: dict[str, Formatter] | None = None,
    caption: str | None = None,
    max_rows: int = 200,
) -> str:
    """Render a frame as a table whose numeric cells carry ``data-key`` and ``data-value``.

    Parameters
    ----------
    frame
        The rows to show.
    key
        Prefix naming the table, e.g. ``headline.pairwise``.
    row_key
        Columns whose values identify a row; a cell's key is ``key/<row values>/<column>``.
    formats
        Formatter per column; numeric columns default to :func:`number`.
    caption
        Table caption.
    max_rows
        Rows shown; a note says when rows were left out.
    """
    formats = formats or {}
    numeric = {name for name, dtype in frame.schema.items() if dtype.is_numeric()}
    head = "".join(
        f'<th scope="col"{NUM_CLASS if c in numeric else ""}>{html.escape(c)}</th>'
        for c in frame.columns
    )
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        ident = "|".join(str(row[c]) for c in row_key)
        cells = []
        for name, value in row.items():
            if name in numeric or name in formats:
                fmt = formats.get(name, number)
                cell_key = f"{key}/{ident}/{name}"
                cells.append(
                    f'<td class="num" data-key="{html.escape(cell_key)}" '
                    f'data-value="{html.escape(_raw(value))}">{html.escape(fmt(value))}</td>'
                )
            else:
                text = "" if value is None else str(value)
                cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = (
        f'<p class="note">First {max_rows} of {frame.height} rows shown.</p>'
        if frame.height > max_rows
        else ""
    )
    return (
        f'<div class="table-wrap"><table data-table="{html.escape(key)}">{cap}<thead><tr>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def paragraph(text: str) -> str:
    """A paragraph of already-safe HTML."""
    return f"<p>{text}</p>"


def escape(text: object) -> str:
    """HTML-escape any value."""
    return html.escape(str(text))


def contents(sections: Sequence[Section]) -> str:
    """The table of contents."""
    items = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    return f'<nav class="toc"><strong>Contents</strong><ol>{items}</ol></nav>'
