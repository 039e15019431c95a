"""Offline HTML pages shared by the validation reports, the analysis and the quality report.

Everything a page needs (styles, Vega scripts, chart specifications) is inlined, because
secure research environments have no internet.
"""

from reporting.html import (
    altair_chart,
    html_table,
    page,
    remote_references,
    write_page,
)

__all__ = ["altair_chart", "html_table", "page", "remote_references", "write_page"]
