"""Files on the lakehouse's storage read by the driver itself (checkpoint and Delta log entries), through
the Spark session's Hadoop file system: the storage credentials set on the session (ADLS keys, a service
principal) apply, as they do to Spark's own reads."""

from __future__ import annotations

from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession


def session_file_system(spark: SparkSession, jvm: Any, path: str) -> tuple[Any, Any]:
    """The Hadoop `Path` of `path` and the `FileSystem` that holds it."""
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path, hadoop_path.getFileSystem(spark._jsparkSession.sessionState().newHadoopConf())


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether a file or folder exists at `path`, asked of the session's file system. Without a JVM (Spark
    Connect) a read of the path answers instead; it lists the folder, so it costs more."""
    jvm = getattr(spark, "_jvm", None)
    if jvm is not None:
        hadoop_path, fs = session_file_system(spark, jvm, path)
        return bool(fs.exists(hadoop_path))
    try:
        spark.read.format("binaryFile").option("pathGlobFilter", "-").load(path).schema  # noqa: B018
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return False
        raise
    return True
