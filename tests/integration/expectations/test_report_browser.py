import pytest

from expectations import ValidationFailed, validate_linkage, validate_published, validate_sources
from expectations.config import ExpectationsConfig
from reporting import remote_references
from tests.unit.expectations import tiny_world as w


@pytest.mark.browser
def test_index_page_shows_suites_and_results_in_headless_chromium(tmp_path, chromium):
    run = w.write_run(tmp_path / "run")
    config = ExpectationsConfig(min_group_records=1)
    out = run / "validation"
    # One failing critical check so the page shows a failure beside the passing suites.
    w.census().head(5).write_parquet(run / "sources" / "census.parquet")
    with pytest.raises(ValidationFailed):
        validate_sources(run / "sources", out, config, people=w.PEOPLE)
    with pytest.raises(ValidationFailed):
        validate_linkage(run / "linkage", run / "sources", out, config)
    validate_published(run / "analysis", out, config)
    index = out / "index.html"
    assert remote_references(index.read_text(encoding="utf-8")) == []
    dom = chromium.dom(index.as_uri())
    for suite in [*w.SOURCES, "linkage", "published.rates"]:
        assert f'href="{suite}.html"' in dom
    assert 'class="badge fail"' in dom and 'class="badge pass"' in dom
    assert "critical failures" in dom
    census = chromium.dom((out / "census.html").as_uri())
    assert 'data-check="census_row_count" data-status="fail"' in census
    assert 'data-check="census_person_id_unique" data-status="pass"' in census
