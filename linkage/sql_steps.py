"""The linkage steps that grow with the records, defined once in SQL for either engine.

Each step is DuckDB SQL run by a :class:`linkage.sql_engine.SqlEngine`: on DuckDB as it is,
on Spark translated to Spark SQL. One definition, so the two backends cannot drift; the
unit tests run every step on both engines against results worked out by hand.

The engine must hold a view ``records`` of every record (``records.parquet``) and a view
``linkable_records`` of the linkable ones (see :mod:`linkage.backends`). The steps make:

- ``exact_links``: the deterministic pass (:func:`make_deterministic_links`);
- ``representative_records``: the linkable records it left for Splink
  (:func:`make_representatives`);
- the population term-frequency tables (:func:`frequency_tables`);
- ``predictions.parquet``: Splink's scored pairs and the exact links
  (:func:`write_predictions`), rescored with household evidence
  (:func:`add_household_evidence`);
- the model-expected figures behind the threshold choice (:func:`threshold_sums`).

Steps for the inputs need a whole column, which the driver never holds: the record ids of
an input (:func:`record_id_problems`), the postcodes of its address history as one list per
input row (:func:`make_history_lists`, then :func:`write_history_lists` on DuckDB or
:func:`with_history_lists` on Spark) and the values missing after standardising
(:func:`missing_by_source`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from linkage import model
from linkage.household import ANCHOR_PROBABILITY, HouseholdWeights, weights_from_sums
from linkage.prediction import DETERMINISTIC_MATCH_KEY
from linkage.repairs import EXAMPLE_ROWS
from linkage.sql_engine import SqlEngine

logger = logging.getLogger(__name__)


def deterministic_links_sql(source: str = "linkable_records") -> str:
    """The deterministic pass: records that agree exactly on every key of
    :data:`linkage.model.DETERMINISTIC_KEYS` are joined.

    A group is joined only if its records do not disagree on sex, hold at most one record
    of each one-per-person source (so two census records are never joined) and carry at
    most one person number per source. Each joined group is represented in the
    probabilistic stage by one record (its one-per-person record if any, otherwise its
    lowest id); the others are linked to that representative with probability 1 and left
    out of Splink's input. Rows: ``unique_id_l`` (the representative), ``unique_id_r``,
    ``match_probability``; each joined record is a ``unique_id_r`` once.
    """
    keys = list(model.DETERMINISTIC_KEYS)
    key_list = ", ".join(keys)
    complete = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    on = " AND ".join(f"c.{k} = g.{k}" for k in keys)
    partition = ", ".join(f"c.{k}" for k in keys)
    order = "c.unique_people DESC, c.unique_id"
    return f"""
    WITH complete AS (
      SELECT {key_list}, unique_id, unique_people, source, sex, person_number
      FROM {source} WHERE {complete}
    ),
    joinable AS (
      SELECT {key_list} FROM complete GROUP BY {key_list}
      HAVING COUNT(*) > 1
        AND COUNT(DISTINCT sex) <= 1
        AND SUM(CASE WHEN unique_people THEN 1 ELSE 0 END)
            = COUNT(DISTINCT CASE WHEN unique_people THEN source END)
        AND COUNT(DISTINCT CASE WHEN person_number IS NOT NULL
                                THEN CONCAT(source, '|', person_number) END)
            = COUNT(DISTINCT CASE WHEN person_number IS NOT NULL THEN source END)
    ),
    ranked AS (
      SELECT c.unique_id,
             FIRST_VALUE(c.unique_id) OVER (PARTITION BY {partition} ORDER BY {order})
               AS representative
      FROM complete AS c JOIN joinable AS g ON {on}
    )
    SELECT representative AS unique_id_l, unique_id AS unique_id_r,
           CAST(1.0 AS DOUBLE) AS match_probability
    FROM ranked WHERE unique_id <> representative
    """


def make_deterministic_links(engine: SqlEngine, *, enabled: bool = True) -> int:
    """Make the table ``exact_links`` (none when the pass is switched off); return its
    size."""
    sql = deterministic_links_sql()
    if not enabled:
        sql += " LIMIT 0"
    engine.table("exact_links", sql)
    return int(engine.rows("SELECT COUNT(*) FROM exact_links")[0][0])


def make_representatives(engine: SqlEngine) -> int:
    """Make the table ``representative_records``: the linkable records the deterministic
    pass did not join to a representative (what Splink scores). Returns its size.

    A table, not a view: Splink reads its input once per blocking rule and chunk, and
    repeating the anti-join each time doubled the prediction's time at 5M people.
    """
    engine.table(
        "representative_records",
        "SELECT r.* FROM linkable_records AS r WHERE NOT EXISTS "
        "(SELECT 1 FROM exact_links AS e WHERE e.unique_id_r = r.unique_id)",
    )
    return int(engine.rows("SELECT COUNT(*) FROM representative_records")[0][0])


def frequency_table_sql(column: str, source: str = "linkable_records") -> str:
    """Relative frequency of each value of ``column`` among distinct people.

    Records are first reduced to one per apparent person (distinct forename, surname and
    date of birth), so a name is as common as the people who hold it, whichever source
    or however many duplicate records they appear in. Columns ``column`` and
    ``tf_<column>``, frequencies summing to one, in the order of the values.
    """
    person = ["forename", "surname", "date_of_birth"]
    counted = ", ".join([*person, *([column] if column not in person else [])])
    return f"""
    WITH people AS (SELECT DISTINCT {counted} FROM {source}),
    counts AS (
      SELECT {column}, COUNT(*) AS n FROM people WHERE {column} IS NOT NULL GROUP BY {column}
    )
    SELECT {column}, CAST(n AS DOUBLE) / SUM(n) OVER () AS tf_{column}
    FROM counts ORDER BY {column}
    """


def frequency_tables(
    engine: SqlEngine, source: str = "linkable_records"
) -> dict[str, pl.DataFrame]:
    """The population frequency table of every term-frequency column (one row per distinct
    value: small beside the records, so they come to the driver to be saved and registered
    with each linker)."""
    present = set(engine.columns(source))
    return {
        column: engine.frame(frequency_table_sql(column, source))
        for column in model.TF_COLUMNS
        if column in present
    }


def write_predictions(
    engine: SqlEngine, scored: str, weight_columns: Sequence[str], path: Path
) -> None:
    """Write Splink's scored pairs (the table or view ``scored``) and ``exact_links`` to
    one Parquet file, joined to ``records`` for each end's source and record id, in
    ``unique_id_l``, ``unique_id_r`` order."""
    weights = "".join(f", p.{w}" for w in weight_columns)
    nulls = "".join(f", CAST(NULL AS DOUBLE) AS {w}" for w in weight_columns)
    carried = "".join(f", p.{w}" for w in weight_columns)
    engine.write_parquet(
        f"""
        WITH pairs AS (
          SELECT p.unique_id_l, p.unique_id_r, p.match_weight, p.match_probability,
                 CAST(p.match_key AS VARCHAR) AS match_key{weights}
          FROM {scored} AS p
          UNION ALL
          SELECT unique_id_l, unique_id_r, CAST('Infinity' AS DOUBLE) AS match_weight,
                 match_probability, '{DETERMINISTIC_MATCH_KEY}' AS match_key{nulls}
          FROM exact_links
        )
        SELECT p.unique_id_l, p.unique_id_r, l.source AS source_l, l.record_id AS record_id_l,
               r.source AS source_r, r.record_id AS record_id_r, p.match_weight,
               p.match_probability, p.match_key{carried}
        FROM pairs AS p
        JOIN records AS l ON l.unique_id = p.unique_id_l
        JOIN records AS r ON r.unique_id = p.unique_id_r
        ORDER BY p.unique_id_l, p.unique_id_r
        """,
        path,
    )


def _household_views(engine: SqlEngine) -> None:
    """The views behind household agreement (see :mod:`linkage.household` for the idea):

    - ``household_pairs``: scored pairs across sources with a household record on one side,
      that side the ``member`` of ``household``, the other the ``candidate`` with its
      ``source`` and ``postcode``;
    - ``household_anchored``: those sure enough (deterministic links included) to tell
      where each member's records are now;
    - ``household_agreement``: per probabilistic pair, ``household_agrees`` (null when
      there is no information).
    """
    member_side = "l.household IS NOT NULL"

    def side(left: str, right: str, name: str) -> str:
        return f"CASE WHEN {member_side} THEN {left} ELSE {right} END AS {name}"

    engine.table(
        "household_pairs",
        f"""
        SELECT p.unique_id_l, p.unique_id_r, p.match_probability, p.match_key,
               {side("p.unique_id_l", "p.unique_id_r", "member")},
               {side("l.household", "r.household", "household")},
               {side("p.unique_id_r", "p.unique_id_l", "candidate")},
               {side("r.source", "l.source", "source")},
               {side("r.postcode", "l.postcode", "postcode")}
        FROM scored_pairs AS p
        JOIN records AS l ON l.unique_id = p.unique_id_l
        JOIN records AS r ON r.unique_id = p.unique_id_r
        WHERE l.source <> r.source AND (l.household IS NOT NULL OR r.household IS NOT NULL)
        """,
    )
    engine.view(
        "household_anchored",
        f"SELECT * FROM household_pairs WHERE match_probability >= {ANCHOR_PROBABILITY}",
    )
    # A candidate already surely linked to another household member (a relative's own
    # registration) says nothing about this member: clustering will refuse the pair
    # anyway, and counting it would teach u that non-matches share the household's address.
    engine.table(
        "household_agreement",
        f"""
        WITH scored AS (
          SELECT * FROM household_pairs WHERE match_key <> '{DETERMINISTIC_MATCH_KEY}'
        ),
        whereabouts AS (
          SELECT DISTINCT household, member, source, postcode
          FROM household_anchored WHERE postcode IS NOT NULL
        ),
        holders AS (SELECT DISTINCT candidate, member AS holder FROM household_anchored),
        taken AS (
          SELECT DISTINCT s.unique_id_l, s.unique_id_r
          FROM scored AS s JOIN holders AS h ON h.candidate = s.candidate
          WHERE h.holder <> s.member
        ),
        others AS (
          SELECT s.unique_id_l, s.unique_id_r,
                 MAX(CASE WHEN w.postcode = s.postcode THEN 1 ELSE 0 END) = 1 AS agrees
          FROM scored AS s
          JOIN whereabouts AS w ON w.household = s.household AND w.source = s.source
          WHERE w.member <> s.member
          GROUP BY s.unique_id_l, s.unique_id_r
        )
        SELECT s.unique_id_l, s.unique_id_r, s.match_probability,
               CASE WHEN s.postcode IS NOT NULL AND t.unique_id_l IS NULL THEN o.agrees END
                 AS household_agrees
        FROM scored AS s
        LEFT JOIN others AS o ON o.unique_id_l = s.unique_id_l AND o.unique_id_r = s.unique_id_r
        LEFT JOIN taken AS t ON t.unique_id_l = s.unique_id_l AND t.unique_id_r = s.unique_id_r
        """,
    )


def exact_sum(expression: str) -> str:
    """SQL summing ``expression`` (a probability) exactly, as a DOUBLE.

    A sum of doubles depends on the order it is taken in, and both engines sum in parallel
    in whatever order their threads finish: the same run could give weights, and so
    probabilities, that differ in the last bits. A sum of decimals (15 places, well inside
    the precision of a probability) is exact, so the result does not depend on the order.
    """
    return f"CAST(SUM(CAST({expression} AS DECIMAL(38, 15))) AS DOUBLE)"


def household_weights(engine: SqlEngine) -> HouseholdWeights | None:
    """One EM step for the household comparison from the sums over ``household_agreement``
    (:func:`linkage.household.weights_from_sums`); None when no pair carries information."""
    agree_p, p, agree_q, q, pairs = engine.rows(
        f"""
        SELECT {exact_sum("CASE WHEN household_agrees THEN match_probability ELSE 0 END")},
               {exact_sum("match_probability")},
               {exact_sum("CASE WHEN household_agrees THEN 1 - match_probability ELSE 0 END")},
               {exact_sum("1 - match_probability")},
               COUNT(*)
        FROM household_agreement WHERE household_agrees IS NOT NULL
        """
    )[0]
    if not pairs:
        return None
    return weights_from_sums(agree_p, p, agree_q, q, int(pairs))


def _rescored_sql(columns: list[str], weights: HouseholdWeights) -> str:
    """The scored pairs with ``mw_household`` added to their weight and probability."""
    exact = f"p.match_key = '{DETERMINISTIC_MATCH_KEY}'"
    household = (
        f"CASE WHEN a.household_agrees THEN {weights.agree_weight!r} "
        f"WHEN NOT a.household_agrees THEN {weights.disagree_weight!r} "
        f"WHEN {exact} THEN CAST(NULL AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END"
    )
    weight = f"CASE WHEN {exact} THEN p.match_weight ELSE p.match_weight + {household} END"
    probability = (
        f"CASE WHEN {exact} THEN p.match_probability ELSE 1 / (1 + POWER(2.0, -({weight}))) END"
    )
    replaced = {"match_weight": weight, "match_probability": probability}
    select = ", ".join(f"{replaced.get(c, 'p.' + c)} AS {c}" for c in columns)
    return f"""
    SELECT {select}, {household} AS mw_household
    FROM scored_pairs AS p
    LEFT JOIN household_agreement AS a
      ON a.unique_id_l = p.unique_id_l AND a.unique_id_r = p.unique_id_r
    ORDER BY p.unique_id_l, p.unique_id_r
    """


def add_household_evidence(engine: SqlEngine, predictions: Path) -> dict[str, Any] | None:
    """Rescore ``predictions.parquet`` with the household comparison, in place.

    Returns the estimated weights for the run summary, or None (the file untouched) when
    no pair carries household information.
    """
    engine.parquet_view("scored_pairs", predictions)
    _household_views(engine)
    weights = household_weights(engine)
    if weights is None:
        logger.info("No household information: predictions left as Splink scored them")
        return None
    rescored = predictions.with_name("predictions_household.parquet")
    engine.write_parquet(_rescored_sql(engine.columns("scored_pairs"), weights), rescored)
    rescored.replace(predictions)
    return weights.as_dict()


def threshold_sums_sql(thresholds: Sequence[float], links: str = "candidate_links") -> str:
    """Per threshold, the sums the model-expected figures come from (see
    :func:`linkage.prediction.expected_metrics`): over ``links`` (``match_probability`` and
    ``accepted`` at a floor no higher than any threshold), the accepted links at or above
    it and the sum of their probabilities, the refused ones at or above it, and the sum of
    every accepted link's probability."""
    values = " UNION ALL ".join(f"SELECT CAST({t!r} AS DOUBLE) AS threshold" for t in thresholds)
    kept = (
        "CASE WHEN l.accepted AND l.match_probability >= t.threshold "
        "THEN l.match_probability ELSE 0 END"
    )
    accepted = "CASE WHEN l.accepted THEN l.match_probability ELSE 0 END"
    return f"""
    WITH thresholds AS ({values})
    SELECT t.threshold,
           SUM(CASE WHEN l.accepted AND l.match_probability >= t.threshold THEN 1 ELSE 0 END)
             AS links,
           {exact_sum(kept)} AS expected_true,
           SUM(CASE WHEN NOT l.accepted AND l.match_probability >= t.threshold THEN 1 ELSE 0 END)
             AS refused_links,
           {exact_sum(accepted)} AS accepted_total
    FROM thresholds AS t CROSS JOIN {links} AS l
    GROUP BY t.threshold ORDER BY t.threshold
    """


def threshold_sums(
    engine: SqlEngine, thresholds: Sequence[float], links: str = "candidate_links"
) -> list[dict[str, float]]:
    """:func:`threshold_sums_sql` run on the engine: one small row per threshold (zeros
    where there are no links)."""
    found = {
        float(row[0]): row for row in engine.rows(threshold_sums_sql(sorted(thresholds), links))
    }
    out = []
    for t in sorted(thresholds):
        _, n, true, refused, total = found.get(float(t), (t, 0, 0.0, 0, 0.0))
        out.append(
            {
                "threshold": float(t),
                "links": int(n or 0),
                "expected_true": float(true or 0.0),
                "refused_links": int(refused or 0),
                "accepted_total": float(total or 0.0),
            }
        )
    return out


def quoted(column: str) -> str:
    """A column name of a user's file as an SQL identifier (any characters)."""
    return '"' + column.replace('"', '""') + '"'


def record_id_problems(engine: SqlEngine, table: str, column: str) -> tuple[int, int, list[int]]:
    """An input's missing record ids, its rows whose id another row shares, and the first of
    those rows (0-based, at most :data:`EXAMPLE_ROWS`), from a view ``table`` made with
    ``row_numbers``. Ids are compared as text, as the spine holds them."""
    engine.view(
        "input_ids", f"SELECT CAST({quoted(column)} AS VARCHAR) AS id, file_row FROM {table}"
    )
    engine.view(
        "repeated_ids",
        """
        SELECT id, COUNT(*) AS rows_sharing, MIN(file_row) AS first_row
        FROM input_ids WHERE id IS NOT NULL GROUP BY id HAVING COUNT(*) > 1
        """,
    )
    missing, sharing = engine.rows(
        """
        SELECT
            (SELECT COUNT(*) FROM input_ids WHERE id IS NULL),
            (SELECT COALESCE(SUM(rows_sharing), 0) FROM repeated_ids)
        """
    )[0]
    if not sharing:
        return int(missing), 0, []
    # The first rows of repeated ids belong to the ids that first appear earliest.
    first = engine.rows(
        f"""
        SELECT i.file_row FROM input_ids AS i
        JOIN (SELECT id FROM repeated_ids ORDER BY first_row LIMIT {EXAMPLE_ROWS}) AS r
            ON i.id = r.id
        ORDER BY i.file_row LIMIT {EXAMPLE_ROWS}
        """
    )
    return int(missing), int(sharing), [int(row[0]) for row in first]


def make_history_lists(
    engine: SqlEngine, *, history: str, history_id: str, postcode: str, moved_out: str | None
) -> None:
    """Make the view ``history_lists``: each record id of the address history ``history``
    (a view made with ``row_numbers``) with its postcodes as a list, newest first (by
    ``moved_out``, latest first and undated first, then the history file's later rows
    first). Ids are text, as the spine holds them."""
    moved = quoted(moved_out) if moved_out else "CAST(NULL AS DATE)"
    # Sorting whole entries (one definition for both engines: DuckDB's ordered aggregate
    # has no Spark twin); undated entries sort first, as the newest.
    engine.view(
        "history_lists",
        f"""
        SELECT history_id, list_transform(list_sort(list(struct_pack(
                undated := moved_out IS NULL, moved_out := moved_out, file_row := file_row,
                postcode := postcode)), 'DESC'), lambda entry: entry.postcode)
            AS previous_postcodes
        FROM (
            SELECT CAST({quoted(history_id)} AS VARCHAR) AS history_id, {moved} AS moved_out,
                file_row, CAST({quoted(postcode)} AS VARCHAR) AS postcode
            FROM {history} WHERE {quoted(postcode)} IS NOT NULL
        ) AS entries
        GROUP BY history_id
        """,
    )


def _history_join(table: str, record_id: str) -> str:
    return (
        f"FROM {table} AS r LEFT JOIN history_lists AS h "
        f"ON CAST(r.{quoted(record_id)} AS VARCHAR) = h.history_id"
    )


def write_history_lists(engine: SqlEngine, table: str, record_id: str, path: Path) -> None:
    """Write ``file_row`` and ``previous_postcodes`` (from ``history_lists``; null for a
    record with no previous address) for each row of the input ``table``, in its order."""
    engine.write_parquet(
        f"SELECT r.file_row, h.previous_postcodes {_history_join(table, record_id)} "
        "ORDER BY r.file_row",
        path,
    )


def with_history_lists(
    engine: SqlEngine, table: str, record_id: str, columns: Sequence[str], name: str
) -> None:
    """Make ``name`` a view of the input ``table``'s ``columns`` and ``file_row``, with
    each row's ``previous_postcodes`` from ``history_lists``."""
    kept = ", ".join(f"r.{quoted(column)}" for column in columns)
    engine.view(
        name, f"SELECT {kept}, r.file_row, h.previous_postcodes {_history_join(table, record_id)}"
    )


def missing_by_source(
    engine: SqlEngine, table: str, columns: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Each source's missing values in each of ``columns`` of the record ``table``."""
    if not columns:
        return {}
    counts = ", ".join(f"COUNT(*) - COUNT({quoted(c)})" for c in columns)
    rows = engine.rows(f"SELECT source, {counts} FROM {table} GROUP BY source")
    return {row[0]: dict(zip(columns, map(int, row[1:]), strict=True)) for row in rows}
