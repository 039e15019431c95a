"""Backend choice, the DuckDB-to-Spark translation of the model and the tables a backend
hands Splink (no Spark needed)."""

import re
import sys

import polars as pl
import pytest

from linkage import LinkageConfig, model
from linkage.backends import BackendUnavailableError, open_backend, prediction_chunks
from linkage.dialects import restore_sql, translate_settings, translate_sql
from linkage.sql_steps import make_deterministic_links, make_representatives


def test_duckdb_sql_is_left_alone():
    sql = 'jaro_winkler_similarity("forename_l", "forename_r") >= 0.92'
    assert translate_sql(sql, "duckdb") == sql


def test_functions_without_a_spark_builtin_are_mapped():
    jw = translate_sql('jaro_winkler_similarity("forename_l", "forename_r") >= 0.92', "spark")
    assert jw == "JARO_WINKLER(`forename_l`, `forename_r`) >= 0.92"
    digits = translate_sql('hamming("birth_date_text_l", "birth_date_text_r") <= 1', "spark")
    assert digits == "LEVENSHTEIN(`birth_date_text_l`, `birth_date_text_r`) <= 1"


def test_translated_model_has_no_duckdb_identifiers_or_functions():
    spark = translate_settings(model.settings_dict(), "spark")
    text = str(spark)
    # In Spark SQL a double-quoted word is a string, so every identifier must be backticked.
    conditions = [
        level["sql_condition"] for c in spark["comparisons"] for level in c["comparison_levels"]
    ]
    assert not any(re.search(r'"\w+_[lr]"', c) for c in conditions)
    assert "jaro_winkler_similarity" not in text.lower() and "hamming" not in text.lower()
    rules = spark["blocking_rules_to_generate_predictions"]
    assert {r["sql_dialect"] for r in rules} == {"spark"}
    assert len(rules) == len(model.blocking_rules())
    assert "list_intersect" not in text.lower()


def test_restoring_the_source_sql_round_trips_and_keeps_trained_values():
    source = model.settings_dict()
    trained = translate_settings(source, "spark")
    trained["comparisons"][0]["comparison_levels"][1]["m_probability"] = 0.9
    restored = restore_sql(trained, source)
    assert restored["comparisons"][0]["comparison_levels"][1]["m_probability"] == 0.9
    restored["comparisons"][0]["comparison_levels"][1].pop("m_probability")
    assert restored == source


def test_restoring_onto_a_different_model_is_refused():
    source = model.settings_dict()
    trained = translate_settings(source, "spark")
    trained["comparisons"].pop()
    with pytest.raises(ValueError, match="different comparisons"):
        restore_sql(trained, source)


def test_prediction_is_chunked_per_million_records_by_default():
    assert prediction_chunks(LinkageConfig(), 3_999_999) == 1
    assert prediction_chunks(LinkageConfig(), 4_000_001) == 2
    assert prediction_chunks(LinkageConfig(), 10_000_000) == 3
    assert prediction_chunks(LinkageConfig(predict_chunks=4), 10) == 4


def test_unknown_backend_is_a_configuration_error():
    with pytest.raises(ValueError, match="duckdb"):
        LinkageConfig(backend="postgres")


def test_spark_without_pyspark_says_how_to_install_it(monkeypatch):
    # A None entry in sys.modules makes the import fail as if pyspark were not installed.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install -e '\.\[spark\]'"):
        open_backend(LinkageConfig(backend="spark"))


def test_every_role_translates_to_spark_functions_only():
    # A DuckDB function sqlglot does not know is parsed as an anonymous call and would reach
    # Spark untranslated (as list_intersect once did): only Splink's own UDF may be unknown.
    import sqlglot
    from sqlglot import exp

    from linkage.inputs import IDENTIFIERS

    spark = translate_settings(model.settings_dict(roles=IDENTIFIERS), "spark")
    conditions = [
        level["sql_condition"] for c in spark["comparisons"] for level in c["comparison_levels"]
    ] + [rule["blocking_rule"] for rule in spark["blocking_rules_to_generate_predictions"]]
    unknown = {
        call.name.lower()
        for sql in conditions
        if sql.strip().upper() != "ELSE"
        for call in sqlglot.parse_one(sql, read="spark").find_all(exp.Anonymous)
    }
    assert unknown <= {"jaro_winkler"}, unknown
    assert any("ARRAY_INTERSECT" in c for c in conditions)  # the address words


def test_duckdb_holds_the_records_the_deterministic_pass_left_for_splink(tmp_path):
    # Six records: 0-2 one person agreeing on every deterministic key (1 and 2 join 0),
    # 3 another person, 4 and 5 unlinkable (wholly imputed), 5 also a namesake of 0's group.
    # Worked by hand: Splink trains on the linkable 0-3 and predicts on 0 and 3 only.
    person = {"forename": "ANN", "surname": "LEE", "date_of_birth": 1, "postcode": "M1 1AE"}
    rows = [
        {**person, "unique_id": 0, "source": "census", "unique_people": True, "linkable": True},
        {**person, "unique_id": 1, "source": "gp", "unique_people": False, "linkable": True},
        {**person, "unique_id": 2, "source": "dwp", "unique_people": False, "linkable": True},
        {
            **person,
            "surname": "KAY",
            "unique_id": 3,
            "source": "gp",
            "unique_people": False,
            "linkable": True,
        },
        {
            **person,
            "surname": "ROE",
            "unique_id": 4,
            "source": "census",
            "unique_people": True,
            "linkable": False,
        },
        {**person, "unique_id": 5, "source": "census", "unique_people": True, "linkable": False},
    ]
    records = pl.DataFrame(rows).with_columns(
        pl.lit("F").alias("sex"), pl.lit(None, dtype=pl.Utf8).alias("person_number")
    )
    path = tmp_path / "records.parquet"
    records.write_parquet(path)
    backend = open_backend(LinkageConfig(), tmp_path)
    try:
        backend.register_records(path)
        make_deterministic_links(backend.sql)
        make_representatives(backend.sql)
        backend.register_representatives()
        linkable = backend.con.sql("SELECT unique_id FROM linkable_records ORDER BY 1").fetchall()
        left = backend.con.sql("SELECT unique_id FROM representative_records ORDER BY 1")
        left_ids = [row[0] for row in left.fetchall()]
    finally:
        backend.close()
    assert [row[0] for row in linkable] == [0, 1, 2, 3]
    assert left_ids == [0, 3]
