"""The report works with no network, draws its charts, and is written safely."""

import html
import json
import re
import shutil

import polars as pl
import pytest

from quality_report import QualityReportError, build_quality_report
from reporting import remote_references

pytestmark = pytest.mark.slow


def test_no_page_refers_to_the_network(report):
    index, parsed = report
    pages = sorted(index.parent.rglob("*.html"))
    names = {p.name for p in pages}
    assert {"index.html", "comparison_viewer.html", "cluster_studio.html"} <= names
    # Splink's diagnostic charts are drawn inline as well as copied and linked.
    document = index.read_text(encoding="utf-8")
    for chart in ("match_weights", "m_u_parameters", "parameter_estimates"):
        assert f'id="splink-{chart}"' in document
        assert f"splink/{chart}.html" in parsed.links
    for page in pages:
        assert remote_references(page.read_text(encoding="utf-8")) == [], page.name
    for link in parsed.links:
        if link.startswith("#"):
            continue
        assert (index.parent / link).is_file(), f"broken link {link}"


@pytest.mark.browser
def test_headless_chromium_draws_every_chart(report, chromium, test_output_dir):
    index, _ = report
    document = index.read_text(encoding="utf-8")
    charts = len(re.findall(r'<div class="chart" id="', document))
    assert charts >= 15
    dom = chromium.dom(index.as_uri(), budget_ms=20_000)
    drawn = re.findall(r'<div class="chart[^"]*" id="([^"]+)"[^>]*>(.*?)</div>', dom, re.DOTALL)
    # vega-embed adds classes to the container and puts an SVG with marks inside it.
    with_marks = [i for i, body in drawn if "<svg" in body and 'class="marks"' in body]
    assert len(with_marks) == charts, set(i for i, _ in drawn) - set(with_marks)
    assert len(re.findall(r"<path", dom)) > 100
    shot = chromium.screenshot(
        index.as_uri(), test_output_dir / "quality_report.png", size="1280,8000"
    )
    assert shot.stat().st_size > 50_000


OVERFLOW_PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var width = document.documentElement.clientWidth, over = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var box = el.getBoundingClientRect();
    // Cells of a table scroll inside the table's own box, which is what is checked.
    if (box.right > width + 1 && !(el.parentElement && el.parentElement.closest(".table-wrap")))
      over.push(el.tagName + "#" + el.id);
  });
  var out = document.createElement("pre"); out.id = "overflow-probe";
  out.textContent = JSON.stringify({width: width,
    scroll: document.documentElement.scrollWidth, over: over.slice(0, 10)});
  document.body.appendChild(out);
}, 3000); });
</script>"""


@pytest.mark.browser
def test_no_horizontal_overflow_at_a_laptop_width(report, chromium, tmp_path):
    index, _ = report
    document = index.read_text(encoding="utf-8")
    # The probe goes before the page's own closing tag (the last one: the inlined Vega code
    # holds "</body>" inside a string).
    cut = document.rindex("</body>")
    probe = tmp_path / "overflow-probe.html"
    probe.write_text(document[:cut] + OVERFLOW_PROBE + document[cut:], encoding="utf-8")
    dom = chromium._run(
        "--window-size=1366,900", "--virtual-time-budget=20000", "--dump-dom", probe.as_uri()
    )
    found = json.loads(html.unescape(re.search(r'id="overflow-probe">(.*?)</pre>', dom).group(1)))
    assert found["over"] == [] and found["scroll"] <= found["width"], found


def test_the_same_run_gives_the_same_report(report, tiny_run, tmp_path):
    index, _ = report
    again = build_quality_report(tiny_run, tmp_path / "again")
    assert again.read_bytes() == index.read_bytes()


def test_a_run_without_linkage_still_builds_and_says_what_is_missing(tiny_run, tmp_path):
    from figures import parse

    run = tmp_path / "run"
    shutil.copytree(tiny_run / "sources", run / "sources")
    shutil.copytree(tiny_run / "truth", run / "truth")
    parsed = parse(build_quality_report(run, run / "report").read_text(encoding="utf-8"))
    assert len(parsed.sections) == 18  # the verdict, then one per checklist item
    assert "verdict" in parsed.sections
    assert "linkage/spine.parquet" in parsed.absent
    assert "linkage/model.json" in parsed.absent
    assert "flow/received|gp" in parsed.figures
    assert "identifiers/all/dwp|nino/valid" in parsed.figures


def test_a_spine_breaking_its_contract_is_a_clear_error(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run / "sources", run / "sources")
    (run / "linkage").mkdir()
    pl.read_parquet(tiny_run / "linkage/spine.parquet").drop("person_id").write_parquet(
        run / "linkage/spine.parquet"
    )
    with pytest.raises(QualityReportError, match=r"spine\.parquet.*person_id"):
        build_quality_report(run, run / "report")
    assert not (run / "report").exists()
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []


def test_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(QualityReportError, match="not a run folder"):
        build_quality_report(tmp_path, tmp_path / "report")


def test_a_run_evaluated_before_the_world_table_says_it_is_absent(tiny_run, tmp_path):
    from quality_report.artefacts import RunArtefacts
    from quality_report.context import ReportContext
    from quality_report.sections_quality import groups_section

    run = tmp_path / "run"
    shutil.copytree(
        tiny_run / "linkage/evaluation",
        run / "linkage/evaluation",
        ignore=shutil.ignore_patterns("world_shares.parquet"),
    )
    shutil.copy(tiny_run / "config.yaml", run / "config.yaml")
    section = groups_section(ReportContext(RunArtefacts.open(run)))
    assert section.absent == ["linkage/evaluation/world_shares.parquet"]
    rendered = section.render()
    assert 'data-absent="linkage/evaluation/world_shares.parquet"' in rendered
    assert 'data-key="rates/sex/gp|Male/linked"' in rendered  # the rest of the section stays
    assert "The synthetic world against" not in rendered
