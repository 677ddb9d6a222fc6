"""Files on the lakehouse's storage read by the driver itself (checkpoint and Delta log entries), through
the Spark session's Hadoop file system: the storage credentials set on the session (ADLS keys, a service
principal) apply, as they do to Spark's own reads."""

from __future__ import annotations

import re
import uuid
from typing import Any

from py4j.protocol import Py4JError  # type: ignore[import-untyped]
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from retail_lakehouse.core.errors import StorageNotWritableError


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


def check_writable(spark: SparkSession, root: str) -> None:
    """Raises StorageNotWritableError, in one line, when a file cannot be created and removed under `root`
    (read-only, unreachable, or no permission), so that no job starts that could not record itself. Under
    Spark Connect, without the driver's file system at hand, the first write says it instead."""
    jvm = getattr(spark, "_jvm", None)
    if jvm is None:
        return
    probe = f"{root.rstrip('/')}/_ops/.write-probe-{uuid.uuid4().hex}"
    try:
        path, fs = session_file_system(spark, jvm, probe)
        fs.create(path, False).close()
        fs.delete(path, False)
    except Py4JError as exc:
        # The Java exception's message, without the JVM call that raised it or the exception's class.
        java_error = str(exc).split("\n: ", 1)[-1].split("\n", 1)[0].strip()
        reason = re.sub(r"^[\w.$]+(Exception|Error): ", "", java_error) or type(exc).__name__
        raise StorageNotWritableError(f"the lakehouse root {root} is not writable ({reason})") from None


def read_small_text_file(spark: SparkSession, path: str) -> str | None:
    """The text of a small file (a checkpoint's metadata), or None when there is none. Read through the
    session's file system where a JVM is at hand; else (Spark Connect) by a read of the file."""
    jvm = getattr(spark, "_jvm", None)
    if jvm is not None:
        hadoop_path, fs = session_file_system(spark, jvm, path)
        if not fs.exists(hadoop_path):
            return None
        stream = fs.open(hadoop_path)
        try:
            return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()
    try:
        row = spark.read.text(path, wholetext=True).first()
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return None
        raise
    return None if row is None else str(row[0])
