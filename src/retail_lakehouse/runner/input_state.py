"""Whether a job has anything new to do: the state of what it reads and writes, recorded with each run,
compared before the next. A job whose inputs (feed folders, table versions), settings, code, output table
and checkpoint are all as its last run left them is skipped: no stream starts, no table is scanned.

A run records the state of its inputs as seen *before* it read them, so input arriving while it ran makes
the next run differ (and run); the output and checkpoint as left *after* it, so an output changed by hand
(restored, deleted, rewritten) or a checkpoint removed to replay makes the next run run. Inputs whose news
cannot be seen without reading them (a database through JDBC, Kafka) make a job run every time, as do a
job that appends its whole result on every run (a snapshot per run is its purpose) and SQL that reads the
clock.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

from retail_lakehouse import __version__
from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.config.models import feed_of
from retail_lakehouse.io.storage_state import delta_table_state, folder_state
from retail_lakehouse.ops.run_history import SUCCEEDED, LastAttempt, latest_attempts

# SQL functions whose result changes with the run's time: the same inputs give another output.
CLOCK_FUNCTIONS = re.compile(
    r"\b(current_date|current_timestamp|localtimestamp|now|curdate|unix_timestamp|unix_seconds)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class InputsSeen:
    """What a job's inputs and settings were before a run; the run's record completes it with the output."""

    job: str
    settings: str
    inputs: dict[str, str]


@dataclass
class JobStates:
    """The states of jobs' inputs and outputs, and the last attempt of each job recorded in the run history
    (read once, on the first question; kept current by `attempted`)."""

    spark: SparkSession
    loaded: LoadedConfig
    _attempts: dict[str, LastAttempt] | None = field(default=None, init=False)
    _code_digests: dict[str, str] = field(default_factory=dict, init=False)

    def inputs_seen(self, job_name: str) -> InputsSeen | None:
        """The state of the job's inputs and settings now; None when the job must run whatever its inputs:
        an input's news cannot be seen without reading it (JDBC, Kafka), it has no inputs, it appends its
        whole result every run, or its parameters (SQL) read the clock."""
        config = self.loaded.config
        job = config.jobs[job_name]
        appends_every_run = job.write.mode == "append" and not job.reads_stream
        if not job.inputs or appends_every_run or CLOCK_FUNCTIONS.search(json.dumps(job.params, default=str)):
            return None
        inputs: dict[str, str] = {}
        for alias, reference in job.inputs.items():
            feed_name = feed_of(reference)
            if feed_name is None:
                if reference != job.output:  # the output's state is recorded after the run
                    inputs[alias] = delta_table_state(self.spark, config.storage.table_ref(reference))
                continue
            feed = config.feeds[feed_name]
            if feed.format == "jdbc" or feed.kafka is not None or feed.path is None:
                return None
            inputs[alias] = folder_state(self.spark, config.storage.landing_path(feed.path))
        return InputsSeen(job_name, self._settings_digest(job_name), inputs)

    def record(self, seen: InputsSeen) -> str:
        """The state a run records: `seen` with the job's output table and checkpoint as they are now."""
        config = self.loaded.config
        job = config.jobs[seen.job]
        state: dict[str, Any] = {
            "settings": seen.settings,
            "inputs": seen.inputs,
            "output": delta_table_state(self.spark, config.storage.table_ref(job.output)),
        }
        if job.reads_stream:
            state["checkpoint"] = folder_state(self.spark, config.storage.checkpoint(seen.job))
        return json.dumps(state, sort_keys=True)

    def unchanged_since(self, seen: InputsSeen) -> LastAttempt | None:
        """The job's last attempt when it succeeded and left everything as it is now; else None."""
        last = self.last_attempt(seen.job)
        if last is None or last.status != SUCCEEDED or last.input_state is None:
            return None
        return last if last.input_state == self.record(seen) else None

    def last_attempt(self, job_name: str) -> LastAttempt | None:
        if self._attempts is None:
            self._attempts = latest_attempts(self.spark, self.loaded.config.storage)
        return self._attempts.get(job_name)

    def attempted(self, attempt: LastAttempt) -> None:
        """Keeps the last attempts current without reading the history again (its writes run behind)."""
        if self._attempts is None:
            self._attempts = latest_attempts(self.spark, self.loaded.config.storage)
        self._attempts[attempt.job] = attempt

    def _settings_digest(self, job_name: str) -> str:
        """A digest of everything besides data that shapes the job's output: its settings (parameters
        included), its output table's and quality suite's, its feeds', the transform's code, the version."""
        config = self.loaded.config
        job = config.jobs[job_name]
        feeds = sorted({name for ref in job.inputs.values() if (name := feed_of(ref)) is not None})
        settings = {
            "job": job.model_dump(mode="json"),
            "table": config.tables[job.output].model_dump(mode="json") if job.output in config.tables else None,
            "quality": config.quality[job.quality].model_dump(mode="json") if job.quality else None,
            "feeds": {name: config.feeds[name].model_dump(mode="json") for name in feeds},
            "code": self._code_digest(job.transform),
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def _code_digest(self, transform: str) -> str:
        """A digest of the source of the modules defining the transform (and its micro-batch writer)."""
        if transform not in self._code_digests:
            spec = self.loaded.transforms[transform]
            functions = [spec.function, *([spec.merge_batch] if spec.merge_batch is not None else [])]
            sources = []
            for function in functions:
                module = inspect.getmodule(function)
                try:
                    sources.append(inspect.getsource(module) if module is not None else function.__qualname__)
                except (OSError, TypeError):  # no source shipped: the version and name stand for it
                    sources.append(f"{function.__module__}.{function.__qualname__}")
            self._code_digests[transform] = hashlib.sha256("\n".join(sources).encode()).hexdigest()[:16]
        return self._code_digests[transform]
