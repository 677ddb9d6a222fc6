"""Run history: one row per job run in `_ops/job_runs`, failed runs included."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import StorageSettings, TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.delta_arrow import query_arrow
from retail_lakehouse.io.storage_state import local_path
from retail_lakehouse.runtime.local_rows import literal_rows
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("run_history")

JOB_RUNS_TABLE = "job_runs"

JOB_RUNS_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("pipeline_run_id", StringType(), True),
        StructField("job", StringType(), False),
        StructField("env", StringType(), False),
        StructField("status", StringType(), False),
        StructField("started_at", TimestampType(), False),
        StructField("ended_at", TimestampType(), False),
        StructField("rows_read", LongType(), True),
        StructField("rows_written", LongType(), True),
        StructField("error", StringType(), True),
        StructField("rows_quarantined", LongType(), True),
        StructField("duplicates_dropped", LongType(), True),
        StructField("quality_score", DoubleType(), True),
        StructField("alerts", StringType(), True),
        StructField("rule_evaluations", LongType(), True),
        StructField("rule_passes", LongType(), True),
        StructField("input_state", StringType(), True),
    ]
)

SUCCEEDED = "succeeded"
FAILED = "failed"
# Nothing new since the job's last successful run: not run (runner.input_state).
SKIPPED = "skipped"

# How long a run recorded in the background may wait for the runs after it, to share their commit: a
# pipeline's records cost one commit per few jobs instead of one per job (a commit's work competes with
# the next job for the cores). `wait`, which a pipeline calls when it ends or fails, writes at once.
BACKGROUND_WRITE_SECONDS = 10.0


@dataclass(frozen=True)
class JobRun:
    run_id: str
    pipeline_run_id: str | None
    job: str
    env: str
    status: str
    started_at: datetime
    ended_at: datetime
    rows_read: int | None
    rows_written: int | None
    error: str | None
    rows_quarantined: int | None = None
    duplicates_dropped: int | None = None
    quality_score: float | None = None
    alerts: str | None = None
    # The DQ score's terms: rules checked on rows, and the checks rows passed.
    rule_evaluations: int | None = None
    rule_passes: int | None = None
    # What the run read and left (runner.input_state): a later run with the same state has nothing to do.
    input_state: str | None = None

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


# A small table written one row at a time: column statistics (for data skipping it never needs) and a
# log checkpoint every 10 commits would cost more than the row itself, on every job run.
OPS_TABLE_PROPERTIES = {"delta.dataSkippingNumIndexedCols": "0", "delta.checkpointInterval": "100"}


OPS_TABLE_LAYOUT = TableSettings(properties=OPS_TABLE_PROPERTIES)


def ensure_ops_table(spark: SparkSession, table: TableRef, schema: StructType) -> None:
    delta_tables.ensure_table(spark, table, schema, OPS_TABLE_LAYOUT)


def append_ops_rows(
    spark: SparkSession, table: TableRef, rows: list[dict[str, Any]], schema: StructType, *, merge_schema: bool = False
) -> None:
    """Appends `rows` to an operational table (`ensure_ops_table` first)."""
    delta_tables.append(literal_rows(spark, rows, schema), table, OPS_TABLE_LAYOUT, merge_schema=merge_schema)


class RunHistory:
    """Appends job runs to `<ops_root>/job_runs` (Delta appends from concurrent runs do not conflict)."""

    def __init__(
        self,
        spark: SparkSession,
        storage: StorageSettings,
        *,
        background_write_seconds: float = BACKGROUND_WRITE_SECONDS,
    ) -> None:
        self.spark = spark
        self.table = storage.ops_table(JOB_RUNS_TABLE)
        self.background_write_seconds = background_write_seconds
        self._table_ready = False
        self._write_now = threading.Event()
        self._lock = threading.Lock()
        self._queued: list[JobRun] = []
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def record(self, run: JobRun) -> None:
        """Appends the run (after any still being written in the background) before returning."""
        self.wait()
        self._append([run])

    def record_in_background(self, run: JobRun) -> None:
        """Queues the run and returns, so a pipeline's next job runs meanwhile. A thread appends what is
        queued, in order and in one commit, `background_write_seconds` after the first of it was queued,
        or at once when `wait` is called (before the session stops); `wait` raises what a write raised."""
        self._raise_error()
        with self._lock:
            self._queued.append(run)
            if self._writer is None:
                # Not a daemon: an interpreter exiting without `wait` still finishes the writes.
                self._writer = threading.Thread(target=self._write_queued, name="run-history")
                self._writer.start()

    def wait(self) -> None:
        """Writes every queued run now and returns when they are written; raises what a write raised."""
        self._write_now.set()
        try:
            while True:
                with self._lock:
                    writer = self._writer
                if writer is None:
                    break
                writer.join()
        finally:
            self._write_now.clear()
        self._raise_error()

    def _write_queued(self) -> None:
        while True:
            self._write_now.wait(self.background_write_seconds)
            with self._lock:  # the same lock decides to stop and, in record_in_background, to start a writer
                runs, self._queued = self._queued, []
            try:
                self._append(runs)
            except BaseException as exc:  # raised again in the caller's thread
                self._error = self._error or exc
            with self._lock:
                if not self._queued:
                    self._writer = None
                    return

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _append(self, runs: list[JobRun]) -> None:
        if not self._table_ready:
            ensure_ops_table(self.spark, self.table, JOB_RUNS_SCHEMA)
            self._table_ready = True
        # mergeSchema: a run history written by an older version gains the columns added since.
        append_ops_rows(self.spark, self.table, [asdict(run) for run in runs], JOB_RUNS_SCHEMA, merge_schema=True)


@dataclass(frozen=True)
class LastAttempt:
    """A job's latest run that ran (skipped runs left out): whether it succeeded, and the state it left."""

    job: str
    run_id: str
    status: str
    input_state: str | None


def latest_attempts(spark: SparkSession, storage: StorageSettings) -> dict[str, LastAttempt]:
    """Each job's latest run that was not skipped, from the run history (one row per job to the driver).

    A history on this machine's disk is read with delta-rs: it answers in a fraction of a second, where
    Spark's first query of a process spends seconds warming up, and a run with nothing new asks nothing
    else of Spark before writing its records. Anywhere else (and should delta-rs fail) Spark reads it."""
    table = storage.ops_table(JOB_RUNS_TABLE)
    local = local_path(spark, table.path)
    if local is not None:
        try:
            return _latest_attempts_with_delta_rs(local)
        except Exception as exc:  # only a shortcut: Spark's reader answers the same question
            log.debug("reading the run history at %s with delta-rs failed, reading it with Spark: %s", local, exc)
    return _latest_attempts_with_spark(spark, table)


def _latest_attempts_with_delta_rs(folder: Path) -> dict[str, LastAttempt]:
    if not (folder / "_delta_log").is_dir():
        return {}
    runs = DeltaTable(str(folder))
    if "input_state" not in runs.schema().to_arrow().names:  # written by a version that recorded no state
        return {}
    latest = query_arrow(
        runs,
        "runs",
        "SELECT job, run_id, status, input_state FROM ("
        " SELECT job, run_id, status, input_state,"
        " row_number() OVER (PARTITION BY job ORDER BY started_at DESC) AS newest"
        f" FROM runs WHERE status <> '{SKIPPED}') WHERE newest = 1",
    )
    return {row["job"]: LastAttempt(**row) for row in latest.to_pylist()}


def _latest_attempts_with_spark(spark: SparkSession, table: TableRef) -> dict[str, LastAttempt]:
    if not delta_tables.is_present(spark, table):  # a folder check by path: the read below resolves the log
        return {}
    runs = delta_tables.read(spark, table)
    if "input_state" not in runs.columns:  # written by a version that recorded no state
        return {}
    latest = F.max_by(F.struct("run_id", "status", "input_state"), "started_at").alias("last")
    rows = runs.where(F.col("status") != SKIPPED).groupBy("job").agg(latest).collect()
    return {row["job"]: LastAttempt(row["job"], **row["last"].asDict()) for row in rows}
