"""Landing files a bronze stream could not read, under a feed's `unreadable_files: set_aside` policy.

Spark's file stream passes over a file it cannot read (ignoreCorruptFiles) and ingests the rest. After
the run, the files the run's micro-batches planned (the checkpoint's file-source log) that gave no row are
read again one by one: an empty file reads as no rows, an unreadable one fails and is set aside, with the
reason, in `_ops/set_aside_files`. The job then fails naming it: its data is never silently left out.
The checkpoint has moved past the file; deliver a corrected copy under a new name to ingest it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import FeedSettings, StorageSettings
from retail_lakehouse.core.columns import RUN_ID, SOURCE
from retail_lakehouse.core.contracts import BatchCounts
from retail_lakehouse.core.errors import LakehouseError
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.readers import read_feed
from retail_lakehouse.io.storage_files import path_exists
from retail_lakehouse.ops.run_history import append_ops_rows, ensure_ops_table
from retail_lakehouse.runner.failures import describe_error

SET_ASIDE_TABLE = "set_aside_files"
SET_ASIDE_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("job", StringType(), False),
        StructField("feed", StringType(), False),
        StructField("file", StringType(), False),
        StructField("reason", StringType(), False),
        StructField("set_aside_at", TimestampType(), False),
    ]
)
# Spark's default; a file-source log compacts every this many batches into `<id>.compact`.
_DEFAULT_COMPACT_INTERVAL = 10


class SetAsideFilesError(LakehouseError):
    """Files of a feed could not be read and were set aside; the rest of the feed was ingested and
    committed, with the counts in `counts`."""

    def __init__(self, message: str, counts: BatchCounts) -> None:
        super().__init__(message)
        self.counts = counts


@dataclass(frozen=True)
class SetAsideFile:
    file: str
    reason: str


def same_file(path: str) -> str:
    """One spelling per local file: Spark writes `file:///x` in some places and `file:/x` in others."""
    return re.sub(r"^file:/+", "file:/", path)


def planned_files(spark: SparkSession, checkpoint: str, batch_ids: Iterable[int]) -> set[str]:
    """The files a file stream's micro-batches `batch_ids` planned, from the checkpoint's source log."""
    wanted = set(batch_ids)
    if not wanted:
        return set()
    folder = f"{checkpoint.rstrip('/')}/sources/0"
    interval = int(
        spark.conf.get("spark.sql.streaming.fileSource.log.compactInterval", None) or _DEFAULT_COMPACT_INTERVAL
    )
    logs = set()
    for batch in wanted:
        plain = f"{folder}/{batch}"
        compact = f"{folder}/{(batch // interval + 1) * interval - 1}.compact"
        logs.add(plain if path_exists(spark, plain) else compact)
    files = set()
    for row in spark.read.text(sorted(logs)).collect():
        line = row[0]
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("batchId") in wanted:
                files.add(same_file(entry["path"]))
    return files


def files_with_rows(spark: SparkSession, table: TableRef, run_id: str) -> set[str]:
    """The source files of the rows a run wrote to a bronze table."""
    rows = delta_tables.read(spark, table).where(F.col(RUN_ID) == run_id).select(SOURCE).distinct()
    return {same_file(row[0]) for row in rows.collect() if row[0] is not None}


def unreadable_files(spark: SparkSession, feed: FeedSettings, files: Iterable[str]) -> list[SetAsideFile]:
    """Each file read alone, as the feed is read but without passing over errors: the ones that fail."""
    strict = feed.model_copy(update={"unreadable_files": "fail"})
    unreadable = []
    for file in sorted(files):
        try:
            rows = read_feed(spark, strict, file, incremental=False)
            # Every column parsed (a bare count() may skip the parsing, and the header check with it).
            rows.select(F.sum(F.hash(*rows.columns))).collect()
        except Exception as exc:  # any failure to read is the reason it is set aside
            unreadable.append(SetAsideFile(file, describe_error(exc)))
    return unreadable


def record_set_aside(
    spark: SparkSession,
    storage: StorageSettings,
    *,
    run_id: str,
    job: str,
    feed: str,
    files: list[SetAsideFile],
    at: datetime,
) -> None:
    table = storage.ops_table(SET_ASIDE_TABLE)
    ensure_ops_table(spark, table, SET_ASIDE_SCHEMA)
    rows = [
        {"run_id": run_id, "job": job, "feed": feed, "file": f.file, "reason": f.reason, "set_aside_at": at}
        for f in files
    ]
    append_ops_rows(spark, table, rows, SET_ASIDE_SCHEMA)
