"""The inventory stream reading IoT changes and POS transactions from a real Apache Kafka broker (KRaft,
started here from the jars `make setup` fetched), fed by `lakehouse replay` with a real producer client.
The IoT feed is published twice: every message is delivered again, as a broker may."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.ops.run_history import SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runtime.kafka_broker import LocalKafkaBroker
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Workspace
from tests.unit.inventory.test_stream import REORDER, SAFETY, alerts, arrive, at, positions


@pytest.fixture(scope="module")
def kafka_broker() -> Iterator[LocalKafkaBroker]:
    with LocalKafkaBroker() as broker:
        yield broker


def test_sequence_through_kafka_with_repeated_deliveries(
    spark: SparkSession, tmp_path: Path, workspace: Workspace, kafka_broker: LocalKafkaBroker
) -> None:
    arrive(workspace.landing.parent, "round1", "round2", "round3")  # counts and items stay files
    suffix = uuid.uuid4().hex[:8]
    overrides = ["jobs.inventory.params.sales_feed=pos"]
    for feed in ("inventory_changes", "pos_transactions"):
        overrides += [
            f"feeds.{feed}.kafka.bootstrap_servers={kafka_broker.bootstrap_servers}",
            f"feeds.{feed}.kafka.topic={feed}-{suffix}",
        ]
    set_args = [arg for override in overrides for arg in ("--set", override)]

    for feed, times in (("inventory_changes", 2), ("pos_transactions", 1)):
        for _ in range(times):
            result = workspace.run("replay", feed, "--rate", "500", *set_args)
            assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"pos_transactions: published 7 records to pos_transactions-{suffix}")

    environ = {**workspace.env, "LAKEHOUSE_CONF_DIR": str(REPO_ROOT / "conf")}
    loaded = load_config(transforms=catalogue(), conf_dir=REPO_ROOT / "conf", set_overrides=overrides, environ=environ)
    run = JobRunner(spark, loaded).run("inventory")
    assert run.status == SUCCEEDED, run.error
    # IoT 14 rows twice, POS 9, counts 4 = 41; quarantined Q1 twice and T9; 9 IoT, 6 POS and 4 counts new
    assert (run.rows_read, run.rows_written, run.rows_quarantined, run.duplicates_dropped) == (41, 19, 3, 19)
    assert positions(spark, loaded) == {
        ("1", "101", 13, 15, at("10:30"), at("12:00"), False),
        ("1", "102", 0, 10, at("08:00"), at("14:00"), True),
        ("1", "103", 4, None, None, at("09:00"), False),
        ("1", "104", -2, None, None, at("13:00"), True),
    }
    assert alerts(spark, loaded) == [
        ("1", "101", 13, 15, at("12:00"), REORDER),
        ("1", "102", 0, 3, at("14:00"), SAFETY),
        ("1", "102", 0, 8, at("14:00"), REORDER),
        ("1", "104", -2, 10, at("13:00"), SAFETY),
        ("1", "104", -2, 12, at("13:00"), REORDER),
    ]

    ledger = spark.read.format("delta").load(loaded.config.storage.table_path("silver/inventory_events"))
    sources = {row.source.split("/")[0] for row in ledger.where("feed != 'snapshot'").select("source").collect()}
    assert sources == {f"kafka:inventory_changes-{suffix}", f"kafka:pos_transactions-{suffix}"}

    # Published again: every message is a repeat, and nothing changes.
    result = workspace.run("replay", "inventory_changes", *set_args)
    assert result.returncode == 0, result.stderr
    again = JobRunner(spark, loaded).run("inventory")
    assert (again.rows_read, again.rows_written, again.rows_quarantined, again.duplicates_dropped) == (14, 0, 1, 13)
