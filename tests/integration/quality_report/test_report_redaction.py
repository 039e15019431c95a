"""With redaction on, none of the run's identifiers appears anywhere in the report."""

import inspect
import re

import polars as pl
import pytest

from linkage import standardise

pytestmark = pytest.mark.slow

_NOT_NAMES = {"ENGLAND", "SOURCE", "WHITE", "BLACK", "MIXED", "OTHER"}
# The standardisation rules, quoted in the report, illustrate themselves with made-up names
# (SMITH-JONES, O'Brien); those words are documentation, the same in every report.
_DOCUMENTED = set(re.findall(r"[A-Z]+", (inspect.getdoc(standardise) or "").upper()))


def _without_vendored_scripts(text):
    """The page without the vendored Vega libraries (the same in every report, no data)."""
    return re.sub(
        r"<script>(.*?)</script>",
        lambda m: "" if len(m.group(1)) > 50_000 else m.group(0),
        text,
        flags=re.DOTALL,
    )


def _identifiers(run):
    """Identifier strings of the run, read straight from the extracts."""
    found = {"number": set(), "postcode": set(), "dob": set(), "name": set()}
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
        for column in ("forename", "surname"):
            found["name"] |= {
                n.upper()
                for n in frame.get_column(column).drop_nulls().to_list()
                if len(n) >= 4 and n.upper() not in _NOT_NAMES
            }
    return found


def _leaks(folder, identifiers):
    leaks = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".json"):
            continue
        text = path.read_text(encoding="utf-8")
        text = _without_vendored_scripts(text).upper()
        words = set(re.findall(r"[A-Z0-9]+", text))
        compact = words | {
            a + b for a, b in re.findall(r"\b([A-Z0-9]{2,4}) ([0-9][A-Z]{2})\b", text)
        }
        leaks += [("number", v) for v in identifiers["number"] if v.upper() in words]
        leaks += [("postcode", v) for v in identifiers["postcode"] if v in compact]
        leaks += [("dob", v) for v in identifiers["dob"] if v in text]
        leaks += [("name", v) for v in identifiers["name"] if v in words - _DOCUMENTED]
    return leaks


def test_redacted_report_holds_no_identifier(redacted, tiny_run):
    index, parsed = redacted
    assert _leaks(index.parent, _identifiers(tiny_run)) == []
    assert not (index.parent / "comparison_viewer.html").exists()
    assert not (index.parent / "cluster_studio.html").exists()
    # Still a full report: every section, the waterfall charts with weights only.
    assert len(parsed.sections) == 17
    assert index.read_text(encoding="utf-8").count('id="waterfall-') == 3


def test_the_scan_finds_identifiers_in_the_unredacted_report(report, tiny_run):
    """Without redaction the clerical pairs and waterfalls show identifiers: the scan
    above is able to see them."""
    index, _ = report
    kinds = {kind for kind, _ in _leaks(index.parent, _identifiers(tiny_run))}
    assert {"name", "dob", "postcode"} <= kinds
