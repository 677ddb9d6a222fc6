"""Alerts: one per condition until it clears, listeners told of each change, the table readable by any
Delta client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.ops.alerts import DQ_SCORE, JOB_FAILED, AlertBook, AlertChange, AlertListener, Condition


class Recorded(AlertListener):
    def __init__(self) -> None:
        self.changes: list[AlertChange] = []

    def alert_changed(self, change: AlertChange) -> None:
        self.changes.append(change)


def failing(job: str, firing: bool) -> Condition:
    return Condition(JOB_FAILED, job, firing, "critical", f"job {job} {'failed' if firing else 'succeeded'}")


def test_one_alert_per_condition_until_it_clears(spark: SparkSession, tmp_path: Path) -> None:
    times = iter(datetime(2026, 1, 1, 6, tzinfo=UTC) + timedelta(hours=h) for h in range(10))
    listener = Recorded()
    book = AlertBook(
        spark,
        StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)),
        [listener],
        clock=lambda: next(times),
    )

    opened = book.evaluate([failing("silver_stores", True), failing("silver_customers", False)], run_id="r1")
    assert [(c.alert.subject, c.opened) for c in opened] == [("silver_stores", True)]
    # Failing again while open: nothing new, nothing told.
    assert book.evaluate([failing("silver_stores", True)], run_id="r2") == []
    # A second book (another process) finds the open alert in the table.
    other = AlertBook(
        spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)), [], clock=lambda: next(times)
    )
    assert list(other.open_alerts()) == [(JOB_FAILED, "silver_stores")]
    cleared = other.evaluate([failing("silver_stores", False)], run_id="r3")
    assert [(c.alert.subject, c.opened, c.clearing) for c in cleared] == [
        ("silver_stores", False, "job silver_stores succeeded")
    ]

    rows = DeltaTable(str(tmp_path / "_ops" / "alerts")).to_pyarrow_table().to_pylist()
    assert [(r["kind"], r["subject"], r["run_id"], r["opened_at"].hour, r["cleared_at"].hour) for r in rows] == [
        (JOB_FAILED, "silver_stores", "r1", 6, 8)
    ]
    assert [(c.alert.kind, c.opened) for c in listener.changes] == [(JOB_FAILED, True)]
    # Firing again after it cleared opens a new alert (the next command's book reads the table afresh).
    reopened = AlertBook(spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))).evaluate(
        [failing("silver_stores", True)], run_id="r4"
    )
    assert [c.opened for c in reopened] == [True]
    assert len(DeltaTable(str(tmp_path / "_ops" / "alerts")).to_pyarrow_table()) == 2


def test_conditions_of_other_kinds_and_subjects_are_apart(spark: SparkSession, tmp_path: Path) -> None:
    book = AlertBook(spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)))
    dq = Condition(DQ_SCORE, "silver/stores", True, "warning", "DQ score 0.9", value=0.9, threshold=0.95)
    changes = book.evaluate([dq, failing("silver_stores", True)])
    assert sorted(c.alert.key for c in changes) == [(DQ_SCORE, "silver/stores"), (JOB_FAILED, "silver_stores")]
    # Evaluating only the job clears only the job's alert.
    assert [c.alert.key for c in book.evaluate([failing("silver_stores", False)])] == [(JOB_FAILED, "silver_stores")]
    assert list(
        AlertBook(spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))).open_alerts()
    ) == [(DQ_SCORE, "silver/stores")]
