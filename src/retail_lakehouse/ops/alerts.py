"""Alerts in `_ops/alerts`: one row per condition from when it opens until it clears.

A condition (a job failing, a DQ score under its threshold, ...) is evaluated on every run that can tell:
firing with no open alert of its kind and subject opens one (and notifies); evaluated and not firing with
one open clears it (and notifies). Firing again while open changes nothing: one alert per condition until
it clears, not one per run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.io import delta_tables
from retail_lakehouse.ops.run_history import append_ops_rows, ensure_ops_table
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("alerts")

ALERTS_TABLE = "alerts"
ALERTS_SCHEMA = StructType(
    [
        StructField("alert_id", StringType(), False),
        StructField("kind", StringType(), False),
        StructField("subject", StringType(), False),
        StructField("severity", StringType(), False),
        StructField("message", StringType(), False),
        StructField("opened_at", TimestampType(), False),
        StructField("cleared_at", TimestampType(), True),
        StructField("run_id", StringType(), True),
        StructField("value", DoubleType(), True),
        StructField("threshold", DoubleType(), True),
    ]
)

# Kinds, with the subject each names.
JOB_FAILED = "job_failed"  # a job
DQ_SCORE = "dq_score"  # a table
QUARANTINE_RATE = "quarantine_rate"  # a table
FRESHNESS = "freshness"  # a table
STREAM_LAG = "stream_lag"  # a streaming job

CRITICAL = "critical"
WARNING = "warning"


@dataclass(frozen=True)
class Condition:
    """One condition as a run found it: firing or not (a run that cannot tell does not evaluate it)."""

    kind: str
    subject: str
    firing: bool
    severity: str
    message: str
    value: float | None = None
    threshold: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str
    subject: str
    severity: str
    message: str
    opened_at: datetime
    cleared_at: datetime | None
    run_id: str | None
    value: float | None
    threshold: float | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True)
class AlertChange:
    """An alert that opened, or cleared (then `alert.cleared_at` is set and `clearing` says why)."""

    alert: Alert
    opened: bool
    clearing: str = ""


class AlertListener:
    """Told of every alert that opens or clears (notification sinks)."""

    def alert_changed(self, change: AlertChange) -> None:
        raise NotImplementedError


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlertBook:
    """The open alerts of a lakehouse, and the changes a run's conditions make to them. A book is one
    command's: it reads the open alerts once, and again before each write; the subjects a command
    evaluates (its jobs, its stream) are its own while it holds their leases."""

    def __init__(
        self,
        spark: SparkSession,
        storage: StorageSettings,
        listeners: Sequence[AlertListener] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.spark = spark
        self.table = storage.ops_table(ALERTS_TABLE)
        self.listeners = list(listeners)
        self.clock = clock
        self._open: dict[tuple[str, str], Alert] | None = None

    def open_alerts(self) -> dict[tuple[str, str], Alert]:
        """The open alerts by (kind, subject), read once and then kept as this book changes them."""
        if self._open is None:
            self._open = self._read_open()
        return self._open

    def evaluate(self, conditions: Iterable[Condition], run_id: str | None = None) -> list[AlertChange]:
        """Opens an alert for each firing condition without one, clears the open alerts of the conditions
        evaluated as not firing, writes both, tells the listeners; returns the changes."""
        conditions = list(conditions)
        now = self.clock()
        if not self._changes(conditions, self.open_alerts(), run_id, now):
            return []
        # Another process (a stream, a second pipeline) may have opened or cleared since the first read.
        self._open = self._read_open()
        changes = self._changes(conditions, self._open, run_id, now)
        if not changes:
            return []
        opened = [change.alert for change in changes if change.opened]
        cleared = [change.alert for change in changes if not change.opened]
        self._write(opened, cleared)
        for alert in opened:
            self._open[alert.key] = alert
            # A failure's error is logged by the runner already: the alert line names it only.
            detail = "" if alert.kind == JOB_FAILED else f": {alert.message}"
            log.warning("ALERT opened: %s %s%s", alert.kind, alert.subject, detail)
        for alert in cleared:
            self._open.pop(alert.key, None)
            log.info("alert cleared: %s %s", alert.kind, alert.subject)
        for change in changes:
            for listener in self.listeners:
                listener.alert_changed(change)
        return changes

    def _changes(
        self,
        conditions: list[Condition],
        open_alerts: dict[tuple[str, str], Alert],
        run_id: str | None,
        now: datetime,
    ) -> list[AlertChange]:
        changes = []
        for condition in conditions:
            current = open_alerts.get(condition.key)
            if condition.firing and current is None:
                alert = Alert(
                    alert_id=uuid.uuid4().hex,
                    kind=condition.kind,
                    subject=condition.subject,
                    severity=condition.severity,
                    message=condition.message,
                    opened_at=now,
                    cleared_at=None,
                    run_id=run_id,
                    value=condition.value,
                    threshold=condition.threshold,
                )
                changes.append(AlertChange(alert, opened=True))
            elif not condition.firing and current is not None:
                changes.append(AlertChange(replace(current, cleared_at=now), opened=False, clearing=condition.message))
        return changes

    def _read_open(self) -> dict[tuple[str, str], Alert]:
        if not delta_tables.exists(self.spark, self.table):
            return {}
        rows = delta_tables.read(self.spark, self.table).where(F.col("cleared_at").isNull()).collect()
        alerts = [Alert(**{name: row[name] for name in ALERTS_SCHEMA.fieldNames()}) for row in rows]
        return {alert.key: alert for alert in sorted(alerts, key=lambda a: a.opened_at)}

    def _write(self, opened: list[Alert], cleared: list[Alert]) -> None:
        ensure_ops_table(self.spark, self.table, ALERTS_SCHEMA)
        if opened:
            # A blind append: it never conflicts with another writer's.
            append_ops_rows(self.spark, self.table, [asdict(alert) for alert in opened], ALERTS_SCHEMA)
        if cleared:
            at = cleared[0].cleared_at
            assert at is not None
            ids = ", ".join(delta_tables.sql_literal(alert.alert_id) for alert in cleared)
            statement = (
                f"UPDATE {self.table.identifier} SET cleared_at = {delta_tables.sql_literal(at)} "
                f"WHERE alert_id IN ({ids}) AND cleared_at IS NULL"
            )
            delta_tables.retry_on_conflict(lambda: self.spark.sql(statement))
