"""Per-rule results of every validation, appended to `_ops/dq_results`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.ops.run_history import append_ops_rows, ensure_ops_table
from retail_lakehouse.quality.validation import RuleResult

DQ_RESULTS_TABLE = "dq_results"

DQ_RESULTS_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("table", StringType(), False),
        StructField("suite", StringType(), False),
        StructField("expectation", StringType(), False),
        StructField("rule", StringType(), False),
        StructField("severity", StringType(), False),
        StructField("success", BooleanType(), False),
        StructField("element_count", LongType(), False),
        StructField("unexpected_count", LongType(), False),
        StructField("unexpected_percent", DoubleType(), False),
        StructField("validated_at", TimestampType(), False),
    ]
)


class DqResults:
    def __init__(self, spark: SparkSession, storage: StorageSettings) -> None:
        self.spark = spark
        self.table = storage.ops_table(DQ_RESULTS_TABLE)
        self._table_ready = False

    def record(
        self, *, run_id: str, table: str, suite: str, results: Sequence[RuleResult], validated_at: datetime
    ) -> None:
        if not results:
            return
        if not self._table_ready:
            ensure_ops_table(self.spark, self.table, DQ_RESULTS_SCHEMA)
            self._table_ready = True
        rows = []
        for result in results:
            values = asdict(result)
            values.pop("row_level")
            rows.append({**values, "run_id": run_id, "table": table, "suite": suite, "validated_at": validated_at})
        append_ops_rows(self.spark, self.table, rows, DQ_RESULTS_SCHEMA)
