"""The SQL engines the shared linkage steps run on: DuckDB, and a real local Spark."""

import pytest

from linkage.config import LinkageConfig


@pytest.fixture(scope="session")
def spark_engine():
    """One local Spark (``local[1]``, two shuffle partitions) for the session's tests."""
    pytest.importorskip("pyspark", reason="the Spark twin needs the extra (make venv-spark)")
    from linkage.backends import SparkEngine

    engine = SparkEngine(
        LinkageConfig(backend="spark", spark_master="local[1]", spark_shuffle_partitions=2)
    )
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def sql_engine(request):
    """Each SQL step's engine in turn: DuckDB (in memory) and Spark SQL."""
    if request.param == "spark":
        yield request.getfixturevalue("spark_engine").sql
        return
    from linkage.database import connect
    from linkage.sql_engine import DuckDBSql

    con = connect(memory_limit="1GB", threads=1)
    yield DuckDBSql(con)
    con.close()
