"""The foreachBatch callback of an incremental job: each micro-batch of its `source` input goes through the
job's transform, deduplication, rules and configured write (`BatchWriter`), exactly once.

Picklable, and given only what it can rebuild anywhere (configuration, the run's context): under Spark
Connect it runs in the server's Python worker, with the micro-batch's own session, and reads the job's
other inputs there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.config.models import INCREMENTAL_INPUT
from retail_lakehouse.core.contracts import TransformContext
from retail_lakehouse.io.stream_append import checkpoint_query_id
from retail_lakehouse.quality.results import DqResults
from retail_lakehouse.runner.batch_counts import CountsSink
from retail_lakehouse.runner.batches import BatchWriter
from retail_lakehouse.runner.inputs import read_inputs


@dataclass
class IncrementalBatches:
    loaded: LoadedConfig
    job_name: str
    context: TransformContext[BaseModel]
    checkpoint: str
    counts: CountsSink
    failures: list[BaseException] = field(default_factory=list)
    # Kept between the batches of one run, in the process the callback runs in.
    writer_id: str | None = None
    other_inputs: dict[str, DataFrame] = field(default_factory=dict)
    writer: BatchWriter | None = None

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        try:
            spark = batch.sparkSession
            writer = self._writer(spark)
            if self.writer_id is None:
                # The checkpoint's query id names the writer: a batch repeated after a crash is not
                # appended twice, and a new checkpoint (a deliberate re-run) is a new writer.
                self.writer_id = f"{self.job_name}:{checkpoint_query_id(spark, self.checkpoint)}"
            inputs = {**self.other_inputs, INCREMENTAL_INPUT: batch}
            counts = writer.write(self.job_name, inputs, self.context, idempotency=(self.writer_id, batch_id))
            self.counts.add(spark, batch_id, counts)
        except BaseException as exc:
            self.failures.append(exc)  # seen by the caller in a classic session, where this runs in-process
            raise

    def _writer(self, spark: SparkSession) -> BatchWriter:
        """The batch writer and the other inputs, made for the run's first batch: a stream's batches share
        one session (a new Python handle of it each batch, in a classic session)."""
        if self.writer is None:
            config = self.loaded.config
            job = config.jobs[self.job_name]
            self.other_inputs = read_inputs(spark, self.loaded, job, streaming=False, leave_out=(INCREMENTAL_INPUT,))
            self.writer = BatchWriter(spark, self.loaded, DqResults(spark, config.storage))
        return self.writer
