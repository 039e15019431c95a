"""Checking that a redacted report holds no identifier of the run.

Identifiers are read from the run's source extracts. The check looks for values that
cannot be ordinary words: NHS numbers, NINOs, postcodes, dates of birth and full names
(forename followed by surname). The vendored Vega scripts, identical in every report, are
left out of the scan.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from quality_report.artefacts import RunArtefacts
from quality_report.errors import RedactionError

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_RULES = re.compile(r'<pre class="rules">.*?</pre>', re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def strip_vendored(document: str) -> str:
    """The page without its fixed text: the vendored Vega scripts (long minified library
    code) and the quoted standardisation rules (documentation whose examples are made up)."""
    document = _RULES.sub("", document)
    return _SCRIPT.sub(lambda m: "" if len(m.group(1)) > 50_000 else m.group(0), document)


def identifier_values(run: RunArtefacts) -> dict[str, set[str]]:
    """Identifier values of the run's linked sources, by kind, in the forms a page shows."""
    kinds: dict[str, set[str]] = {
        "nhs_number": set(),
        "nino": set(),
        "postcode": set(),
        "date_of_birth": set(),
        "full_name": set(),
    }
    for name in ("census", "gp", "dwp"):
        frame = run.source(name)
        if frame is None:
            continue
        if "nhs_number" in frame.columns:
            kinds["nhs_number"] |= set(frame.get_column("nhs_number").drop_nulls().to_list())
        if "nino" in frame.columns:
            kinds["nino"] |= set(frame.get_column("nino").drop_nulls().str.to_uppercase().to_list())
        if "postcode" in frame.columns:
            compact = (
                frame.get_column("postcode")
                .drop_nulls()
                .str.to_uppercase()
                .str.replace_all(r"[^A-Z0-9]", "")
            )
            kinds["postcode"] |= {p for p in compact.to_list() if len(p) >= 5}
        if "date_of_birth" in frame.columns:
            dob = frame.get_column("date_of_birth").drop_nulls().cast(pl.Date)
            kinds["date_of_birth"] |= set(dob.dt.strftime("%Y-%m-%d").to_list())
            kinds["date_of_birth"] |= set(dob.dt.strftime("%d/%m/%Y").to_list())
        if "forename" in frame.columns and "surname" in frame.columns:
            full = (
                frame.select(
                    (
                        pl.col("forename").str.to_uppercase().str.strip_chars()
                        + " "
                        + pl.col("surname").str.to_uppercase().str.strip_chars()
                    ).alias("n")
                )
                .get_column("n")
                .drop_nulls()
            )
            kinds["full_name"] |= {n for n in full.to_list() if len(n) >= 5}
    return kinds


def find_identifiers(
    text: str, values: dict[str, set[str]], *, ignore_dates: set[str] | None = None
) -> list[tuple[str, str]]:
    """Identifier values of the run found in ``text``, as ``(kind, value)`` pairs."""
    upper = strip_vendored(text).upper()
    found = []
    tokens = set(re.findall(r"[A-Z0-9]+", upper))
    for kind in ("nhs_number", "nino"):
        found += [(kind, v) for v in values[kind] if v.upper() in tokens]
    # Postcodes may be shown with or without their space.
    pairs = re.findall(r"(?=\b([A-Z0-9]{2,4})\s?([0-9][A-Z]{2})\b)", upper)
    seen = {a + b for a, b in pairs} | tokens
    found += [("postcode", v) for v in values["postcode"] if v in seen]
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", upper)) - (ignore_dates or set())
    found += [("date_of_birth", v) for v in values["date_of_birth"] if v in dates]
    # Names are looked for in the text and script data, not in tag names (<li> is no Li).
    words = re.findall(r"[A-Z][A-Z'\-]*", _TAG.sub(" ", upper))
    grams = {" ".join(words[i : i + n]) for n in (2, 3, 4) for i in range(len(words) - n + 1)}
    found += [("full_name", v) for v in values["full_name"] if v in grams]
    return sorted(found)


def check_redacted(folder: Path, run: RunArtefacts, *, ignore_dates: set[str]) -> None:
    """Raise when any page or file in ``folder`` holds an identifier of the run.

    Raises
    ------
    RedactionError
        Naming the file and the kind of identifier (never the value itself).
    """
    values = identifier_values(run)
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in (".html", ".json", ".txt", ".csv"):
            continue
        hits = find_identifiers(
            path.read_text(encoding="utf-8", errors="replace"), values, ignore_dates=ignore_dates
        )
        if hits:
            kinds = sorted({k for k, _ in hits})
            raise RedactionError(
                f"{path.name}: a redacted report would hold {len(hits)} identifier value(s) "
                f"of kind {', '.join(kinds)}; nothing was written"
            )
