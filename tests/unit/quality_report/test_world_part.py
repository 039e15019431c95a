"""Section 10's world-against-ONS part renders the stage's table: one sentence per ONS
statement with the verdict the table holds, counts and percentages formatted, or absent."""

import html
import re

import polars as pl
import pytest

from evaluation.world import world_comparison, world_shares
from quality_report.document import Section
from quality_report.world_realism import LEVEL_VERDICTS, REST_VERDICTS, WORLD_SHARES, world_part

# (records, sex, age band, ethnic group, region, linked to GP); everyone linked to DWP.
# GP: 750 of 1,000 overall; men 300/500; Pakistani (the only minority) 50/100; London 180/200.
BLOCKS = (
    (100, "Male", "20-29", "Pakistani", "North West", 50),
    (400, "Male", "45-54", "White British", "North West", 250),
    (300, "Female", "45-54", "White British", "North West", 270),
    (200, "Female", "20-29", "White British", "London", 180),
)


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rows = [
        (sex, age, ethnic, region, i < linked)
        for size, sex, age, ethnic, region, linked in BLOCKS
        for i in range(size)
    ]
    outcomes = pl.DataFrame(
        rows, schema=["sex", "age_band", "ethnic_group", "region", "linked_gp"], orient="row"
    ).with_columns(
        pl.int_range(pl.len()).cast(pl.Utf8).alias("person_id"),
        *[
            pl.lit(True).alias(c)
            for c in ("here_at_extract", "adult_at_extract", "in_gp", "in_dwp", "linked_dwp")
        ],
    )
    return world_comparison(world_shares(outcomes))


def _sentence(paragraphs, opening):
    """The text a reader sees of the one paragraph opening with ``opening``."""
    texts = [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in paragraphs]
    (found,) = [t for t in texts if t.startswith(f"{opening}:")]
    return found


def test_one_sentence_per_ons_statement_with_its_verdict(table):
    section = Section("groups", "10", (10,))
    world_part(section, table)
    paragraphs = [p.removeprefix("<p>") for p in "".join(section.body).split("<p>")]
    expected = {
        "All census records, census to GP": LEVEL_VERDICTS["unkinder"],
        "All census records, census to DWP": LEVEL_VERDICTS["kinder"],
        "Men, census to GP": REST_VERDICTS["as unkind"],
        "Ethnic minorities, census to GP": REST_VERDICTS["as unkind"],
        "London residents, census to GP": REST_VERDICTS["kinder"],
        "People aged 20-29, census to GP": REST_VERDICTS["no difference shown"],
        "Ethnic minorities, census to DWP": REST_VERDICTS["no difference shown"],
    }
    for opening, verdict in expected.items():
        assert f"The world is {verdict}." in _sentence(paragraphs, opening)
    overall = _sentence(paragraphs, "All census records, census to GP")
    assert "75.00% (" in overall and "of 1,000 records" in overall
    assert "against ONS's 95.75% (87.11% on the GP extract's scale)" in overall
    men = _sentence(paragraphs, "Men, census to GP")
    assert "60.00%" in men and "of 500 records" in men and "90.00% for everyone else" in men
    assert "a gap of -30.00 points" in men
    floor = _sentence(paragraphs, "Every ethnic group, census to GP")
    assert "72.78% on the GP extract's scale" in floor
    assert "Of 2 groups, 1 lie wholly below it (Pakistani)" in floor
    assert section.absent == []


def test_an_absent_table_is_marked_absent():
    section = Section("groups", "10", (10,))
    world_part(section, None)
    assert section.absent == [WORLD_SHARES]
    assert f'data-absent="{WORLD_SHARES}"' in section.render()
