"""Each shared SQL step of the linkage on both engines, against results worked out by hand.

Every test runs on DuckDB and on a real local Spark (``sql_engine`` is parametrised): the
same definition (:mod:`linkage.sql_steps`), so both must give the hand-worked answer.
"""

import math

import polars as pl
import pytest

from linkage.prediction import PREDICTION_COLUMNS
from linkage.sql_steps import (
    add_household_evidence,
    frequency_tables,
    make_deterministic_links,
    make_history_lists,
    make_representatives,
    missing_by_source,
    record_id_problems,
    threshold_sums,
    with_history_lists,
    write_history_lists,
    write_predictions,
)

PERSON = {
    "forename": "ANN",
    "surname": "LEE",
    "date_of_birth": 1,
    "postcode": "M1 1AE",
    "sex": "F",
    "person_number": None,
    "linkable": True,
}


def _records(rows):
    """A record table with every column the steps read (missing values as nulls)."""
    return pl.DataFrame(
        [{**PERSON, "record_id": f"r{row['unique_id']}", **row} for row in rows],
        schema_overrides={"person_number": pl.Utf8, "postcode": pl.Utf8, "sex": pl.Utf8},
    )


def _load(engine, records):
    engine.register_frame("records", records)
    engine.view("linkable_records", "SELECT * FROM records WHERE linkable")


def _exact_links(engine, records):
    _load(engine, records)
    make_deterministic_links(engine)
    pairs = engine.rows("SELECT unique_id_l, unique_id_r, match_probability FROM exact_links")
    return sorted(pairs)


def test_exact_groups_join_but_never_two_census_records(sql_engine):
    rows = [
        {"unique_id": 0, "source": "census", "unique_people": True},
        {"unique_id": 1, "source": "gp", "unique_people": False},
        {"unique_id": 2, "source": "dwp", "unique_people": False},
        {"unique_id": 3, "source": "census", "unique_people": True, "surname": "KAY"},
        {"unique_id": 4, "source": "census", "unique_people": True, "surname": "KAY"},
        {"unique_id": 5, "source": "gp", "unique_people": False, "postcode": None},
        # Unlinkable (a wholly imputed census record): takes no part, however exact.
        {"unique_id": 6, "source": "gp", "unique_people": False, "linkable": False},
    ]
    # By hand: 0-2 agree on every key, the census record 0 represents them; 3 and 4 are two
    # census records (refused); 5 lacks a postcode. Splink is left 0, 3, 4 and 5.
    assert _exact_links(sql_engine, _records(rows)) == [(0, 1, 1.0), (0, 2, 1.0)]
    assert make_representatives(sql_engine) == 4
    left = sql_engine.rows("SELECT unique_id FROM representative_records ORDER BY unique_id")
    assert [row[0] for row in left] == [0, 3, 4, 5]


def test_groups_with_two_numbers_of_one_source_or_two_sexes_are_refused(sql_engine):
    rows = [
        # Group A: two GP numbers: refused. The DWP pair shares its number: joined.
        {"unique_id": 0, "source": "gp", "unique_people": False, "person_number": "A"},
        {"unique_id": 1, "source": "gp", "unique_people": False, "person_number": "B"},
        {"unique_id": 2, "source": "dwp", "unique_people": False, "person_number": "N"},
        {"unique_id": 3, "source": "dwp", "unique_people": False, "person_number": "N"},
        # Group B: one GP number and a GP record without: joined, lowest id represents.
        {"unique_id": 4, "source": "gp", "unique_people": False, "surname": "ROE"},
        {
            "unique_id": 5,
            "source": "gp",
            "unique_people": False,
            "surname": "ROE",
            "person_number": "C",
        },
        # Group C: sexes disagree: refused. Group D: a missing sex does not disagree.
        {"unique_id": 6, "source": "gp", "unique_people": False, "surname": "FOX"},
        {"unique_id": 7, "source": "dwp", "unique_people": False, "surname": "FOX", "sex": "M"},
        {"unique_id": 8, "source": "gp", "unique_people": False, "surname": "OAK"},
        {"unique_id": 9, "source": "dwp", "unique_people": False, "surname": "OAK", "sex": None},
    ]
    frame = _records(rows).with_columns(
        pl.when(pl.col("unique_id").is_in([2, 3]))
        .then(pl.lit("KAY"))
        .otherwise(pl.col("surname"))
        .alias("surname")
    )
    assert _exact_links(sql_engine, frame) == [(2, 3, 1.0), (4, 5, 1.0), (8, 9, 1.0)]


def test_the_pass_switched_off_makes_no_links(sql_engine):
    rows = [
        {"unique_id": 0, "source": "census", "unique_people": True},
        {"unique_id": 1, "source": "gp", "unique_people": False},
    ]
    _load(sql_engine, _records(rows))
    assert make_deterministic_links(sql_engine, enabled=False) == 0
    assert make_representatives(sql_engine) == 2


def test_term_frequencies_count_people_not_records(sql_engine):
    # ANN LEE (born 1) twice (census and GP: one person), BOB LEE, ANN KAY: three people.
    rows = [
        {"unique_id": 0, "source": "census", "unique_people": True},
        {"unique_id": 1, "source": "gp", "unique_people": False},
        {
            "unique_id": 2,
            "source": "gp",
            "unique_people": False,
            "forename": "BOB",
            "date_of_birth": 2,
        },
        {
            "unique_id": 3,
            "source": "gp",
            "unique_people": False,
            "surname": "KAY",
            "date_of_birth": 3,
        },
        {
            "unique_id": 4,
            "source": "gp",
            "unique_people": False,
            "surname": None,
            "date_of_birth": 4,
        },
    ]
    _load(sql_engine, _records(rows))
    tables = frequency_tables(sql_engine)
    assert tables["forename"].rows() == [("ANN", pytest.approx(3 / 4)), ("BOB", 1 / 4)]
    # The person without a surname is not counted among surnames.
    assert tables["surname"].rows() == [("KAY", pytest.approx(1 / 3)), ("LEE", 2 / 3)]
    assert "locality" not in tables  # a column the records lack has no table


def test_predictions_join_both_ends_and_add_the_exact_links(sql_engine, tmp_path):
    rows = [
        {"unique_id": 0, "source": "census", "unique_people": True},
        {"unique_id": 1, "source": "gp", "unique_people": False},
        {"unique_id": 2, "source": "dwp", "unique_people": False},
        {"unique_id": 3, "source": "gp", "unique_people": False, "surname": "KAY"},
    ]
    _load(sql_engine, _records(rows))
    make_deterministic_links(sql_engine)
    sql_engine.register_frame(
        "scored",
        pl.DataFrame(
            {
                "unique_id_l": [3, 0],
                "unique_id_r": [0, 3],
                "match_weight": [2.0, -1.0],
                "match_probability": [0.8, 1 / 3],
                "match_key": ["1", "0"],
                "mw_surname": [-3.0, -3.0],
            }
        ),
    )
    path = tmp_path / "predictions.parquet"
    write_predictions(sql_engine, "scored", ["mw_surname"], path)
    out = pl.read_parquet(path)
    assert out.columns[:9] == list(PREDICTION_COLUMNS)  # the artefact's contract
    assert out.select("unique_id_l", "unique_id_r", "record_id_r", "match_key").rows() == [
        (0, 1, "r1", "exact"),
        (0, 2, "r2", "exact"),
        (0, 3, "r3", "0"),
        (3, 0, "r0", "1"),
    ]
    exact = out.filter(pl.col("match_key") == "exact")
    assert exact.get_column("match_weight").to_list() == [math.inf, math.inf]
    assert exact.get_column("mw_surname").null_count() == 2


# Household evidence. Census household H: c0, c1, c2 (ids 0-2) and c3 living alone (id 3,
# household K). GP: g0, g1 at P1 (ids 4, 5), candidates for c2 at P1 and P2 (ids 6, 7), a
# candidate for c3 at P1 (id 8) and one without a postcode (id 9).
HOUSEHOLD = pl.DataFrame(
    {
        "unique_id": list(range(10)),
        "source": ["census"] * 4 + ["gp"] * 6,
        "record_id": [f"r{i}" for i in range(10)],
        "postcode": [None] * 4 + ["P1", "P1", "P1", "P2", "P1", None],
        "household": ["census:H"] * 3 + ["census:K"] + [None] * 6,
    }
)

EDGES = [
    (0, 4, 0.99),
    (1, 5, 0.99),
    (2, 6, 0.3),
    (2, 7, 0.3),
    (3, 8, 0.3),
    (2, 9, 0.3),
    (2, 4, 0.3),  # c0's own registration, a candidate for its relative c2
]


def _scored_pairs(tmp_path, edges=EDGES):
    frame = pl.DataFrame(
        edges, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )
    p = pl.col("match_probability")
    frame = frame.with_columns(
        (p / (1 - p)).log(2).alias("match_weight"),
        pl.lit("1").alias("match_key"),
        pl.lit(-1.0).alias("mw_surname"),
    )
    path = tmp_path / "predictions.parquet"
    frame.write_parquet(path)
    return path


def _rescored(engine, tmp_path, records=HOUSEHOLD):
    engine.register_frame("records", records)
    path = _scored_pairs(tmp_path)
    weights = add_household_evidence(engine, path)
    agreement = engine.rows(
        "SELECT unique_id_l, unique_id_r, household_agrees FROM household_agreement"
    )
    return weights, {(a, b): agrees for a, b, agrees in agreement}, pl.read_parquet(path)


def test_household_agreement_uses_the_other_members_linked_postcodes(sql_engine, tmp_path):
    _, found, _ = _rescored(sql_engine, tmp_path)
    assert found[(2, 6)] is True  # c2's household members are linked at P1
    assert found[(2, 7)] is False  # P2: the household is elsewhere
    assert found[(0, 4)] is True  # c1 is at P1 too
    assert found[(3, 8)] is None  # nobody else in c3's household
    assert found[(2, 9)] is None  # no postcode to compare
    assert found[(2, 4)] is None  # already c0's: a relative's record says nothing


def test_one_em_step_weights_household_agreement_by_match_probability(sql_engine, tmp_path):
    weights, _, _ = _rescored(sql_engine, tmp_path)
    # Informed pairs: (0,4) .99 T, (1,5) .99 T, (2,6) .3 T, (2,7) .3 F.
    assert weights["m"] == pytest.approx((0.99 + 0.99 + 0.3) / (0.99 + 0.99 + 0.3 + 0.3))
    assert weights["u"] == pytest.approx((0.01 + 0.01 + 0.7) / (0.01 + 0.01 + 0.7 + 0.7))
    assert weights["pairs_with_information"] == 4


def test_rescoring_adds_the_household_bayes_factor_to_the_weight(sql_engine, tmp_path):
    weights, _, out = _rescored(sql_engine, tmp_path)
    m, u = weights["m"], weights["u"]
    assert out.columns[-2:] == ["mw_surname", "mw_household"]  # Splink's columns kept
    row = out.filter((pl.col("unique_id_l") == 2) & (pl.col("unique_id_r") == 6)).row(0, named=True)
    expected = math.log2(0.3 / 0.7) + math.log2(m / u)
    assert row["match_weight"] == pytest.approx(expected)
    assert row["match_probability"] == pytest.approx(2**expected / (1 + 2**expected))
    against = out.filter(pl.col("unique_id_r") == 7).row(0, named=True)
    assert against["mw_household"] == pytest.approx(math.log2((1 - m) / (1 - u)))
    assert against["match_probability"] < 0.3
    untouched = out.filter(pl.col("unique_id_r") == 8).row(0, named=True)
    assert untouched["mw_household"] == 0.0 and untouched["match_probability"] == pytest.approx(0.3)
    assert out.select("unique_id_l", "unique_id_r").rows() == sorted((a, b) for a, b, _ in EDGES)


def test_no_households_leaves_the_predictions_untouched(sql_engine, tmp_path):
    records = HOUSEHOLD.with_columns(pl.lit(None, dtype=pl.Utf8).alias("household"))
    sql_engine.register_frame("records", records)
    path = _scored_pairs(tmp_path)
    before = path.read_bytes()
    assert add_household_evidence(sql_engine, path) is None
    assert path.read_bytes() == before


def test_threshold_sums_by_hand(sql_engine):
    # Accepted: eight certain links, 0.8 and 0.5; refused: 0.55 and 0.2. By hand at 0.3:
    # 10 accepted links summing to 9.3, one refused (0.55); at 0.6: 9 links, 8.8, none
    # refused; at 0.9: 8 links, 8.0. Every accepted link sums to 9.3.
    probabilities = [1.0] * 8 + [0.8, 0.5, 0.55, 0.2]
    sql_engine.register_frame(
        "candidate_links",
        pl.DataFrame({"match_probability": probabilities, "accepted": [True] * 10 + [False] * 2}),
    )
    rows = threshold_sums(sql_engine, [0.9, 0.3, 0.6])
    assert [r["threshold"] for r in rows] == [0.3, 0.6, 0.9]
    assert [r["links"] for r in rows] == [10, 9, 8]
    assert [r["refused_links"] for r in rows] == [1, 0, 0]
    assert [r["expected_true"] for r in rows] == pytest.approx([9.3, 8.8, 8.0])
    assert [r["accepted_total"] for r in rows] == pytest.approx([9.3] * 3)


def test_threshold_sums_without_links_are_zero(sql_engine):
    sql_engine.register_frame(
        "candidate_links",
        pl.DataFrame(schema={"match_probability": pl.Float64, "accepted": pl.Boolean}),
    )
    rows = threshold_sums(sql_engine, [0.2, 0.5])
    assert [(r["links"], r["expected_true"], r["accepted_total"]) for r in rows] == [
        (0, 0.0, 0.0),
        (0, 0.0, 0.0),
    ]


def test_record_id_problems_counts_missing_and_repeated_ids_with_their_first_rows(
    sql_engine, tmp_path
):
    # Rows 0-7: "a" at 1 and 5, "b" at 2, 6 and 7, "c" and "3" once, a missing id at 4.
    ids = ["c", "a", "b", "3", None, "a", "b", "b"]
    pl.DataFrame({"rec id": ids}).write_parquet(tmp_path / "input.parquet")
    sql_engine.parquet_view("input_rows", tmp_path / "input.parquet", row_numbers=True)
    missing, sharing, first = record_id_problems(sql_engine, "input_rows", "rec id")
    assert (missing, sharing) == (1, 5)
    assert first == [1, 2, 5, 6, 7]


def test_record_id_problems_finds_none_in_unique_ids(sql_engine, tmp_path):
    pl.DataFrame({"id": [3, 1, 2]}).write_parquet(tmp_path / "input.parquet")
    sql_engine.parquet_view("input_rows", tmp_path / "input.parquet", row_numbers=True)
    assert record_id_problems(sql_engine, "input_rows", "id") == (0, 0, [])


def test_history_lists_follow_the_input_newest_first(sql_engine, tmp_path):
    # Record "a" has three dated entries and one undated (the newest: a current move not
    # yet closed), and one with no postcode (ignored); "b" one entry; "c" none; the
    # history's id 7 matches the input's integer id 7 as text.
    pl.DataFrame({"id": ["b", "a", "c", "7"]}).write_parquet(tmp_path / "input.parquet")
    history = pl.DataFrame(
        {
            "person": ["a", "a", "b", "a", "a", "7", "a"],
            "pc": ["P1", "P2", "B1", None, "P3", "S1", "P4"],
            "left": [
                "2010-01-01",
                None,
                "2001-01-01",
                "2020-01-01",
                "2015-06-30",
                None,
                "2010-01-01",
            ],
        }
    ).with_columns(pl.col("left").str.to_date())
    history.write_parquet(tmp_path / "history.parquet")
    sql_engine.parquet_view("input_rows", tmp_path / "input.parquet", row_numbers=True)
    sql_engine.parquet_view("history_rows", tmp_path / "history.parquet", row_numbers=True)
    out = tmp_path / "lists.parquet"
    make_history_lists(
        sql_engine, history="history_rows", history_id="person", postcode="pc", moved_out="left"
    )
    write_history_lists(sql_engine, "input_rows", "id", out)
    lists = pl.read_parquet(out)
    assert lists.get_column("file_row").to_list() == [0, 1, 2, 3]
    # Undated first, then 2015, then the two of 2010 with the later file row first.
    assert lists.get_column("previous_postcodes").to_list() == [
        ["B1"],
        ["P2", "P3", "P4", "P1"],
        None,
        ["S1"],
    ]


def test_the_history_view_keeps_the_input_columns_beside_the_lists(sql_engine, tmp_path):
    pl.DataFrame({"id": [1, 2], "name": ["Ann", "Bob"]}).write_parquet(tmp_path / "in.parquet")
    pl.DataFrame({"id": [2, 2], "pc": ["B1", "B2"]}).write_parquet(tmp_path / "h.parquet")
    sql_engine.parquet_view("input_rows", tmp_path / "in.parquet", row_numbers=True)
    sql_engine.parquet_view("history_rows", tmp_path / "h.parquet", row_numbers=True)
    make_history_lists(
        sql_engine, history="history_rows", history_id="id", postcode="pc", moved_out=None
    )
    with_history_lists(sql_engine, "input_rows", "id", ["id", "name"], "with_lists")
    rows = sorted(sql_engine.rows("SELECT name, file_row, previous_postcodes FROM with_lists"))
    # Undated entries: the file's later row first.
    assert [(name, row, None if pcs is None else list(pcs)) for name, row, pcs in rows] == [
        ("Ann", 0, None),
        ("Bob", 1, ["B2", "B1"]),
    ]


def test_missing_by_source_counts_nulls_per_source_and_column(sql_engine):
    records = pl.DataFrame(
        {
            "source": ["a", "a", "b", "b", "b"],
            "forename": ["X", None, None, None, "Y"],
            "previous_postcodes": [["P"], None, None, ["Q"], None],
        }
    )
    sql_engine.register_frame("some_records", records)
    found = missing_by_source(sql_engine, "some_records", ["forename", "previous_postcodes"])
    assert found == {
        "a": {"forename": 1, "previous_postcodes": 1},
        "b": {"forename": 2, "previous_postcodes": 2},
    }
