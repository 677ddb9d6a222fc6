"""Runs jobs in order: stops at the first failure and runs nothing after it."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TextIO

from retail_lakehouse.config.dag import execution_order, job_dependencies
from retail_lakehouse.ops.leases import Leases, this_process
from retail_lakehouse.ops.run_history import FAILED, JobRun
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runner.progress import PipelineProgress
from retail_lakehouse.runtime.logging import get_logger, log_context

log = get_logger("pipeline")


@dataclass
class PipelineOutcome:
    pipeline_run_id: str
    runs: list[JobRun] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def failed(self) -> JobRun | None:
        return next((run for run in self.runs if run.status == FAILED), None)


def run_in_order(
    runner: JobRunner,
    label: str,
    job_names: Sequence[str],
    *,
    progress_stream: TextIO | None = None,
    force: bool = False,
) -> PipelineOutcome:
    """Runs `job_names` in the order given, holding their leases (no other run runs them meanwhile); after
    a failure the remaining jobs are not run. A job with nothing new is skipped unless `force`. Then the
    tables with a freshness SLA are checked."""
    outcome = PipelineOutcome(pipeline_run_id=uuid.uuid4().hex)
    config = runner.loaded.config
    leases = Leases(runner.spark, config.storage, config.ops.leases, this_process(f"lakehouse {label}"))
    progress = PipelineProgress(label, len(job_names), progress_stream or sys.stderr)
    # Leases guard writes: when no job has anything new, the run writes nothing but its records and takes
    # none (a job's first write of the process costs seconds of the JVM's warming up).
    unchanged = {} if force else {name: runner.nothing_new(name) for name in job_names}
    nothing_new = bool(unchanged) and all(unchanged.values())
    with (
        log_context(pipeline_run_id=outcome.pipeline_run_id),
        nullcontext()
        if nothing_new
        else leases.held(job_names, wait_seconds=config.ops.leases.wait_seconds, what=label),
    ):
        try:
            for index, name in enumerate(job_names):
                progress.job_started(name)
                # Each job's record is written while the next job runs.
                last = unchanged[name] if nothing_new else None
                if last is not None:
                    run = runner.record_skipped(
                        name, last, pipeline_run_id=outcome.pipeline_run_id, record_in_background=True
                    )
                else:
                    run = runner.run(
                        name, pipeline_run_id=outcome.pipeline_run_id, record_in_background=True, force=force
                    )
                outcome.runs.append(run)
                progress.job_finished(run)
                if run.status == FAILED:
                    outcome.not_run = list(job_names[index + 1 :])
                    break
        finally:
            progress.close()
            runner.history.wait()
        if outcome.not_run:
            log.error(
                "%s stopped after %s failed; not run: %s", label, outcome.runs[-1].job, ", ".join(outcome.not_run)
            )
        runner.check_freshness()
    return outcome


def run_pipeline(
    runner: JobRunner,
    pipeline: str,
    *,
    progress_stream: TextIO | None = None,
    force: bool = False,
    layer: str | None = None,
) -> PipelineOutcome:
    """Runs a configured pipeline's jobs in dependency order (those with nothing new skipped unless `force`);
    with `layer`, only the jobs writing that layer."""
    config = runner.loaded.config
    order = execution_order(job_dependencies(config.jobs), config.job_names_of(pipeline, layer))
    label = f"pipeline {pipeline}" if layer is None else f"pipeline {pipeline} --layer {layer}"
    return run_in_order(runner, label, order, progress_stream=progress_stream, force=force)
