"""Streaming jobs whose transform merges each micro-batch itself (foreachBatch), exactly once.

The checkpoint commits a micro-batch only after `merge_batch` returned; a batch repeated after a crash
gets the same batch id and the same input. The writer id (the checkpoint's query id) with that batch id
marks each Delta commit of the batch (userMetadata), so a repeated batch skips the writes that landed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.config.models import FeedSettings, JobSettings, LakehouseConfig, feed_of
from retail_lakehouse.core.contracts import BatchCounts, OutputTable, TransformContext
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.readers import read_feed, read_feed_stream
from retail_lakehouse.io.stream_append import (
    CheckpointState,
    await_query,
    checkpoint_query_id,
    foreach_batch_writer,
    read_checkpoint_state,
)
from retail_lakehouse.runner.batch_counts import CountsSink, counts_sink
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("runner")


@dataclass(frozen=True)
class StreamMicroBatch:
    """One micro-batch of a merging stream and what its transform needs to write it (the contract's
    `MicroBatch`)."""

    spark: SparkSession
    config: LakehouseConfig
    job: JobSettings
    context: TransformContext[BaseModel]
    events: DataFrame
    references: Mapping[str, DataFrame]
    writer_id: str
    batch_id: int
    # Paths of the tables known to exist, the batches finished, and what the transform keeps for the whole
    # run (reference data read and typed once), shared by the run's micro-batches.
    existing_tables: set[TableRef] = field(default_factory=set)
    finished_batches: list[int] = field(default_factory=list)
    run_cache: dict[str, DataFrame] = field(default_factory=dict)
    # What the checkpoint said before the run started: which batch, if any, an interrupted run left planned.
    checkpoint_state: CheckpointState = field(default_factory=lambda: CheckpointState(listed=False))

    @property
    def commit_marker(self) -> str:
        return f"{self.writer_id}#{self.batch_id}"

    @property
    def may_repeat(self) -> bool:
        """Only the batch the checkpoint plans again (in its offsets log, not in its commits log) can repeat
        one an interrupted run started. Where the checkpoint could not be listed (Spark Connect), a run's
        first batch is taken to be one: every later one follows a batch this run finished."""
        return self.checkpoint_state.may_have_landed(self.batch_id, first_of_run=not self.finished_batches)

    @property
    def output(self) -> OutputTable:
        return self.table(self.job.output)

    @property
    def write_keys(self) -> tuple[str, ...]:
        return tuple(self.job.write.keys)

    def table(self, name: str) -> OutputTable:
        return OutputTable(name, self.config.storage.table_ref(name), self.config.tables[name])


class StreamInputs(Mapping[str, DataFrame]):
    """The job's input streams, each opened when the transform asks for it: a feed the parameters leave
    out (POS when the IoT feed supplies sales) is not read, and need not exist."""

    def __init__(self, spark: SparkSession, feeds: Mapping[str, tuple[FeedSettings, str]]) -> None:
        self.spark = spark
        self.feeds = feeds
        self.opened: dict[str, DataFrame] = {}

    def __getitem__(self, alias: str) -> DataFrame:
        if alias not in self.opened:
            feed, path = self.feeds[alias]
            self.opened[alias] = read_feed_stream(self.spark, feed, path)
        return self.opened[alias]

    def __iter__(self) -> Iterator[str]:
        return iter(self.feeds)

    def __len__(self) -> int:
        return len(self.feeds)


@dataclass
class MergeBatches:
    """The foreachBatch callback of a merging stream. Picklable: under Spark Connect it runs in the server's
    Python worker, with the micro-batch's own session, and reads the reference inputs there."""

    config: LakehouseConfig
    job_name: str
    context: TransformContext[BaseModel]
    merge_batch: Callable[[StreamMicroBatch], BatchCounts]
    references: dict[str, tuple[FeedSettings, str]]
    checkpoint: str
    checkpoint_state: CheckpointState
    counts: CountsSink
    failures: list[BaseException] = field(default_factory=list)
    # Kept between the batches of one run, in the process the callback runs in.
    writer_id: str | None = None
    reference_rows: dict[str, DataFrame] | None = None
    existing_tables: set[TableRef] = field(default_factory=set)
    finished_batches: list[int] = field(default_factory=list)
    run_cache: dict[str, DataFrame] = field(default_factory=dict)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        try:
            spark = batch.sparkSession
            if self.writer_id is None:
                self.writer_id = f"{self.job_name}:{checkpoint_query_id(spark, self.checkpoint)}"
            if self.reference_rows is None:
                self.reference_rows = {
                    alias: read_feed(spark, feed, path, incremental=False)
                    for alias, (feed, path) in self.references.items()
                }
            micro_batch = StreamMicroBatch(
                spark,
                self.config,
                self.config.jobs[self.job_name],
                self.context,
                batch,
                self.reference_rows,
                self.writer_id,
                batch_id,
                self.existing_tables,
                self.finished_batches,
                self.run_cache,
                self.checkpoint_state,
            )
            counts = self.merge_batch(micro_batch)
            self.finished_batches.append(batch_id)
            self.counts.add(spark, batch_id, counts)
            log.info(
                "micro-batch %d: read %d, wrote %d, quarantined %d, dropped %d duplicates",
                batch_id,
                counts.read,
                counts.written,
                counts.quarantined,
                counts.duplicates,
            )
        except BaseException as exc:
            self.failures.append(exc)  # seen by the caller in a classic session, where this runs in-process
            raise


def run_merge_stream(
    spark: SparkSession,
    loaded: LoadedConfig,
    job_name: str,
    context: TransformContext[BaseModel],
    trigger_seconds: float | None,
    on_poll: Callable[[StreamingQuery], None] | None = None,
) -> BatchCounts:
    """Runs the job's stream available-now (no trigger) or every `trigger_seconds` until Ctrl-C/SIGTERM;
    `on_poll` watches its progress."""
    config = loaded.config
    job = config.jobs[job_name]
    spec = loaded.transforms[job.transform]
    merge_batch = spec.merge_batch
    if merge_batch is None:  # checked when configuration loads
        raise ValueError(f"transform {spec.name} does not merge micro-batches")
    references: dict[str, tuple[FeedSettings, str]] = {}
    stream_paths: dict[str, tuple[FeedSettings, str]] = {}
    for alias, reference in job.inputs.items():
        feed = config.feeds[str(feed_of(reference))]  # streaming jobs read feeds only (checked at load)
        path = config.storage.landing_path(str(feed.path))
        if alias in spec.reference_inputs:
            references[alias] = (feed, path)
        else:
            stream_paths[alias] = (feed, path)
    events = spec.apply(StreamInputs(spark, stream_paths), context)
    checkpoint = config.storage.checkpoint(job_name)
    batches = MergeBatches(
        config,
        job_name,
        context,
        merge_batch,
        references,
        checkpoint,
        # Read before the query starts: its first batch writes the offsets log entry of a new batch.
        read_checkpoint_state(spark, checkpoint),
        counts_sink(spark, config.storage, context.run_id, job_name),
    )
    writer = foreach_batch_writer(
        events, batches, checkpoint=checkpoint, query_name=job_name, trigger_seconds=trigger_seconds
    )
    await_query(writer.start(), batches.failures, on_poll)
    return batches.counts.totals(spark)
