"""Counts of each micro-batch a job ran under Spark Connect, in `<ops_root>/micro_batches`.

Under Spark Connect a foreachBatch callback runs in the server's Python worker: what it counts does not
reach the command that started the stream. It records each batch's counts here (once per batch: the
append names the run and the batch as its Delta transaction), and the command sums its run's rows after
the stream ends.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import StorageSettings, TableSettings
from retail_lakehouse.core.contracts import BatchCounts
from retail_lakehouse.io import delta_tables
from retail_lakehouse.ops.run_history import ensure_ops_table
from retail_lakehouse.runtime.local_rows import literal_rows

MICRO_BATCHES_TABLE = "micro_batches"
MICRO_BATCHES_SCHEMA = StructType(
    [
        StructField("run_id", StringType()),
        StructField("job", StringType()),
        StructField("batch_id", LongType()),
        StructField("rows_read", LongType()),
        StructField("rows_written", LongType()),
        StructField("rows_quarantined", LongType()),
        StructField("duplicates_dropped", LongType()),
        StructField("alerts", StringType()),
        StructField("recorded_at", TimestampType()),
        StructField("rule_evaluations", LongType()),
        StructField("rule_passes", LongType()),
    ]
)
ALERT_SEPARATOR = "\n"


class MicroBatchRecords:
    """The micro-batch counts of one job run."""

    def __init__(self, storage: StorageSettings, run_id: str, job: str) -> None:
        self.table = storage.ops_table(MICRO_BATCHES_TABLE)
        self.run_id = run_id
        self.job = job

    def record(self, spark: SparkSession, batch_id: int, counts: BatchCounts) -> None:
        ensure_ops_table(spark, self.table, MICRO_BATCHES_SCHEMA)
        row = {
            "run_id": self.run_id,
            "job": self.job,
            "batch_id": batch_id,
            "rows_read": counts.read,
            "rows_written": counts.written,
            "rows_quarantined": counts.quarantined,
            "duplicates_dropped": counts.duplicates,
            "alerts": ALERT_SEPARATOR.join(counts.alerts) or None,
            "recorded_at": datetime.now(UTC),
            "rule_evaluations": counts.rule_evaluations,
            "rule_passes": counts.rule_passes,
        }
        delta_tables.append(
            literal_rows(spark, [row], MICRO_BATCHES_SCHEMA),
            self.table,
            TableSettings(),
            idempotency=(f"{self.run_id}:{self.job}", batch_id),
            merge_schema=True,  # a table an older version wrote lacks the rule counts
        )

    def totals(self, spark: SparkSession) -> BatchCounts:
        """The sum of this run's batches (none recorded: all zero)."""
        totals = BatchCounts()
        if not delta_tables.exists(spark, self.table):
            return totals
        mine = delta_tables.read(spark, self.table).where((F.col("run_id") == self.run_id) & (F.col("job") == self.job))
        for row in mine.orderBy("batch_id").collect():  # one row per micro-batch of one run
            totals.add(
                BatchCounts(
                    read=int(row["rows_read"]),
                    written=int(row["rows_written"]),
                    quarantined=int(row["rows_quarantined"]),
                    duplicates=int(row["duplicates_dropped"]),
                    alerts=row["alerts"].split(ALERT_SEPARATOR) if row["alerts"] else [],
                    rule_evaluations=int(row["rule_evaluations"] or 0),
                    rule_passes=int(row["rule_passes"] or 0),
                )
            )
        return totals
