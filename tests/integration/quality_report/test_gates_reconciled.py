"""The validation page and the quality report say which checks gate the run, and link each other.

A real validation stage (Great Expectations) runs on a copy of the tiny run, then the report
is built into the run's own ``report/`` folder; both pages are read back as HTML.
"""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from expectations import ValidationFailed, validate_linkage
from expectations.config import ExpectationsConfig
from quality_report import build_quality_report
from quality_report.context import TARGETS


class _Page(HTMLParser):
    """Element ids of a page, and the text and links inside the element with a given id."""

    def __init__(self, text_of: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._text_of = text_of
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if self._depth or attributes.get("id") == self._text_of:
            self._depth += 1  # the pages' gates parts hold no void elements such as <br>
            if tag == "a" and "href" in attributes:
                self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.text.append(data)


def _read(path: Path, text_of: str) -> _Page:
    page = _Page(text_of)
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _target(page_path: Path, href: str) -> tuple[Path, str]:
    file, _, fragment = href.partition("#")
    return (page_path.parent / file).resolve(), fragment


@pytest.fixture(scope="module")
def pages(tiny_run, tmp_path_factory) -> tuple[Path, Path, Path]:
    run = tmp_path_factory.mktemp("gated") / "run"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("report", "validation"))
    try:
        validate_linkage(run / "linkage", run / "sources", run / "validation", ExpectationsConfig())
    except ValidationFailed:
        pass  # the pages must reconcile a failed gate too; results are written either way
    report = build_quality_report(run, run / "report")
    return run, run / "validation" / "index.html", report


def test_validation_page_says_what_it_gates_and_links_the_verdict(pages):
    run, validation, report = pages
    page = _read(validation, "gates")
    text = " ".join("".join(page.text).split())
    assert "stops the run" in text and "are not checked here" in text
    # The targets named are the report's own, to the hundredth of a point.
    assert f"{TARGETS['precision']:.2%}" in text and f"{TARGETS['recall']:.2%}" in text
    targets = [_target(validation, href) for href in page.links]
    assert (report.resolve(), "verdict") in targets
    assert "verdict" in _read(report, "verdict").ids


def test_report_verdict_counts_the_gates_and_links_the_validation_page(pages):
    run, validation, report = pages
    page = _read(report, "gates")
    text = " ".join("".join(page.text).split())
    results = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (run / "validation" / "results").glob("*.json")
    ]
    outcomes = [o for r in results for o in r["outcomes"]]
    critical = sum(not o["success"] and o["severity"] == "critical" for o in outcomes)
    failures = "critical failure" + ("" if critical == 1 else "s")
    assert f"evaluated {len(outcomes):,} checks: {critical:,} {failures}" in text
    assert "reported here, not gated" in text
    assert (validation.resolve(), "") in [_target(report, href) for href in page.links]
