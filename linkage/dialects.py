"""SQL dialect differences between the linkage backends, in one place.

:mod:`linkage.model` writes the model once, in DuckDB SQL. For Spark every comparison
condition and blocking rule is translated with sqlglot, and the few functions that have no
Spark SQL built-in are mapped to equivalents:

============================  =============================================================
DuckDB                        Spark
============================  =============================================================
``jaro_winkler_similarity``   ``jaro_winkler`` (Splink's Scala UDF jar, registered by Splink)
``hamming(a, b) <= 1``        ``levenshtein(a, b) <= 1``: the same test for strings of equal
                              length (one substitution), which is how the model uses it (the
                              birth date as eight digits); DuckDB's ``hamming`` rejects
                              strings of unequal length anyway
``list_intersect``            ``array_intersect`` (both return the distinct common elements;
                              Splink's ``ArrayIntersectLevel`` writes these two)
============================  =============================================================

The translation is positional: a translated settings dictionary has exactly the structure
of its source, so a model trained on Spark is saved with the source's DuckDB SQL
(:func:`restore_sql`) and ``model.json`` is the same artefact whichever backend trained it.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import sqlglot
from sqlglot import exp

Dialect = Literal["duckdb", "spark"]

_RENAMED_FUNCTIONS: dict[str, str] = {"hamming": "levenshtein", "list_intersect": "array_intersect"}
"""DuckDB functions parsed as anonymous calls, and their Spark names."""


def _to_spark_function(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMED_FUNCTIONS:
        return exp.Anonymous(
            this=_RENAMED_FUNCTIONS[node.name.lower()], expressions=list(node.expressions)
        )
    return node


def translate_sql(sql: str, dialect: Dialect) -> str:
    """Translate one DuckDB SQL condition of the model into ``dialect``.

    Parameters
    ----------
    sql
        A comparison condition or blocking rule as written in :mod:`linkage.model`.
    dialect
        The backend's dialect; ``"duckdb"`` returns ``sql`` unchanged.
    """
    if dialect == "duckdb" or sql.strip().upper() == "ELSE":
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_to_spark_function)
    return tree.sql(dialect="spark")


def translate_settings(settings: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """A copy of a Splink settings (or saved model) dictionary with its SQL in ``dialect``.

    Translates every comparison level's ``sql_condition`` and every prediction blocking
    rule; trained m and u probabilities, term-frequency settings and the prior are kept.
    """
    out = copy.deepcopy(settings)
    if dialect == "duckdb":
        return out
    for comparison in out.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = translate_sql(level["sql_condition"], dialect)
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            rule["blocking_rule"] = translate_sql(rule["blocking_rule"], dialect)
            rule["sql_dialect"] = dialect
    if "sql_dialect" in out:
        out["sql_dialect"] = dialect
    return out


def restore_sql(trained: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """Put the source's SQL back into a model trained from its translation.

    Parameters
    ----------
    trained
        A saved model (``linker.misc.save_model_to_json()``) trained in another dialect.
    source
        The DuckDB settings or model that was translated to train it.

    Raises
    ------
    ValueError
        The two do not have the same comparisons, levels and blocking rules.
    """
    out = copy.deepcopy(trained)
    comparisons = out.get("comparisons", [])
    if len(comparisons) != len(source["comparisons"]):
        raise ValueError("trained model and source settings have different comparisons")
    for comparison, original in zip(comparisons, source["comparisons"], strict=True):
        levels, originals = comparison["comparison_levels"], original["comparison_levels"]
        if len(levels) != len(originals):
            raise ValueError(
                f"comparison {original.get('output_column_name')!r} has different levels"
            )
        for level, original_level in zip(levels, originals, strict=True):
            level["sql_condition"] = original_level["sql_condition"]
    rules = out.get("blocking_rules_to_generate_predictions", [])
    source_rules = source.get("blocking_rules_to_generate_predictions", [])
    if len(rules) != len(source_rules):
        raise ValueError("trained model and source settings have different blocking rules")
    for rule, original_rule in zip(rules, source_rules, strict=True):
        rule["blocking_rule"] = original_rule["blocking_rule"]
        rule["sql_dialect"] = "duckdb"
    if "sql_dialect" in out:
        out["sql_dialect"] = "duckdb"
    return out
