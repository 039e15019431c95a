"""The engines Splink runs on: DuckDB on one machine (default) or Spark.

Both backends run the same model (:mod:`linkage.model`, translated to the backend's SQL by
:mod:`linkage.dialects`) and write the same artefacts. A backend holds the records where the
engine works on them (a DuckDB view, a Spark view, both over ``records.parquet``) and its
:attr:`sql` runs the shared SQL steps there (:mod:`linkage.sql_steps`: the deterministic
pass, the term frequencies, writing ``predictions.parquet``, household evidence).

pyspark is an optional extra (``pip install 'triangulate[spark]'``); it is imported only
when the Spark backend is chosen.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from linkage.config import LinkageConfig
from linkage.database import connect, splink_api
from linkage.dialects import Dialect, restore_sql, translate_settings
from linkage.sql_engine import DuckDBSql, SparkSql, SqlEngine
from linkage.sql_steps import write_predictions

logger = logging.getLogger(__name__)

SPILL_FOLDER = "duckdb_spill"
"""DuckDB's default spill folder, inside the stage's working folder (see DuckDBBackend)."""

RECORDS_PER_CHUNK = 4_000_000
"""With ``predict_chunks: auto``, records left for Splink per prediction chunk.

Each chunk repeats the blocking joins over the whole table, so chunks cost time: at
5,000,000 people (7.8 million records left for Splink) prediction took 96 s in one chunk,
117 s in two and 203 s in eight, with the same peak memory (15.8-16.3 GB then, most of it
records the stage held outside DuckDB, since removed; DuckDB itself is capped by
``memory_limit`` and spills). Two chunks at that size keep a margin without the cost of
many."""


class BackendUnavailableError(RuntimeError):
    """The chosen linkage backend cannot start (a missing optional package or Java)."""


def prediction_chunks(config: LinkageConfig, records: int) -> int:
    """How many chunks prediction is split into for ``records`` records."""
    if config.predict_chunks == "auto":
        return max(1, math.ceil(records / RECORDS_PER_CHUNK))
    return int(config.predict_chunks)


class DuckDBBackend:
    """Splink on an in-memory DuckDB (memory limit, spill folder and threads from config).

    Prediction is chunked on large inputs so that only one chunk's comparisons are held
    at a time; DuckDB spills what does not fit in ``memory_limit`` to ``temp_directory``.
    """

    dialect: Dialect = "duckdb"

    def __init__(self, config: LinkageConfig, work_dir: Path | None = None) -> None:
        self.config = config
        self.con = self._open_duckdb(config, work_dir)
        self.db_api = splink_api(self.con)
        self.sql: SqlEngine = DuckDBSql(self.con)

    def _open_duckdb(self, config: LinkageConfig, work_dir: Path | None) -> Any:
        """DuckDB, spilling to ``temp_directory`` or, by default, to a folder inside the
        stage's working folder (so a run's spill sits on the run's disk, and goes with
        it): removed when the backend closes."""
        self.spill_dir = config.temp_directory
        self._own_spill = False
        if self.spill_dir is None and work_dir is not None:
            self.spill_dir = Path(work_dir) / SPILL_FOLDER
            self._own_spill = True
        return connect(
            memory_limit=config.memory_limit,
            threads=config.threads,
            temp_directory=self.spill_dir,
        )

    def register_records(self, records_path: Path) -> None:
        """Make ``records`` a view of every record in ``records_path`` (the stage's
        ``records.parquet``) and ``linkable_records`` of the linkable ones.

        Views, not tables: Splink materialises what it needs from them (its own copy of
        the input with term frequencies), so the records are held neither in Python nor a
        second time inside DuckDB's ``memory_limit``, where they would crowd out the
        blocking joins.
        """
        self.sql.parquet_view("records", records_path)
        self.sql.view("linkable_records", "SELECT * FROM records WHERE linkable")

    def register_linkable(self) -> Any:
        """Register the linkable records with Splink (for training)."""
        return self.db_api.register("linkable_records", table_name="all_records")

    def register_representatives(self) -> Any:
        """Register with Splink, for prediction, the table ``representative_records``
        (:func:`linkage.sql_steps.make_representatives`)."""
        return self.db_api.register("representative_records", table_name="representatives")

    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The model's settings in this backend's SQL."""
        return translate_settings(settings, self.dialect)

    def canonical(self, trained: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        """A trained model with the model's DuckDB SQL, as saved in ``model.json``."""
        return trained if self.dialect == "duckdb" else restore_sql(trained, source)

    def predict(self, linker: Any, *, floor: float, records: int) -> Any:
        """Score the blocked pairs, in chunks of records on large inputs."""
        chunks = prediction_chunks(self.config, records)
        if chunks > 1:
            logger.info("Predicting in %d chunks of records", chunks)
            return linker.inference.predict(
                threshold_match_probability=floor, num_chunks_left=chunks, num_chunks_right=1
            )
        return linker.inference.predict(threshold_match_probability=floor)

    def write_predictions(self, scored: Any, weight_columns: list[str], path: Path) -> None:
        """Write Splink's scored pairs and the exact links to ``path``."""
        write_predictions(self.sql, scored.physical_name, weight_columns, path)

    def close(self) -> None:
        """Close the connection and remove the spill folder it made."""
        self.con.close()
        if self._own_spill and self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)


class SparkEngine:
    """A Spark session with Splink's API over it and a scratch folder: the one owner of
    Spark for every step that runs on it (Splink, clustering). Stopped by :meth:`close`.

    Splink's intermediate tables are written as Parquet under the checkpoint folder (its
    default ``break_lineage_method``), or persisted with Spark Connect (``spark_remote``).
    """

    def __init__(self, config: LinkageConfig) -> None:
        self.config = config
        self.scratch = Path(tempfile.mkdtemp(prefix="triangulate-spark-"))
        try:
            self.spark = spark_session(config, self.scratch)
        except BackendUnavailableError:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        from splink.backends.spark import SparkAPI

        self.db_api = SparkAPI(
            spark_session=self.spark,
            # Splink writes its intermediate tables under the classic session's checkpoint
            # folder; a Spark Connect client has no SparkContext to ask for it, so Splink
            # persists them in the cluster's memory instead.
            break_lineage_method="persist" if config.spark_remote else "parquet",
            num_partitions_on_repartition=config.spark_shuffle_partitions,
        )
        self.sql = SparkSql(self.spark, self.scratch)

    def close(self) -> None:
        """Stop Spark (freeing the JVM's memory) and remove the scratch folder."""
        self.spark.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)


class SparkBackend(DuckDBBackend):
    """Splink on Spark (``splink.backends.spark.SparkAPI``), local or on a cluster.

    The records are a Spark view of ``records.parquet``, and every SQL step runs as Spark
    SQL (:class:`linkage.sql_engine.SparkSql`): the driver holds no records.
    """

    dialect: Dialect = "spark"

    def __init__(self, config: LinkageConfig, work_dir: Path | None = None) -> None:
        self.config = config
        self.engine = SparkEngine(config)
        self.db_api = self.engine.db_api
        self.sql = self.engine.sql

    def register_linkable(self) -> Any:
        """Register the linkable records with Splink (a Spark frame: Splink's SparkAPI
        takes the view's rows where they are)."""
        return self.db_api.register(
            self.engine.spark.table("linkable_records"), table_name="all_records"
        )

    def register_representatives(self) -> Any:
        """Register with Splink the table ``representative_records``."""
        return self.db_api.register(
            self.engine.spark.table("representative_records"), table_name="representatives"
        )

    def predict(self, linker: Any, *, floor: float, records: int) -> Any:
        """Score the blocked pairs; Spark partitions the work itself."""
        return linker.inference.predict(threshold_match_probability=floor)

    def write_predictions(self, scored: Any, weight_columns: list[str], path: Path) -> None:
        """Write the scored pairs and the exact links to ``path`` as Spark SQL."""
        scored.as_spark_dataframe().createOrReplaceTempView("splink_scored")
        write_predictions(self.sql, "splink_scored", weight_columns, path)

    def close(self) -> None:
        """Stop Spark and remove the scratch folder."""
        self.engine.close()


def spark_session(config: LinkageConfig, scratch: Path) -> Any:
    """Start (or reuse) a Spark session with Splink's similarity functions on its classpath:
    a classic session on ``spark_master``, or a Spark Connect session on ``spark_remote``.

    Raises
    ------
    BackendUnavailableError
        pyspark is not installed, or Spark cannot start (no Java, no server).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise BackendUnavailableError(
            "linkage.backend is 'spark' but pyspark is not installed. Install the optional "
            "extra with `pip install -e '.[spark]'` (or `make venv-spark`), or set "
            "linkage.backend: duckdb."
        ) from error
    from splink.backends.spark import similarity_jar_location

    remote = config.spark_remote
    settings = {
        "spark.sql.shuffle.partitions": str(config.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if remote is None or remote.startswith("local"):
        # Settings of the JVM this process starts (a remote server has its own).
        settings |= {
            "spark.driver.memory": config.spark_driver_memory,
            "spark.default.parallelism": str(config.spark_shuffle_partitions),
            "spark.jars": similarity_jar_location(),
            "spark.local.dir": str(scratch / "local"),
            # Otherwise Spark creates spark-warehouse/ in whatever folder the run started in.
            "spark.sql.warehouse.dir": (scratch / "warehouse").as_uri(),
            "spark.ui.enabled": "false",
            "spark.log.level": "ERROR",
            # Stage progress bars would fill the run's log.
            "spark.ui.showConsoleProgress": "false",
        }
    builder = (
        SparkSession.builder.remote(remote)
        if remote
        else SparkSession.builder.master(config.spark_master)
    ).appName("triangulate-linkage")
    for key, value in {**settings, **config.spark_conf}.items():
        builder = builder.config(key, value)
    if (remote or config.spark_master).startswith("local"):
        # Clustering runs Python on the executors (linkage.spark_clustering): locally they
        # must use this interpreter, which has the project; pyspark's default is whatever
        # `python3` is on the PATH. A cluster names its own in PYSPARK_PYTHON.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    where = f"Spark Connect server {remote!r}" if remote else f"master {config.spark_master!r}"
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own error types when Java is absent
        raise BackendUnavailableError(
            f"Spark could not start on {where}: {error}. Spark needs Java 17 or later on "
            "the PATH (or JAVA_HOME); Spark Connect needs the server running."
        ) from error
    if remote and not remote.startswith("local"):
        # A remote server has no copy of Splink's similarity functions: send the jar.
        spark.addArtifacts(similarity_jar_location())
    if not remote:
        checkpoints = config.spark_checkpoint_dir or (scratch / "checkpoints").as_uri()
        spark.sparkContext.setCheckpointDir(str(checkpoints))
        spark.sparkContext.setLogLevel("ERROR")
    logger.info("Spark started: %s", where)
    return spark


def open_backend(config: LinkageConfig, work_dir: Path | None = None) -> DuckDBBackend:
    """The backend chosen by ``config.backend``."""
    if config.backend == "spark":
        return SparkBackend(config, work_dir)
    return DuckDBBackend(config, work_dir)
