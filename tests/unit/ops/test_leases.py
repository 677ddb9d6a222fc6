"""Leases: one holder per job at a time, across racing takers; free when released or expired."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import LeaseSettings, StorageSettings
from retail_lakehouse.core.errors import LeaseHeldError
from retail_lakehouse.ops.leases import Leases

SETTINGS = LeaseSettings(expire_seconds=60, wait_seconds=0)


def test_a_held_lease_is_refused_naming_its_holder_then_free_once_released(spark: SparkSession, tmp_path: Path) -> None:
    ops = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    first = Leases(spark, ops, SETTINGS, "lakehouse pipeline daily on host-a pid 1")
    second = Leases(spark, ops, SETTINGS, "lakehouse run on host-b pid 2")
    first.acquire(["silver_stores", "bronze_stores"], wait_seconds=0, what="pipeline daily")
    with pytest.raises(LeaseHeldError) as refused:
        second.acquire(["gold_sales_daily", "silver_stores"], wait_seconds=0, what="run")
    message = str(refused.value)
    assert message.startswith(
        "run did not start: another run holds silver_stores (held by lakehouse pipeline daily on host-a pid 1 since "
    )
    # The refused taker took nothing: gold_sales_daily stays free for a third run.
    third = Leases(spark, ops, SETTINGS, "third")
    third.acquire(["gold_sales_daily"], wait_seconds=0, what="run")
    third.release()
    first.release()
    second.acquire(["gold_sales_daily", "silver_stores"], wait_seconds=0, what="run")
    assert {lease.name: lease.holder for lease in second.current(["silver_stores", "gold_sales_daily"])} == {
        "silver_stores": "lakehouse run on host-b pid 2",
        "gold_sales_daily": "lakehouse run on host-b pid 2",
    }
    second.release()


def test_an_expired_lease_is_taken_over(spark: SparkSession, tmp_path: Path) -> None:
    ops = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    now = datetime.now(UTC)
    dead = Leases(spark, ops, SETTINGS, "a run that died", clock=lambda: now - timedelta(seconds=61))
    dead.acquire(["inventory"], wait_seconds=0, what="stream inventory")
    dead._stop.set()  # it died: no renewal, no release
    successor = Leases(spark, ops, SETTINGS, "successor")
    successor.acquire(["inventory"], wait_seconds=0, what="stream inventory")
    (lease,) = successor.current(["inventory"])
    assert lease.holder == "successor" and lease.expires_at > now
    successor.release()


def test_of_two_runs_racing_for_a_lease_exactly_one_wins(spark: SparkSession, tmp_path: Path) -> None:
    ops = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    outcomes: dict[str, str] = {}
    winners: list[Leases] = []

    def take(holder: str) -> None:
        leases = Leases(spark, ops, SETTINGS, holder)
        try:
            leases.acquire(["bronze_pos_transactions"], wait_seconds=0, what=holder)
            outcomes[holder] = "holds"
            winners.append(leases)
        except LeaseHeldError:
            outcomes[holder] = "refused"

    for round_number in range(3):
        outcomes.clear()
        racers = [threading.Thread(target=take, args=(f"run-{round_number}-{i}",)) for i in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert sorted(outcomes.values()) == ["holds", "refused"]
        (lease,) = Leases(spark, ops, SETTINGS, "reader").current(["bronze_pos_transactions"])
        assert outcomes[lease.holder] == "holds"
        winners.pop().release()  # free for the next round


def test_a_holder_that_lost_its_lease_says_so(
    spark: SparkSession, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ops = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    holder = Leases(spark, ops, LeaseSettings(expire_seconds=10), "paused run")
    holder.acquire(["gold_customer_360"], wait_seconds=0, what="run")
    # Another run took it over while this one was paused beyond the expiry.
    spark.sql(f"UPDATE {ops.ops_table('leases').identifier} SET owner = 'someone else'")
    with caplog.at_level("ERROR", logger="retail_lakehouse.leases"):
        deadline = time.monotonic() + 20
        while "lost the lease of some of gold_customer_360" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.5)
    holder.release()
    assert "lost the lease of some of gold_customer_360: not renewed within 10 s" in caplog.text


def test_a_stopped_holder_on_this_machine_is_taken_over_at_once(spark: SparkSession, tmp_path: Path) -> None:
    ops = StorageSettings(landing=str(tmp_path / "landing"), root=str(tmp_path))
    killed = Leases(spark, ops, SETTINGS, "a stream killed with SIGKILL")
    killed.acquire(["inventory"], wait_seconds=0, what="stream inventory")
    killed._stop.set()
    spark.sql(
        f"UPDATE {ops.ops_table('leases').identifier} SET pid = {dead_pid()}"
    )  # as if another process, since ended
    successor = Leases(spark, ops, SETTINGS, "restarted stream")
    successor.acquire(["inventory"], wait_seconds=0, what="stream inventory")  # no wait for the expiry
    (lease,) = successor.current(["inventory"])
    assert lease.holder == "restarted stream"
    successor.release()


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
