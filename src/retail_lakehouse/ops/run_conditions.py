"""The alert conditions a run can tell: a job's failure, its DQ score and quarantine share, the freshness
of tables with an SLA, a stream falling behind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.core.contracts import BatchCounts
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.storage_state import local_last_commit_ms, local_path
from retail_lakehouse.ops.alerts import (
    CRITICAL,
    DQ_SCORE,
    FRESHNESS,
    JOB_FAILED,
    QUARANTINE_RATE,
    STREAM_LAG,
    WARNING,
    Condition,
)


def job_conditions(
    config: LakehouseConfig, job_name: str, counts: BatchCounts | None, error: str | None
) -> list[Condition]:
    """A job run always tells whether it failed; one that checked rules on rows tells its DQ score and its
    quarantine share (a run that read nothing leaves them as they were)."""
    job = config.jobs[job_name]
    conditions = [
        Condition(
            JOB_FAILED,
            job_name,
            firing=error is not None,
            severity=CRITICAL,
            message=f"job {job_name} failed: {error}" if error else f"job {job_name} succeeded",
        )
    ]
    if job.quality is None or counts is None or error is not None:
        return conditions
    suite = config.quality[job.quality]
    score = counts.quality_score
    if score is not None:
        conditions.append(
            Condition(
                DQ_SCORE,
                job.output,
                firing=score < suite.alert_below_score,
                severity=WARNING,
                message=f"DQ score of {job.output} is {score:.4f} ({counts.rule_passes} of {counts.rule_evaluations} "
                f"rule evaluations passed); threshold {suite.alert_below_score}",
                value=score,
                threshold=suite.alert_below_score,
            )
        )
    share = counts.quarantine_share
    if share is not None:
        conditions.append(
            Condition(
                QUARANTINE_RATE,
                job.output,
                firing=share > suite.alert_above_quarantine_share,
                severity=WARNING,
                message=f"{counts.quarantined} of {counts.read} rows read for {job.output} were quarantined "
                f"({share:.2%}); threshold {suite.alert_above_quarantine_share:.2%}",
                value=share,
                threshold=suite.alert_above_quarantine_share,
            )
        )
    return conditions


@dataclass(frozen=True)
class Freshness:
    table: str
    sla_hours: float
    last_commit_at: datetime | None  # None: the table does not exist yet

    def age_hours(self, now: datetime) -> float | None:
        if self.last_commit_at is None:
            return None
        return (now - self.last_commit_at).total_seconds() / 3600

    def missed(self, now: datetime) -> bool:
        age = self.age_hours(now)
        return age is None or age > self.sla_hours

    def condition(self, now: datetime) -> Condition:
        age = self.age_hours(now)
        if age is None:
            message = f"{self.table} does not exist yet; its freshness SLA is {self.sla_hours:g} h"
        else:
            message = (
                f"{self.table} was last written {age:.1f} h ago "
                f"({self.last_commit_at:%Y-%m-%d %H:%M} UTC); its freshness SLA is {self.sla_hours:g} h"
            )
        return Condition(
            FRESHNESS,
            self.table,
            firing=self.missed(now),
            severity=CRITICAL,
            message=message,
            value=age,
            threshold=self.sla_hours,
        )


def tables_with_sla(config: LakehouseConfig) -> dict[str, float]:
    return {name: t.freshness_hours for name, t in config.tables.items() if t.freshness_hours is not None}


def freshness_with_spark(spark: SparkSession, config: LakehouseConfig) -> list[Freshness]:
    """Each table with a freshness SLA and its latest commit's time: from the newest file of its log on
    this machine's disk (milliseconds, where Spark's history takes a query per table), elsewhere from
    `DESCRIBE HISTORY ... LIMIT 1`."""
    found = []
    for table, hours in tables_with_sla(config).items():
        ref = config.storage.table_ref(table)
        local = local_path(spark, ref.path)
        if local is not None:
            commit_ms = local_last_commit_ms(local)
            last = None if commit_ms is None else datetime.fromtimestamp(commit_ms / 1000, tz=UTC)
        else:
            last = _last_commit_from_history(spark, ref)
        found.append(Freshness(table, hours, last))
    return found


def _last_commit_from_history(spark: SparkSession, ref: TableRef) -> datetime | None:
    if not delta_tables.exists(spark, ref):
        return None
    row = delta_tables.history(spark, ref, 1).select("timestamp").first()
    return _utc(row["timestamp"]) if row else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class BatchProgress:
    """What a streaming query reported for one micro-batch that read rows."""

    batch_id: int
    input_rows_per_second: float
    processed_rows_per_second: float
    seconds: float  # trigger to commit


def stream_conditions(config: LakehouseConfig, job_name: str, recent: Sequence[BatchProgress]) -> list[Condition]:
    """Falling behind: the latest micro-batch took longer than the latency limit, or the last
    `behind_batches` processed fewer rows per second than arrived. Nothing to tell without a batch."""
    if not recent:
        return []
    limits = config.ops.streams
    latest = recent[-1]
    window = list(recent[-limits.behind_batches :])
    behind = len(window) == limits.behind_batches and all(
        b.processed_rows_per_second < b.input_rows_per_second for b in window
    )
    slow = latest.seconds > limits.latency_seconds
    if slow:
        message = (
            f"micro-batch {latest.batch_id} of {job_name} took {latest.seconds:.1f} s "
            f"(limit {limits.latency_seconds:g} s)"
        )
    elif behind:
        message = (
            f"{job_name} processed fewer rows per second than arrived in its last {len(window)} micro-batches "
            f"(latest: {latest.processed_rows_per_second:,.0f}/s processed, {latest.input_rows_per_second:,.0f}/s in)"
        )
    else:
        message = f"{job_name} keeps up: micro-batch {latest.batch_id} took {latest.seconds:.1f} s"
    return [
        Condition(
            STREAM_LAG,
            job_name,
            firing=slow or behind,
            severity=WARNING,
            message=message,
            value=latest.seconds,
            threshold=limits.latency_seconds,
        )
    ]
