"""Data quality for review: each run's rule results from `_ops/dq_results` and the quarantined rows."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.config.models import OPS_AREA
from retail_lakehouse.explore.runs import JOB_RUNS
from retail_lakehouse.explore.tables import Lakehouse
from retail_lakehouse.quality.results import DQ_RESULTS_TABLE

DQ_RESULTS = f"{OPS_AREA}/{DQ_RESULTS_TABLE}"


def rule_failures(lakehouse: Lakehouse) -> DataFrame:
    """Per table and rule: evaluations, rows rejected and the share rejected over every run, worst first."""
    return (
        lakehouse.table(DQ_RESULTS)
        .groupBy("table", "rule", "severity")
        .agg(
            F.count("*").alias("runs"),
            F.sum("element_count").alias("rows_checked"),
            F.sum("unexpected_count").alias("rows_rejected"),
            F.sum(F.when(~F.col("success"), 1).otherwise(0)).alias("runs_failed"),
        )
        .withColumn(
            "rejected_pct",
            F.when(F.col("rows_checked") > 0, F.round(100.0 * F.col("rows_rejected") / F.col("rows_checked"), 4)),
        )
        .orderBy(F.desc("rows_rejected"), "table", "rule")
    )


def quarantine_by_rule(lakehouse: Lakehouse) -> DataFrame:
    """Quarantined rows per quarantine table and rule (a row that broke two rules counts under both)."""
    frames = [
        lakehouse.table(name).select(F.lit(name).alias("quarantine"), F.explode("rules").alias("rule"))
        for name in lakehouse.quarantine_tables()
    ]
    if not frames:
        return lakehouse.spark.createDataFrame([], "quarantine string, rule string, rows long")
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union.groupBy("quarantine", "rule").agg(F.count("*").alias("rows")).orderBy(F.desc("rows"), "quarantine")


def quality_scores(lakehouse: Lakehouse) -> DataFrame:
    """Each run's DQ score (passed rule evaluations / all) per job, in time order."""
    return (
        lakehouse.table(JOB_RUNS)
        .where(F.col("quality_score").isNotNull())
        .select("job", "started_at", "status", "quality_score", "rule_evaluations", "rule_passes", "rows_quarantined")
        .orderBy("started_at", "job")
    )
