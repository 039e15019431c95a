"""Splink's saved diagnostic charts: copied beside the report and embedded inline.

The linkage stage saves each chart as a self-contained HTML page; the chart's Vega-Lite
specification is read back out of that page so the report draws it with its own vendored
scripts (one page, no frames), and the original page is copied beside the report and linked.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SAFE_CHARTS: dict[str, str] = {
    "match_weights": "Match weights of each comparison level",
    "m_u_parameters": "m and u probabilities of each comparison level",
    "parameter_estimates": "Parameter estimates across training sessions (stability)",
}
"""Charts built from model parameters only, which hold no record values (safe to redact)."""

_MARKER = "vegaEmbed(document.getElementById("


def extract_spec(document: str) -> dict[str, Any] | None:
    """The Vega-Lite specification embedded in a chart page saved by Splink, if any."""
    start = document.find(_MARKER)
    if start < 0:
        return None
    comma = document.find(")", start + len(_MARKER))
    if comma < 0:
        return None
    rest = document[comma + 1 :].lstrip().lstrip(",").lstrip()
    try:
        spec, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return None
    return spec if isinstance(spec, dict) else None


def collect(charts_dir: Path, out_dir: Path, *, redact: bool) -> list[dict[str, Any]]:
    """Copy the saved charts into ``out_dir`` and return their specs.

    Returns
    -------
    list of dict
        Per chart: ``name``, ``title``, ``file`` (relative to the report), ``spec`` (or
        ``None`` when it could not be read) and ``withheld`` (True for charts that may
        show record values when ``redact`` is set; those are neither copied nor shown).
    """
    found = []
    rank = {name: i for i, name in enumerate(SAFE_CHARTS)}
    paths = sorted(charts_dir.glob("*.html"), key=lambda p: (rank.get(p.stem, 99), p.stem))
    for path in paths:
        name = path.stem
        entry: dict[str, Any] = {
            "name": name,
            "title": SAFE_CHARTS.get(name, name.replace("_", " ").capitalize()),
            "file": None,
            "spec": None,
            "withheld": redact and name not in SAFE_CHARTS,
        }
        if not entry["withheld"]:
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out_dir / path.name)
            entry["file"] = f"{out_dir.name}/{path.name}"
            entry["spec"] = extract_spec(path.read_text(encoding="utf-8"))
            if entry["spec"] is None:
                logger.warning("Could not read a chart specification from %s", path.name)
        found.append(entry)
    return found
