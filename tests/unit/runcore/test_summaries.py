import polars as pl

from runcore.summaries import run_summary_markdown, run_summary_tables, stage_log_line


def _write_evaluation(run_dir):
    evaluation = run_dir / "linkage" / "evaluation"
    evaluation.mkdir(parents=True)
    pl.DataFrame(
        {
            "scope": ["all", "linkable"],
            "source_pair": ["census-gp", "census-gp"],
            "precision": [0.999, 1.0],
            "recall": [0.9975, 1.0],
            "f1": [0.99825, 1.0],
        }
    ).write_parquet(evaluation / "pairwise.parquet")
    pl.DataFrame(
        {
            "scope": ["all", "all", "all"],
            "dimension": ["ethnic_group", "ethnic_group", "sex"],
            "group": ["01", "11", "M"],
            "source_pair": ["census-gp", "gp-gp", "census-gp"],
            "true_pairs": [100.0, 5.0, 50.0],
            "precision": [1.0, 0.5, 1.0],
            "recall": [0.99, 1.0, 1.0],
        }
    ).write_parquet(evaluation / "by_group.parquet")


def test_markdown_reports_the_all_pairs_scope_as_percentages(tmp_path):
    _write_evaluation(tmp_path)
    text = run_summary_markdown(
        tmp_path,
        {"generate": {"records": {"census": 1234}}, "analyse": {"main_points": ["Rose."]}},
    )
    assert "| census | 1,234 |" in text
    assert "| census-gp | 99.9000% | 99.7500% | 99.8250% |" in text
    assert text.count("| census-gp |") == 1  # the "linkable" scope is left to the report
    assert "- Rose." in text


def test_tables_keep_census_pairs_of_the_requested_dimension(tmp_path):
    _write_evaluation(tmp_path)
    tables = run_summary_tables(tmp_path)
    assert set(tables) == {"linkage-by-ethnic-group"}
    _, rows = tables["linkage-by-ethnic-group"]
    assert [row["group"] for row in rows] == ["01"]


def test_log_line_keeps_scalars_only():
    line = stage_log_line("link", {"records": 10, "threshold": 0.5, "key": "x", "by": {"a": 1}})
    assert line == "Stage link finished: records=10, threshold=0.500"


def test_log_line_names_the_page_a_stage_wrote_not_its_full_path():
    line = stage_log_line("report", {"report": "/data/outputs/.partial/run-1/report/index.html"})
    assert line == "Stage report finished: wrote report/index.html"
