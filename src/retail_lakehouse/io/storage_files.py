"""Files on the lakehouse's storage read by the driver itself (checkpoint and Delta log entries), through
the Spark session's Hadoop file system: the storage credentials set on the session (ADLS keys, a service
principal) apply, as they do to Spark's own reads."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


def session_file_system(spark: SparkSession, jvm: Any, path: str) -> tuple[Any, Any]:
    """The Hadoop `Path` of `path` and the `FileSystem` that holds it."""
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path, hadoop_path.getFileSystem(spark._jsparkSession.sessionState().newHadoopConf())
