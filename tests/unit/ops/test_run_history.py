from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.ops.run_history import (
    FAILED,
    JOB_RUNS_TABLE,
    SKIPPED,
    SUCCEEDED,
    JobRun,
    LastAttempt,
    RunHistory,
    _latest_attempts_with_spark,
    latest_attempts,
)


def job_run(run_id: str, rows: int) -> JobRun:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    return JobRun(run_id, "p1", f"job_{run_id}", "local", SUCCEEDED, at, at, rows, rows, None)


def test_runs_recorded_in_the_background_are_all_written_once_waited_for(spark: SparkSession, tmp_path: Path) -> None:
    history = RunHistory(spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)))
    for n in range(3):
        history.record_in_background(job_run(f"r{n}", n))
    history.record(job_run("r3", 3))  # waits for the queued ones first
    history.record_in_background(job_run("r4", 4))
    history.wait()
    rows = spark.read.format("delta").load(history.table.path).select("run_id", "rows_written").collect()
    assert sorted((r.run_id, r.rows_written) for r in rows) == [(f"r{n}", n) for n in range(5)]


def test_a_failed_background_write_is_raised_by_wait_once(spark: SparkSession, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the run history's folder would be")
    history = RunHistory(spark, StorageSettings(landing=str(blocker / "landing"), root=str(blocker)))
    history.record_in_background(job_run("r0", 0))
    with pytest.raises(Exception, match="not_a_folder"):
        history.wait()
    history.wait()  # reported once


def test_runs_queued_in_the_background_share_a_commit_written_at_once_when_waited_for(
    spark: SparkSession, tmp_path: Path
) -> None:
    history = RunHistory(
        spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)), background_write_seconds=600
    )
    started = time.monotonic()
    for n in range(3):
        history.record_in_background(job_run(f"r{n}", n))
    history.wait()
    assert time.monotonic() - started < 120  # not the ten minutes the runs could have waited
    writes = DeltaTable.forPath(spark, history.table.path).history().where("operation = 'WRITE'").collect()
    assert [int(w["operationMetrics"]["numOutputRows"]) for w in writes] == [3]


def test_runs_queued_in_the_background_are_written_without_waiting_for_them(
    spark: SparkSession, tmp_path: Path
) -> None:
    history = RunHistory(
        spark, StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path)), background_write_seconds=0.1
    )
    history.record_in_background(job_run("r0", 0))
    deadline = time.monotonic() + 60
    while (
        not DeltaTable.isDeltaTable(spark, history.table.path)
        or spark.read.format("delta").load(history.table.path).count() == 0
    ):
        assert time.monotonic() < deadline, "the queued run was never written"
        time.sleep(0.2)
    assert [r.run_id for r in spark.read.format("delta").load(history.table.path).collect()] == ["r0"]
    history.wait()


def test_each_jobs_latest_attempt_is_its_newest_run_not_skipped_read_alike_by_delta_rs_and_by_spark(
    spark: SparkSession, tmp_path: Path
) -> None:
    def run(run_id: str, job: str, status: str, hour: int) -> JobRun:
        at = datetime(2025, 1, 1, hour, tzinfo=UTC)
        return JobRun(run_id, None, job, "local", status, at, at, 0, 0, None, input_state=f"state of {run_id}")

    storage = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    history = RunHistory(spark, storage)
    assert latest_attempts(spark, storage) == {}  # no history yet
    history.record(run("a1", "a", SUCCEEDED, 1))
    history.record(run("b1", "b", SKIPPED, 5))
    history.record(run("a3", "a", SKIPPED, 9))  # newer, but skipped: the failure before it stands
    history.record(run("a2", "a", FAILED, 3))  # committed later than a3, started earlier
    history.record(run("c1", "c", SUCCEEDED, 2))

    expected = {
        "a": LastAttempt("a", "a2", FAILED, "state of a2"),
        "c": LastAttempt("c", "c1", SUCCEEDED, "state of c1"),
    }
    assert latest_attempts(spark, storage) == expected  # the history on this disk: delta-rs
    assert _latest_attempts_with_spark(spark, history.table) == expected


def test_a_history_that_recorded_no_input_state_tells_no_attempt(spark: SparkSession, tmp_path: Path) -> None:
    storage = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    table = storage.ops_table(JOB_RUNS_TABLE)
    spark.createDataFrame([("r1", "a", SUCCEEDED)], "run_id string, job string, status string").write.format(
        "delta"
    ).save(table.path)
    assert latest_attempts(spark, storage) == {}
    assert _latest_attempts_with_spark(spark, table) == {}
