"""Run history: one row per job run in `_ops/job_runs`, failed runs included."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

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

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


def record_job_run(spark: SparkSession, ops_root: str, run: JobRun) -> None:
    """Appends the run to `<ops_root>/job_runs` (Delta appends from concurrent runs do not conflict)."""
    row = asdict(run)
    spark.createDataFrame([row], JOB_RUNS_SCHEMA).write.format("delta").mode("append").save(
        f"{ops_root}/{JOB_RUNS_TABLE}"
    )
