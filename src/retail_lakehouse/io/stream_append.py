"""Appends a stream to a Delta table exactly once: each micro-batch is one batch append (foreachBatch)
whose commit carries the batch's marker, and only the batch a checkpoint plans again after a crash is
looked for in the table before it is written.

Delta's streaming sink gives the same guarantee with a SetTransaction per batch, but in Delta 4.0 reading
the stream's last SetTransaction reconstructs the table's whole state: a Spark job of three stages before
every run's first write, 0.45 s on a table of one commit, 2 s the first time in a process, growing with the
log until its next checkpoint. A bronze run of a small feed took 1.5 s through the sink and 1.0 s this way
(docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.streaming.readwriter import DataStreamWriter

from retail_lakehouse.core.contracts import TableLayout
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.schema_evolution import evolve_schema
from retail_lakehouse.io.storage_files import read_small_text_file, session_file_system
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("stream")

PROGRESS_POLL_SECONDS = 2


@dataclass(frozen=True)
class StreamOutcome:
    """Rows read and written by the micro-batches this run committed to the table."""

    rows_read: int
    rows_written: int
    batches_committed: int
    batches_already_committed: int
    batch_ids: tuple[int, ...] = ()  # the micro-batches this run wrote


@dataclass(frozen=True)
class CheckpointState:
    """What a query's checkpoint says before it starts: which micro-batch, if any, it will plan again.

    The offsets log records a batch before it runs; the commits log records it after the batch's writes
    returned. A batch in the first but not the second was interrupted, and is the only one that can have
    landed already. `listed` is False where the checkpoint cannot be listed (no JVM, as under Spark
    Connect): then the run's first batch is treated as possibly landed.
    """

    listed: bool
    replayed_batch: int | None = None
    replayed_planned_at: dt.datetime | None = None

    def may_have_landed(self, batch_id: int, first_of_run: bool) -> bool:
        return batch_id == self.replayed_batch if self.listed else first_of_run

    @property
    def earliest_commit(self) -> dt.datetime | None:
        """No commit of the replayed batch is older than the batch's entry in the offsets log."""
        return self.replayed_planned_at


def read_checkpoint_state(spark: SparkSession, checkpoint: str) -> CheckpointState:
    jvm = getattr(spark, "_jvm", None)
    if jvm is None:
        return CheckpointState(listed=False)

    def logged_batches(folder: str) -> dict[int, int]:
        """Batch id -> modification time (ms) of each entry of a checkpoint log."""
        path, fs = session_file_system(spark, jvm, folder)
        if not fs.exists(path):
            return {}
        entries = {}
        for status in fs.listStatus(path):
            name = status.getPath().getName()
            if name.isdigit():  # not the .crc files nor a write's temporary file
                entries[int(name)] = status.getModificationTime()
        return entries

    offsets = logged_batches(f"{checkpoint}/offsets")
    if not offsets:
        return CheckpointState(listed=True)
    last_planned = max(offsets)
    if last_planned <= max(logged_batches(f"{checkpoint}/commits"), default=-1):
        return CheckpointState(listed=True)
    planned_at = dt.datetime.fromtimestamp(offsets[last_planned] / 1000)  # naive local, as history times are
    return CheckpointState(listed=True, replayed_batch=last_planned, replayed_planned_at=planned_at)


def checkpoint_query_id(spark: SparkSession, checkpoint: str) -> str:
    """The id a streaming query keeps in its checkpoint for its whole life (written when the query starts,
    before its first micro-batch). A foreachBatch callback reads it here rather than from the query object:
    under Spark Connect the callback runs in the server's Python worker, which has no query object."""
    text = read_small_text_file(spark, f"{checkpoint.rstrip('/')}/metadata")
    if text is None:
        raise RuntimeError(f"the streaming query's checkpoint {checkpoint} has no metadata")
    return str(json.loads(text.splitlines()[0])["id"])


def batch_marker(query_name: str, query_id: str, batch_id: int, run_id: str) -> str:
    """A micro-batch's commit marker: the batch (query name, checkpoint query id, batch id), then the run
    that wrote it, so the run finds its own commits and a later run finds the batch whichever run wrote it."""
    return f"{batch_prefix(query_name, query_id, batch_id)}{run_id}"


def batch_prefix(query_name: str, query_id: str, batch_id: int) -> str:
    return f"{query_name}:{query_id}#{batch_id}@"


@dataclass
class AppendBatches:
    """The foreachBatch callback of `append_stream`. Picklable: under Spark Connect it runs in the server's
    Python worker, with the micro-batch's own session; what it keeps between batches stays there."""

    ref: TableRef
    table: TableLayout
    table_name: str
    query_name: str
    checkpoint: str
    checkpoint_state: CheckpointState
    run_id: str
    table_exists: bool
    query_id: str | None = None
    batches_seen: int = 0
    appended: bool = False
    failures: list[BaseException] = field(default_factory=list)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        try:
            self._append(batch, batch_id)
        except BaseException as exc:
            self.failures.append(exc)  # seen by the caller in a classic session, where this runs in-process
            raise

    def _append(self, batch: DataFrame, batch_id: int) -> None:
        spark = batch.sparkSession
        if self.query_id is None:
            self.query_id = checkpoint_query_id(spark, self.checkpoint)
        first_of_run = self.batches_seen == 0
        self.batches_seen += 1
        if self._landed_already(spark, batch_id, first_of_run):
            return
        marker = batch_marker(self.query_name, self.query_id, batch_id, self.run_id)
        if self.table_exists and not self.appended:
            # Once per run, and only with rows to write: a column new in the source joins the table.
            evolve_schema(spark, self.ref, batch.schema, self.table, self.table_name)
        if self.table_exists:
            delta_tables.append(batch, self.ref, self.table, commit_marker=marker)
        else:
            delta_tables.create_with_rows(batch, self.ref, self.table, commit_marker=marker)
            self.table_exists = True
        self.appended = True

    def _landed_already(self, spark: SparkSession, batch_id: int, first_of_run: bool) -> bool:
        if not (self.table_exists and self.checkpoint_state.may_have_landed(batch_id, first_of_run)):
            return False
        prefix = batch_prefix(self.query_name, str(self.query_id), batch_id)
        earliest = self.checkpoint_state.earliest_commit
        return bool(delta_tables.marked_commits(spark, self.ref, prefix, written_after=earliest, by_prefix=True))


def append_stream(
    spark: SparkSession,
    df: DataFrame,
    ref: TableRef,
    *,
    checkpoint: str,
    table: TableLayout,
    query_name: str,
    run_id: str,
    trigger_seconds: float | None = None,
    table_name: str | None = None,
    on_poll: Callable[[StreamingQuery], None] | None = None,
) -> StreamOutcome:
    """Appends what the stream has not yet seen: everything available now, then stops (no trigger), or
    continuously every `trigger_seconds` until interrupted (Ctrl-C stops it cleanly).

    The checkpoint records which input each micro-batch took. Each batch's commit carries its marker
    (`batch_marker`) as its userMetadata; a batch planned again after a crash whose commit had landed is
    not written again. The first batch creates the table with its configured partitioning, description
    and properties, in the same commit as its rows; a run that finds nothing to read creates it empty, so
    readers of the table find it. Before a run's first append to an existing table, a column new in the
    stream is added to it (the table's schema_evolution policy). What the run wrote is read back from the
    commits carrying its run id: the same whether the batches ran here or in a Spark Connect server's worker.
    """
    table_existed = delta_tables.exists(spark, ref)
    append_batches = AppendBatches(
        ref=ref,
        table=table,
        table_name=table_name or str(ref),
        query_name=query_name,
        checkpoint=checkpoint,
        checkpoint_state=read_checkpoint_state(spark, checkpoint),
        run_id=run_id,
        table_exists=table_existed,
    )
    writer = foreach_batch_writer(
        df, append_batches, checkpoint=checkpoint, query_name=query_name, trigger_seconds=trigger_seconds
    )
    written_after = dt.datetime.now()
    query = writer.start()
    rows_per_batch = await_query(query, append_batches.failures, on_poll)
    if not rows_per_batch:  # no batch ran, so none created the table
        if not table_existed:
            delta_tables.ensure_table(spark, ref, df.schema, table)
        return StreamOutcome(0, 0, 0, 0)
    query_id = str(query.id)
    markers = {batch_marker(query_name, query_id, b, run_id): b for b in rows_per_batch}
    commits = delta_tables.marked_commits(spark, ref, *markers, written_after=written_after, expected=len(markers))
    written = sorted(markers[str(commit.marker)] for commit in commits)
    return StreamOutcome(
        rows_read=sum(rows_per_batch[batch_id] for batch_id in written),
        rows_written=sum(commit.rows_written for commit in commits),
        batches_committed=len(commits),
        batches_already_committed=len(rows_per_batch) - len(written),
        batch_ids=tuple(written),
    )


def foreach_batch_writer(
    df: DataFrame,
    process: Callable[[DataFrame, int], None],
    *,
    checkpoint: str,
    query_name: str,
    trigger_seconds: float | None = None,
) -> DataStreamWriter:
    """A writer that hands each micro-batch to `process`: all that is available now, then stops (no
    trigger), or every `trigger_seconds` until stopped."""
    writer = df.writeStream.foreachBatch(process).option("checkpointLocation", checkpoint).queryName(query_name)
    if trigger_seconds is None:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=f"{trigger_seconds} seconds")


def await_query(
    query: StreamingQuery,
    failures: list[BaseException],
    on_poll: Callable[[StreamingQuery], None] | None = None,
) -> dict[int, int]:
    """Waits for a query to end (available-now) or to be stopped (Ctrl-C, SIGTERM) and returns each
    batch's input rows; raises the error a foreachBatch callback raised (and put in `failures`) rather
    than the JVM's wrapper of it. `on_poll` is given the query every poll (a watch on its progress)."""
    rows_per_batch: dict[int, int] = {}
    try:
        with stop_requests() as stop_requested:
            # Poll, because recentProgress only keeps the latest updates of a long-running query.
            while not query.awaitTermination(PROGRESS_POLL_SECONDS):
                rows_per_batch.update(input_rows_per_batch(query))
                if on_poll is not None:
                    on_poll(query)
                if stop_requested.is_set():
                    log.info("stopping %s after the micro-batch under way", query.name)
                    query.stop()
    except Exception:
        if failures:
            raise failures[0] from None
        raise
    if failures:
        raise failures[0]
    rows_per_batch.update(input_rows_per_batch(query))
    return rows_per_batch


@contextlib.contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM while the block runs, so a continuous query stops between polls.

    pyspark's own SIGINT handler raises inside whatever JVM call is under way, which can leave the
    query or the gateway connection hanging; setting a flag and stopping the query from here cannot.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: requested.set()) for sig in signals}
    try:
        yield requested
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# The part of a trigger's duration spent handing a micro-batch to the sink: only a trigger that ran a batch
# has it (a trigger that found nothing new reports progress too, under the next batch's id).
RAN_A_BATCH = "addBatch"


def input_rows_per_batch(query: StreamingQuery) -> dict[int, int]:
    """Input rows of each micro-batch the query ran and still reports. Read from the JVM's progress
    objects where there are some: pyspark's `recentProgress` converts every field of every update into
    Python, about 80 ms a call, which was a tenth of a bronze job with nothing new."""
    jvm_query = getattr(query, "_jsq", None)
    if jvm_query is None:  # Spark Connect has no JVM object to ask
        return {
            int(update.batchId): int(update.numInputRows)
            for update in query.recentProgress
            if RAN_A_BATCH in update.durationMs
        }
    return {
        int(update.batchId()): int(update.numInputRows())
        for update in jvm_query.recentProgress()
        if update.durationMs().containsKey(RAN_A_BATCH)
    }
