"""Runs one job: read (batch or incremental), transform, write by the configured mode, record the run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel
from pyspark.sql import SparkSession

from retail_lakehouse.config.loader import LoadedConfig, transform_params
from retail_lakehouse.config.models import INCREMENTAL_INPUT, JobSettings, feed_of
from retail_lakehouse.core.contracts import BatchCounts, TransformContext
from retail_lakehouse.core.errors import ReconciliationError
from retail_lakehouse.io import delta_tables, jdbc, stream_append
from retail_lakehouse.ops.alerts import AlertBook
from retail_lakehouse.ops.notify import alert_sinks
from retail_lakehouse.ops.run_conditions import freshness_with_spark, job_conditions, tables_with_sla
from retail_lakehouse.ops.run_history import FAILED, SKIPPED, SUCCEEDED, JobRun, LastAttempt, RunHistory
from retail_lakehouse.ops.stream_watch import StreamWatch
from retail_lakehouse.ops.telemetry import RunTelemetry, run_telemetry
from retail_lakehouse.ops.watermarks import Extraction, WatermarkStore
from retail_lakehouse.quality.results import DqResults
from retail_lakehouse.runner.batch_counts import counts_sink
from retail_lakehouse.runner.batches import BatchWriter
from retail_lakehouse.runner.failures import describe_error
from retail_lakehouse.runner.incremental import IncrementalBatches
from retail_lakehouse.runner.input_state import JobStates
from retail_lakehouse.runner.inputs import read_inputs
from retail_lakehouse.runner.set_aside import (
    SET_ASIDE_TABLE,
    SetAsideFilesError,
    files_with_rows,
    planned_files,
    record_set_aside,
    unreadable_files,
)
from retail_lakehouse.runner.streams import run_merge_stream
from retail_lakehouse.runtime.logging import get_logger, log_context

log = get_logger("runner")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobRunner:
    """Everything a job run needs, passed in explicitly."""

    spark: SparkSession
    loaded: LoadedConfig
    clock: Callable[[], datetime] = utc_now
    history: RunHistory = field(init=False)
    batches: BatchWriter = field(init=False)
    alerts: AlertBook = field(init=False)
    telemetry: RunTelemetry | None = field(init=False)
    states: JobStates = field(init=False)

    def __post_init__(self) -> None:
        config = self.loaded.config
        self.history = RunHistory(self.spark, config.storage)
        self.states = JobStates(self.spark, self.loaded)
        self.batches = BatchWriter(self.spark, self.loaded, DqResults(self.spark, config.storage))
        self.telemetry = run_telemetry(config.ops.notifications, config.env)
        listeners = [*alert_sinks(config.ops.notifications, config.env), *([self.telemetry] if self.telemetry else [])]
        self.alerts = AlertBook(self.spark, config.storage, listeners, clock=self.clock)

    def check_freshness(self) -> None:
        """Opens or clears the freshness alert of each table with an SLA (its latest commit's age)."""
        config = self.loaded.config
        if not tables_with_sla(config):
            return
        now = self.clock()
        try:
            # A table not written yet tells nothing here (a pipeline of other layers ran); `status` reports it.
            found = [f for f in freshness_with_spark(self.spark, config) if f.last_commit_at is not None]
            self.alerts.evaluate([f.condition(now) for f in found])
        except Exception as exc:
            log.error("could not check freshness: %s", self.loaded.redactor.redact(str(exc)))

    def close(self) -> None:
        """Writes the run records still queued and exports the metrics recorded; before the session stops."""
        try:
            self.history.wait()
        finally:
            if self.telemetry is not None:
                self.telemetry.close()

    def run(
        self,
        job_name: str,
        *,
        pipeline_run_id: str | None = None,
        trigger_seconds: float | None = None,
        record_in_background: bool = False,
        force: bool = False,
    ) -> JobRun:
        """Runs the job once and records it; a streaming job runs available-now unless given a trigger.
        A job with nothing new since its last successful run is skipped (recorded as such) unless `force`
        (runner.input_state); a continuous stream always runs. With `record_in_background`, the run's
        record is written while the caller goes on (a pipeline's next job); `self.history.wait()` before
        the session stops."""
        config = self.loaded.config
        # A continuous stream always runs; so does a job whose state cannot be told (a run too many, never
        # one too few).
        seen = None if trigger_seconds is not None else self._state(lambda: self.states.inputs_seen(job_name))
        unchanged = None if seen is None or force else self._state(lambda: self.states.unchanged_since(seen))
        if unchanged is not None:
            return self.record_skipped(
                job_name, unchanged, pipeline_run_id=pipeline_run_id, record_in_background=record_in_background
            )
        run_id = uuid.uuid4().hex
        started_at = self.clock()
        with log_context(run_id=run_id, job=job_name, pipeline_run_id=pipeline_run_id):
            log.info("job started")
            counts: BatchCounts | None = None
            error: str | None = None
            try:
                counts = self._execute(job_name, run_id, started_at, trigger_seconds)
            except SetAsideFilesError as exc:  # the rest was committed: its counts stand
                counts = exc.counts
                error = self.loaded.redactor.redact(describe_error(exc))
                log.error("job failed: %s", error)
            except Exception as exc:  # any failure is recorded, then reported by the caller
                error = self.loaded.redactor.redact(describe_error(exc))
                log.error("job failed: %s", error, exc_info=exc)
            job = config.jobs[job_name]
            conditions = job_conditions(config, job_name, counts, error)
            firing = [*(counts.alerts if counts else []), *(c.message for c in conditions if c.firing)]
            run = JobRun(
                run_id=run_id,
                pipeline_run_id=pipeline_run_id,
                job=job_name,
                env=config.env,
                status=FAILED if error else SUCCEEDED,
                started_at=started_at,
                ended_at=self.clock(),
                rows_read=counts.read if counts else None,
                rows_written=counts.written if counts else None,
                error=error,
                rows_quarantined=counts.quarantined if counts else None,
                duplicates_dropped=counts.duplicates if counts else None,
                quality_score=counts.quality_score if counts and job.quality else None,
                alerts="; ".join(firing) or None,
                rule_evaluations=counts.rule_evaluations if counts and job.quality else None,
                rule_passes=counts.rule_passes if counts and job.quality else None,
                input_state=self._state(lambda: self.states.record(seen)) if seen is not None and not error else None,
            )
            try:
                self.alerts.evaluate(conditions, run_id)
            except Exception as exc:  # the run's own outcome stands; the record says an alert was due
                log.error("could not record alerts of %s: %s", job_name, self.loaded.redactor.redact(str(exc)))
            if self.telemetry is not None:
                self.telemetry.record_run(run, job.output)
            if counts:
                log.info(
                    "job succeeded: read %d rows, wrote %d, quarantined %d, dropped %d duplicates in %.1f s",
                    counts.read,
                    counts.written,
                    counts.quarantined,
                    counts.duplicates,
                    run.seconds,
                )
            self.states.attempted(LastAttempt(job_name, run_id, run.status, run.input_state))
            return self._record(run, in_background=record_in_background)

    def _record(self, run: JobRun, *, in_background: bool = False) -> JobRun:
        if in_background:
            self.history.record_in_background(run)
        else:
            self.history.record(run)
        return run

    def _state(self, ask: Callable[[], T]) -> T | None:
        """The answer of a question about the job's state, or None when asking failed: the job then runs
        (and its next run too), which costs time, never data."""
        try:
            return ask()
        except Exception as exc:
            log.warning("could not tell whether the job has new input: %s", self.loaded.redactor.redact(str(exc)))
            return None

    def nothing_new(self, job_name: str) -> LastAttempt | None:
        """The job's last run when nothing it reads or writes changed since it succeeded; else None."""
        seen = self._state(lambda: self.states.inputs_seen(job_name))
        return None if seen is None else self._state(lambda: self.states.unchanged_since(seen))

    def record_skipped(
        self,
        job_name: str,
        unchanged_since: LastAttempt,
        *,
        pipeline_run_id: str | None = None,
        record_in_background: bool = False,
    ) -> JobRun:
        """Records a run of the job that had nothing to do: nothing read or written, the state it found."""
        run_id = uuid.uuid4().hex
        with log_context(run_id=run_id, job=job_name, pipeline_run_id=pipeline_run_id):
            log.info("job skipped: nothing new since its run %s", unchanged_since.run_id)
            now = self.clock()
            run = JobRun(
                run_id=run_id,
                pipeline_run_id=pipeline_run_id,
                job=job_name,
                env=self.loaded.config.env,
                status=SKIPPED,
                started_at=now,
                ended_at=now,
                rows_read=0,
                rows_written=0,
                error=None,
                input_state=unchanged_since.input_state,
            )
            return self._record(run, in_background=record_in_background)

    def _execute(self, job_name: str, run_id: str, started_at: datetime, trigger_seconds: float | None) -> BatchCounts:
        job = self.loaded.config.jobs[job_name]
        spec = self.loaded.transforms[job.transform]
        context = TransformContext(run_id, started_at, transform_params(self.loaded, job_name))
        database_feed = self._database_feed_extracted_incrementally(job)
        if database_feed is not None:
            counts = self._extract_incrementally(job, database_feed, context)
        elif job.merges_stream:
            counts = run_merge_stream(
                self.spark,
                self.loaded,
                job_name,
                context,
                trigger_seconds,
                self._watch(job_name, run_id, trigger_seconds),
            )
        elif job.reads_stream and self._appends_stream(job):
            counts = self._run_stream(job_name, job, context, trigger_seconds)
        elif job.reads_stream:
            counts = self._run_incremental_batches(job_name, job, context)
        else:
            inputs = read_inputs(self.spark, self.loaded, job, streaming=False)
            counts = self.batches.write(job_name, inputs, context)
        if spec.preserves_rows and counts.read != counts.written:
            raise ReconciliationError(
                f"{job.output}: read {counts.read} rows but wrote {counts.written}; "
                f"transform {spec.name} keeps every row, so none may be lost or repeated"
            )
        return counts

    def _watch(self, job_name: str, run_id: str, trigger_seconds: float | None) -> StreamWatch | None:
        """A continuous stream's watch (latency, falling behind); an available-now run has none."""
        if trigger_seconds is None:
            return None
        return StreamWatch(self.loaded.config, job_name, run_id, self.alerts, self.telemetry)

    def _appends_stream(self, job: JobSettings) -> bool:
        """Streams straight into the table: streaming jobs, and incremental appends without rules."""
        return job.kind == "stream" or (job.write.mode == "append" and job.quality is None)

    def _run_incremental_batches(
        self, job_name: str, job: JobSettings, context: TransformContext[BaseModel]
    ) -> BatchCounts:
        """Takes what arrived in the `source` input since the last run, available-now, in micro-batches that
        go through deduplication, the rules and the configured write (foreachBatch); the other inputs are
        read whole for every batch. The checkpoint commits a batch only after its writes succeeded."""
        config = self.loaded.config
        source = read_inputs(self.spark, self.loaded, job, streaming=True, only=(INCREMENTAL_INPUT,))[INCREMENTAL_INPUT]
        if not source.isStreaming:  # a feed with no folder yet: one batch of no rows
            inputs = read_inputs(self.spark, self.loaded, job, streaming=False)
            return self.batches.write(job_name, {**inputs, INCREMENTAL_INPUT: source}, context)
        checkpoint = config.storage.checkpoint(job_name)
        batches = IncrementalBatches(
            self.loaded,
            job_name,
            context,
            checkpoint,
            counts_sink(self.spark, config.storage, context.run_id, job_name),
        )
        writer = stream_append.foreach_batch_writer(source, batches, checkpoint=checkpoint, query_name=job_name)
        stream_append.await_query(writer.start(), batches.failures)
        return batches.counts.totals(self.spark)

    def _run_stream(
        self, job_name: str, job: JobSettings, context: TransformContext[BaseModel], trigger_seconds: float | None
    ) -> BatchCounts:
        config = self.loaded.config
        result = self.loaded.transforms[job.transform].apply(
            read_inputs(self.spark, self.loaded, job, streaming=True), context
        )
        if not result.isStreaming:
            # A feed with no folder yet: nothing to read, but readers of the table must find it.
            delta_tables.ensure_table(
                self.spark, config.storage.table_ref(job.output), result.schema, config.tables[job.output]
            )
            return BatchCounts()
        outcome = stream_append.append_stream(
            self.spark,
            result,
            config.storage.table_ref(job.output),
            checkpoint=config.storage.checkpoint(job_name),
            table=config.tables[job.output],
            query_name=job_name,
            run_id=context.run_id,
            trigger_seconds=trigger_seconds,
            table_name=job.output,
            on_poll=self._watch(job_name, context.run_id, trigger_seconds),
        )
        if outcome.batches_already_committed:
            log.warning(
                "%d micro-batch(es) had been committed by an interrupted earlier run; not repeated",
                outcome.batches_already_committed,
            )
        counts = BatchCounts(read=outcome.rows_read, written=outcome.rows_written)
        self._set_aside_unreadable_files(job_name, job, context, outcome.batch_ids, counts)
        return counts

    def _set_aside_unreadable_files(
        self,
        job_name: str,
        job: JobSettings,
        context: TransformContext[BaseModel],
        batch_ids: tuple[int, ...],
        counts: BatchCounts,
    ) -> None:
        """Under a feed's set_aside policy: the files this run's batches planned but could not read are
        recorded in _ops/set_aside_files, and the job fails naming them (after the rest was committed)."""
        config = self.loaded.config
        feed_name = feed_of(job.inputs[INCREMENTAL_INPUT])
        if feed_name is None or config.feeds[feed_name].unreadable_files != "set_aside" or not batch_ids:
            return
        feed = config.feeds[feed_name]
        checkpoint = config.storage.checkpoint(job_name)
        silent = planned_files(self.spark, checkpoint, batch_ids) - files_with_rows(
            self.spark, config.storage.table_ref(job.output), context.run_id
        )
        unreadable = unreadable_files(self.spark, feed, silent)
        if not unreadable:
            return
        record_set_aside(
            self.spark,
            config.storage,
            run_id=context.run_id,
            job=job_name,
            feed=feed_name,
            files=unreadable,
            at=context.run_started_at,
        )
        named = "; ".join(f"{f.file} ({f.reason})" for f in unreadable)
        raise SetAsideFilesError(
            f"{len(unreadable)} file(s) of feed {feed_name} could not be read and were set aside (see "
            f"_ops/{SET_ASIDE_TABLE}; the other files were ingested): {named}",
            counts,
        )

    def _database_feed_extracted_incrementally(self, job: JobSettings) -> str | None:
        if not job.incremental:
            return None
        feeds = [f for ref in job.inputs.values() if (f := feed_of(ref)) is not None]
        database_feeds = [f for f in feeds if self.loaded.config.feeds[f].format == "jdbc"]
        return database_feeds[0] if database_feeds else None

    def _extract_incrementally(
        self, job: JobSettings, feed_name: str, context: TransformContext[BaseModel]
    ) -> BatchCounts:
        """Rows changed since the last committed watermark, appended exactly once (see ops.watermarks)."""
        config = self.loaded.config
        feed = config.feeds[feed_name]
        store = WatermarkStore(self.spark, config.storage)
        latest = store.latest(feed_name)
        if latest is not None and not latest.committed:
            log.warning("extraction %d of %s was interrupted; taking its range again", latest.extraction, feed_name)
            extraction, redo = latest, True
        else:
            low = latest.high if latest else None
            high = jdbc.max_watermark(self.spark, feed)
            if high is None or (low is not None and high <= low):
                log.info("no rows in %s changed since watermark %s", feed_name, low)
                return BatchCounts()
            number = latest.extraction + 1 if latest else 1
            extraction, redo = Extraction(feed_name, number, low, high, committed=False), False
            store.record(extraction, context.run_id)

        rows = jdbc.read_jdbc_range(self.spark, feed, extraction.low, extraction.high)
        read = rows.count()
        (alias,) = job.inputs
        result = self.loaded.transforms[job.transform].apply({alias: rows}, context)
        ref = config.storage.table_ref(job.output)
        table = config.tables[job.output]
        delta_tables.ensure_table(self.spark, ref, result.schema, table)
        marker = f"jdbc:{feed_name}#{extraction.extraction}@{context.run_id}"
        _, commits = delta_tables.write_marked(
            self.spark,
            ref,
            marker,
            lambda: delta_tables.append(result, ref, table, idempotency=(f"jdbc:{feed_name}", extraction.extraction)),
        )
        written = sum(commit.rows_written for commit in commits)
        store.record(replace(extraction, committed=True), context.run_id)
        if redo and written == 0:
            log.warning("extraction %d had been written before the interruption; not repeated", extraction.extraction)
            return BatchCounts()
        return BatchCounts(read=read, written=written)
