"""Run history: one row per job run in `_ops/job_runs`, failed runs included."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

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
    ]
)

SUCCEEDED = "succeeded"
FAILED = "failed"


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

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


# A small table written one row at a time: column statistics (for data skipping it never needs) and a
# log checkpoint every 10 commits would cost more than the row itself, on every job run.
OPS_TABLE_PROPERTIES = {"delta.dataSkippingNumIndexedCols": "0", "delta.checkpointInterval": "100"}


def ensure_ops_table(spark: SparkSession, path: str, schema: StructType) -> None:
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    for key, value in OPS_TABLE_PROPERTIES.items():
        builder = builder.property(key, value)
    builder.execute()


class RunHistory:
    """Appends job runs to `<ops_root>/job_runs` (Delta appends from concurrent runs do not conflict)."""

    def __init__(self, spark: SparkSession, ops_root: str) -> None:
        self.spark = spark
        self.path = f"{ops_root}/{JOB_RUNS_TABLE}"
        self._table_ready = False
        self._lock = threading.Lock()
        self._queued: list[JobRun] = []
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def record(self, run: JobRun) -> None:
        """Appends the run (after any still being written in the background) before returning."""
        self.wait()
        self._append([run])

    def record_in_background(self, run: JobRun) -> None:
        """Queues the run and returns, so a pipeline's next job runs meanwhile: a one-row Delta append
        costs about 0.4 s, most of it the commit rather than work for the cores. A thread appends what is
        queued, in order, several runs in one commit when jobs finish faster than that; `wait` (before the
        session stops) raises what a write raised."""
        self._raise_error()
        with self._lock:
            self._queued.append(run)
            if self._writer is None:
                # Not a daemon: an interpreter exiting without `wait` still finishes the writes.
                self._writer = threading.Thread(target=self._write_queued, name="run-history")
                self._writer.start()

    def wait(self) -> None:
        """Until every queued run is written; raises what a write raised."""
        while True:
            with self._lock:
                writer = self._writer
            if writer is None:
                break
            writer.join()
        self._raise_error()

    def _write_queued(self) -> None:
        while True:
            with self._lock:  # the same lock decides to stop and, in record_in_background, to start a writer
                runs, self._queued = self._queued, []
                if not runs:
                    self._writer = None
                    return
            try:
                self._append(runs)
            except BaseException as exc:  # raised again in the caller's thread
                self._error = self._error or exc

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _append(self, runs: list[JobRun]) -> None:
        if not self._table_ready:
            ensure_ops_table(self.spark, self.path, JOB_RUNS_SCHEMA)
            self._table_ready = True
        # mergeSchema: a run history written by an older version gains the columns added since.
        (
            self.spark.createDataFrame([asdict(run) for run in runs], JOB_RUNS_SCHEMA)
            .write.format("delta")
            .mode("append")
            .option("mergeSchema", "true")
            .save(self.path)
        )
