"""Prediction blocking rules: their cost shape and the pairs they find, on tiny tables."""

import re

import duckdb
import polars as pl

from linkage import model


def test_no_blocking_rule_puts_an_or_in_its_join_condition():
    # DuckDB hash-joins on a rule's equalities and tests the rest on every joined pair;
    # an OR (such as "either birth date missing") cannot filter either side first, so the
    # rule costs the square of the people sharing its equalities.
    for rule in model.BLOCKING_RULES:
        assert not re.search(r"\bOR\b", rule, flags=re.IGNORECASE), rule


def _pairs(records: pl.DataFrame, rules: list[str]) -> set[tuple[int, int]]:
    con = duckdb.connect()
    con.register("recs", records.to_arrow())
    union = " UNION ".join(
        f"SELECT l.unique_id AS a, r.unique_id AS b FROM recs l JOIN recs r ON {rule} "
        "WHERE l.unique_id < r.unique_id"
        for rule in rules
    )
    found = {tuple(row) for row in con.execute(union).fetchall()}
    con.close()
    return found


def test_missing_birth_date_rules_find_same_names_with_either_birth_date_missing():
    records = pl.DataFrame(
        {
            "unique_id": [1, 2, 3, 4, 5],
            "forename": ["ANNA", "ANNA", "ANNA", "ANNA", "BEN"],
            "surname": ["LEE", "LEE", "LEE", "LEE", "LEE"],
            "date_of_birth": ["1980-01-01", None, "1990-05-05", None, None],
        }
    )
    rules = [rule for rule in model.BLOCKING_RULES if "IS NULL" in rule]
    assert len(rules) == 2
    # ANNA LEE: 1-2, 1-4, 2-3, 2-4, 3-4 have a missing birth date on some side; 1-3 has
    # both present; BEN has no namesake.
    assert _pairs(records, rules) == {(1, 2), (1, 4), (2, 3), (2, 4), (3, 4)}
