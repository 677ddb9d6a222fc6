"""Where a foreachBatch callback puts each micro-batch's counts, for the command that started the stream.

In a classic session the callback runs in this process: its counts are kept in memory. Under Spark
Connect it runs in the server's Python worker, a copy of the callback in another process: its counts are
recorded in `_ops/micro_batches` and read back when the stream ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pyspark.sql import SparkSession

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.core.contracts import BatchCounts
from retail_lakehouse.ops.micro_batches import MicroBatchRecords
from retail_lakehouse.runtime.spark import is_connect


class CountsSink(Protocol):
    def add(self, spark: SparkSession, batch_id: int, counts: BatchCounts) -> None: ...

    def totals(self, spark: SparkSession) -> BatchCounts: ...


@dataclass
class InProcessCounts:
    by_batch: dict[int, BatchCounts] = field(default_factory=dict)

    def add(self, spark: SparkSession, batch_id: int, counts: BatchCounts) -> None:
        self.by_batch[batch_id] = counts

    def totals(self, spark: SparkSession) -> BatchCounts:
        totals = BatchCounts()
        for batch_id in sorted(self.by_batch):
            totals.add(self.by_batch[batch_id])
        return totals


@dataclass
class RecordedCounts:
    records: MicroBatchRecords

    def add(self, spark: SparkSession, batch_id: int, counts: BatchCounts) -> None:
        self.records.record(spark, batch_id, counts)

    def totals(self, spark: SparkSession) -> BatchCounts:
        return self.records.totals(spark)


def counts_sink(spark: SparkSession, storage: StorageSettings, run_id: str, job: str) -> CountsSink:
    if is_connect(spark):
        return RecordedCounts(MicroBatchRecords(storage, run_id, job))
    return InProcessCounts()
