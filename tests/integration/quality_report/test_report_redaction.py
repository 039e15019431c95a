"""With redaction on, none of the run's identifiers appears anywhere in the report."""

import html
import inspect
import json
import re

import polars as pl
import pytest

from analysis.reference import ETHNIC_GROUPS, region_names
from linkage import standardise
from quality_report.build import _study_months

pytestmark = pytest.mark.slow

PLACEHOLDERS = {"UNKNOWN", "BABY", "TEST", "NONE", "NOT KNOWN"}
"""Fake names a recording error writes; they identify nobody."""


def _category_words(run):
    """Words of the category labels the report shows (regions, ethnic groups, published
    groups, the model's comparison levels): data, but not identifiers, even where they are
    also names (WHITE, WEST, DAY in "day and month transposed")."""
    labels = list(ETHNIC_GROUPS.values())
    labels += list(_strings(json.loads((run / "linkage/model.json").read_text())))
    labels += list(region_names())
    for path in sorted((run / "analysis/published").glob("*.parquet")):
        if "group" in pl.read_parquet_schema(path):
            labels += pl.read_parquet(path, columns=["group"]).get_column("group").to_list()
    return {w for label in labels for w in re.findall(r"[A-Z][A-Z'\-]+", str(label).upper())}


def _identifiers(run):
    """Identifier strings of the run, read straight from the extracts."""
    found = {"number": set(), "postcode": set(), "dob": set(), "full_name": set(), "name": set()}
    for name in ("census", "gp_registrations", "dwp_customers"):
        frame = pl.read_parquet(run / f"sources/{name}.parquet")
        for column in ("nhs_number", "nino"):
            if column in frame.columns:
                found["number"] |= set(frame.get_column(column).drop_nulls().to_list())
        found["postcode"] |= {
            p.replace(" ", "").upper() for p in frame.get_column("postcode").drop_nulls().to_list()
        }
        found["dob"] |= {
            d.isoformat() for d in frame.get_column("date_of_birth").drop_nulls().to_list()
        }
        for fore, sur in frame.select("forename", "surname").drop_nulls().iter_rows():
            found["full_name"].add(f"{fore} {sur}".upper())
        for column in ("forename", "surname"):
            found["name"] |= {n.upper() for n in frame.get_column(column).drop_nulls().to_list()}
    found["name"] -= PLACEHOLDERS | _category_words(run)
    # A name recorded as an initial only identifies no one, and single letters stand in the
    # report for codes and markers (sex "U", the "[u]" of a low-reliability estimate).
    found["name"] = {name for name in found["name"] if len(name) > 1}
    # Months of the published series are first days of months, and the resolved
    # configuration shown in the report holds parameter dates; some babies share them.
    found["dob"] -= _study_months()
    found["dob"] -= set(re.findall(r"\d{4}-\d{2}-\d{2}", (run / "config.yaml").read_text()))
    return found


def _documentation_removed(text):
    """The report quotes the standardisation rules verbatim; their examples are made up
    (SMITH-JONES, 27/03/2011). Check the quote is exactly the documentation, then drop it."""
    quoted = re.findall(r'<pre class="rules">(.*?)</pre>', text, re.DOTALL)
    assert [html.unescape(q) for q in quoted] in ([], [inspect.getdoc(standardise)])
    return re.sub(r'<pre class="rules">.*?</pre>', "", text, flags=re.DOTALL)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _data_values(node):
    """String values of every ``data.values`` array in a Vega-Lite specification."""
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            yield from _strings(data["values"])
        for key, value in node.items():
            if key != "data":
                yield from _data_values(value)
        if isinstance(node.get("datasets"), dict):
            yield from _strings(node["datasets"])
    elif isinstance(node, list):
        for value in node:
            yield from _data_values(value)


def _data_cells(text):
    """What the report shows as data: table cells and the data inside chart specs."""
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", text, re.DOTALL)]
    specs = re.findall(r'vegaEmbed\("#[^"]+", (\{.*?\}), \{"actions"', text)
    assert len(specs) == text.count('vegaEmbed("#'), "a chart specification was not read"
    for spec in specs:
        cells += list(_data_values(json.loads(spec.replace("<\\/", "</"))))
    return cells


def _leaks(folder, identifiers):
    leaks = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".json"):
            continue
        text = _documentation_removed(path.read_text(encoding="utf-8"))
        # The vendored Vega libraries are the same in every report and hold no data.
        text = re.sub(
            r"<script>(.*?)</script>",
            lambda m: "" if len(m.group(1)) > 50_000 else m.group(0),
            text,
            flags=re.DOTALL,
        )
        upper = text.upper()
        tokens = set(re.findall(r"[A-Z0-9]+", upper))
        pairs = re.findall(r"\b([A-Z0-9]{2,4}) ([0-9][A-Z]{2})\b", upper)
        leaks += [("number", v) for v in identifiers["number"] if v.upper() in tokens]
        leaks += [
            ("postcode", v)
            for v in identifiers["postcode"]
            if v in tokens | {a + b for a, b in pairs}
        ]
        leaks += [("dob", v) for v in identifiers["dob"] if v in upper]
        words = re.findall(r"[A-Z][A-Z'\-]*", re.sub(r"</?[A-Z][^>]*>", " ", upper))
        grams = {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}
        leaks += [("full_name", v) for v in identifiers["full_name"] if v in grams]
        # Single names only where data is shown, since many names are also English words.
        # Tokens run over letters and digits together so that a hexadecimal hash (a file's
        # SHA-256 "...3DADA9...") is one token, not a source of chance names like "ADA".
        shown = {
            w
            for cell in _data_cells(text)
            for w in re.findall(r"[A-Z0-9][A-Z0-9'\-]*", cell.upper())
            if not any(ch.isdigit() for ch in w)
        }
        leaks += [("name", v) for v in identifiers["name"] if v in shown]
    return leaks


def test_redacted_report_holds_no_identifier(redacted, tiny_run):
    index, parsed = redacted
    assert _leaks(index.parent, _identifiers(tiny_run)) == []
    assert not (index.parent / "comparison_viewer.html").exists()
    assert not (index.parent / "cluster_studio.html").exists()
    # Still a full report: every section, the waterfall charts with weights only.
    assert len(parsed.sections) == 18  # the verdict, then one per checklist item
    assert index.read_text(encoding="utf-8").count('id="waterfall-') == 3


def test_the_scan_finds_identifiers_in_the_unredacted_report(report, tiny_run):
    """Without redaction the clerical pairs and waterfalls show identifiers: the scan
    above is able to see each kind of them."""
    index, _ = report
    kinds = {kind for kind, _ in _leaks(index.parent, _identifiers(tiny_run))}
    assert {"name", "full_name", "dob", "postcode"} <= kinds
