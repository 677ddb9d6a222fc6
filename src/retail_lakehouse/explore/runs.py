"""Run history from `_ops/job_runs`: the latest attempt of each job and durations over time."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.config.models import OPS_AREA
from retail_lakehouse.explore.tables import Lakehouse
from retail_lakehouse.ops.run_history import JOB_RUNS_TABLE

JOB_RUNS = f"{OPS_AREA}/{JOB_RUNS_TABLE}"


def runs(lakehouse: Lakehouse) -> DataFrame:
    """Every run with its duration in seconds, newest first."""
    return (
        lakehouse.table(JOB_RUNS)
        .withColumn(
            "seconds",
            F.round(F.unix_micros("ended_at") / 1e6 - F.unix_micros("started_at") / 1e6, 3),
        )
        .orderBy(F.desc("started_at"), "job")
    )


def latest_per_job(lakehouse: Lakehouse) -> DataFrame:
    """Each job's latest run: status, counts, duration and error."""
    newest = Window.partitionBy("job").orderBy(F.desc("started_at"), F.desc("run_id"))
    return (
        runs(lakehouse)
        .withColumn("rank", F.row_number().over(newest))
        .where("rank = 1")
        .select(
            "job",
            "status",
            "started_at",
            "seconds",
            "rows_read",
            "rows_written",
            "rows_quarantined",
            "duplicates_dropped",
            "quality_score",
            "error",
        )
        .orderBy("job")
    )


def status_counts(lakehouse: Lakehouse) -> DataFrame:
    """Runs per status and day."""
    return (
        lakehouse.table(JOB_RUNS)
        .groupBy(F.to_date("started_at").alias("day"), "status")
        .agg(F.count("*").alias("runs"))
        .orderBy("day", "status")
    )
