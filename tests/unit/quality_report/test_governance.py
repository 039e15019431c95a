import re

import polars as pl
import yaml

from quality_report.artefacts import RunArtefacts
from quality_report.context import ReportContext
from quality_report.sections_governance import governance_section


def test_identifier_columns_in_analysis_are_counted_and_keys_never_shown(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "analysis/published").mkdir(parents=True)
    pl.DataFrame({"person_id": ["a"], "forename": ["X"]}).write_parquet(
        tmp_path / "analysis/published/leaky.parquet"
    )
    pl.DataFrame({"group": ["all"], "asr_pct": [1.0]}).write_parquet(
        tmp_path / "analysis/published/clean.parquet"
    )
    pl.DataFrame({"nhs_number": ["9434765919"]}).write_parquet(tmp_path / "sources/gp.parquet")
    config = {"pseudonymisation": {"key_env": "TRIANGULATE_KEY", "key": "s3cr3t-value"}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    html = "".join(governance_section(ReportContext(RunArtefacts.open(tmp_path))).body)
    figures = dict(re.findall(r'data-key="(governance/[a-z_]+)" data-value="([^"]*)"', html))
    assert figures == {
        "governance/analysis_files": "2",
        "governance/analysis_with_identifiers": "1",
    }
    assert "TRIANGULATE_KEY" in html and "s3cr3t-value" not in html
