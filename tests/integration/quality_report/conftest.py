"""A tiny run of the whole pipeline, made once per session, and its quality reports.

The project's own stages on a small world: generator, Splink linkage on DuckDB, the
evaluation against the truth and the analysis with its threshold re-runs. No mocks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from figures import parse  # noqa: E402

from analysis import analyse_run  # noqa: E402
from evaluation.linkage import evaluate_linkage  # noqa: E402
from linkage import link_sources, spine_at_threshold  # noqa: E402
from quality_report import build_quality_report  # noqa: E402
from runcore.config import load_config  # noqa: E402
from synthetic_data.world import generate_world  # noqa: E402

PEOPLE = 1500
SEED = 11


def make_run(run: Path, *, people: int, seed: int, linked: bool = True) -> Path:
    """Generate a world into ``run`` and (optionally) link and analyse it."""
    config = load_config(overrides={"run": {"people": people, "seed": seed}})
    generate_world(config.world, people=people, seed=seed, out_dir=run)
    (run / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    if linked:
        link_sources(run / "sources", run / "linkage", config.linkage)
        evaluate_linkage(run / "linkage", run / "truth")
        spines = {t: spine_at_threshold(run / "linkage", t) for t in config.analysis.thresholds}
        analyse_run(run, run / "analysis", config.analysis, threshold_spines=spines)
    return run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "tiny", people=PEOPLE, seed=SEED)


@pytest.fixture(scope="session")
def report(tiny_run):
    index = build_quality_report(tiny_run, tiny_run / "report")
    return index, parse(index.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def redacted(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("redacted") / "report"
    index = build_quality_report(tiny_run, out, redact=True)
    return index, parse(index.read_text(encoding="utf-8"))
