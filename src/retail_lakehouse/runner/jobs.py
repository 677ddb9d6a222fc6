"""Runs one job: read (batch or incremental), transform, write by the configured mode, record the run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.config.loader import LoadedConfig, transform_params
from retail_lakehouse.config.models import JobSettings, feed_of
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.readers import read_feed, read_table
from retail_lakehouse.registry import TransformContext
from retail_lakehouse.runtime.logging import get_logger, log_context
from retail_lakehouse.runtime.run_history import FAILED, SUCCEEDED, JobRun, record_job_run

log = get_logger("runner")
MAX_ERROR_CHARS = 2000


class ReconciliationError(RuntimeError):
    """Rows read and rows written disagree where the transform keeps every row."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RowCounts:
    read: int
    written: int


@dataclass(frozen=True)
class JobRunner:
    """Everything a job run needs, passed in explicitly."""

    spark: SparkSession
    loaded: LoadedConfig
    clock: Callable[[], datetime] = utc_now

    def run(self, job_name: str, *, pipeline_run_id: str | None = None, trigger_seconds: float | None = None) -> JobRun:
        """Runs the job once and records it; a streaming job runs available-now unless given a trigger."""
        config = self.loaded.config
        run_id = uuid.uuid4().hex
        started_at = self.clock()
        with log_context(run_id=run_id, job=job_name, pipeline_run_id=pipeline_run_id):
            log.info("job started")
            try:
                counts = self._execute(job_name, run_id, started_at, trigger_seconds)
            except Exception as exc:  # any failure is recorded, then reported by the caller
                error = self.loaded.redactor.redact(describe_error(exc))
                log.error("job failed: %s", error)
                run = JobRun(
                    run_id, pipeline_run_id, job_name, config.env, FAILED, started_at, self.clock(), None, None, error
                )
            else:
                run = JobRun(
                    run_id,
                    pipeline_run_id,
                    job_name,
                    config.env,
                    SUCCEEDED,
                    started_at,
                    self.clock(),
                    counts.read,
                    counts.written,
                    None,
                )
                log.info(
                    "job succeeded: read %d rows, wrote %d rows in %.1f s", counts.read, counts.written, run.seconds
                )
            record_job_run(self.spark, config.storage.ops_root, run)
        return run

    def _execute(self, job_name: str, run_id: str, started_at: datetime, trigger_seconds: float | None) -> RowCounts:
        config = self.loaded.config
        job = config.jobs[job_name]
        spec = self.loaded.transforms[job.transform]
        context = TransformContext(run_id, started_at, transform_params(self.loaded, job_name))
        inputs = self._read_inputs(job)
        path = config.storage.table_path(job.output)
        table = config.tables[job.output]

        if job.reads_stream:
            result = spec.apply(inputs, context)
            delta_tables.ensure_table(self.spark, path, result.schema, table)
            outcome = delta_tables.append_stream(
                self.spark,
                result,
                path,
                checkpoint=f"{config.storage.checkpoint_root}/{job_name}",
                table=table,
                query_name=job_name,
                trigger_seconds=trigger_seconds,
            )
            if outcome.batches_already_committed:
                log.warning(
                    "%d micro-batch(es) had been committed by an interrupted earlier run; not repeated",
                    outcome.batches_already_committed,
                )
            counts = RowCounts(outcome.rows_read, outcome.rows_written)
        else:
            # Counted up front: counts observed during the write are unreliable, because a MERGE may
            # prune its source (against an empty target, for one) before every row is seen.
            read = sum(df.count() for df in inputs.values())
            result = spec.apply(inputs, context)
            version_before = delta_tables.current_version(self.spark, path)
            delta_tables.ensure_table(self.spark, path, result.schema, table)
            self._write(job, result, path)
            counts = RowCounts(read, delta_tables.rows_written_since(self.spark, path, version_before))

        if spec.preserves_rows and counts.read != counts.written:
            raise ReconciliationError(
                f"{job.output}: read {counts.read} rows but wrote {counts.written}; "
                f"transform {spec.name} keeps every row, so none may be lost or repeated"
            )
        return counts

    def _read_inputs(self, job: JobSettings) -> dict[str, DataFrame]:
        config = self.loaded.config
        inputs: dict[str, DataFrame] = {}
        for alias, reference in job.inputs.items():
            feed_name = feed_of(reference)
            if feed_name is None:
                inputs[alias] = read_table(self.spark, config.storage.table_path(reference))
            else:
                feed = config.feeds[feed_name]
                path = config.storage.landing_path(feed.path)
                inputs[alias] = read_feed(self.spark, feed, path, incremental=job.reads_stream)
        return inputs

    def _write(self, job: JobSettings, result: DataFrame, path: str) -> None:
        table = self.loaded.config.tables[job.output]
        mode = job.write.mode
        if mode == "append":
            delta_tables.append(result, path, table)
        elif mode == "overwrite":
            delta_tables.overwrite(result, path, table)
        elif mode == "replace_where":
            assert job.write.replace_column is not None  # checked when configuration loads
            delta_tables.replace_where(result, path, table, job.write.replace_column)
        else:
            delta_tables.merge(self.spark, result, path, job.write.keys)


def describe_error(exc: BaseException) -> str:
    """One readable line or a few for the run record: the error type and its message, without JVM stacks."""
    text = str(exc).split("\n\tat ", 1)[0].split("\nJVM stacktrace:", 1)[0].strip()
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
