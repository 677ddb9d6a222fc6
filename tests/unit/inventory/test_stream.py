"""The inventory stream on a hand-written event sequence (tests/fixtures/inventory_stream), arriving in
three rounds: snapshots, deltas before and after them, a newer snapshot arriving late, an older one, a
late delta, repeated deliveries, BOPIS in store and online, a malformed record, both feeds.

Expected positions are worked out by hand in the comments below."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.inventory.positions import batch_computation, typed_items
from retail_lakehouse.io.delta_tables import current_version
from retail_lakehouse.ops.run_history import SKIPPED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.summary import summary_lines
from tests.conftest import FIXTURES, REPO_ROOT

SEQUENCE = FIXTURES / "inventory_stream"
POSITIONS = "gold/inventory_positions"
ALERTS = "gold/inventory_alerts"
EVENTS = "silver/inventory_events"
SAFETY, REORDER = "safety_stock", "reorder_point"
POSITION_FIELDS = ("store_id", "product_id", "quantity_on_hand", "snapshot_quantity", "snapshot_ts", "last_change_ts")


def at(hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2025-01-01 {hhmm}:00")


def configured(tmp_path: Path, sales_feed: str) -> LoadedConfig:
    environ = {
        "LAKEHOUSE_ROOT": str(tmp_path / "lake"),
        "LAKEHOUSE_LANDING": str(tmp_path / "landing"),
        "LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "unused-here",
    }
    return load_config(
        transforms=catalogue(),
        conf_dir=REPO_ROOT / "conf",
        set_overrides=[f"jobs.inventory.params.sales_feed={sales_feed}"],
        environ=environ,
    )


def arrive(tmp_path: Path, *rounds: str) -> None:
    for name in rounds:
        shutil.copytree(SEQUENCE / name, tmp_path / "landing", dirs_exist_ok=True)


def positions(spark: SparkSession, loaded: LoadedConfig) -> set[tuple[object, ...]]:
    table = spark.read.format("delta").load(loaded.config.storage.table_path(POSITIONS))
    return {tuple(row) for row in table.select(*POSITION_FIELDS, "below_safety_stock").collect()}


def alerts(spark: SparkSession, loaded: LoadedConfig) -> list[tuple[object, ...]]:
    path = loaded.config.storage.table_path(ALERTS)
    if current_version(spark, TableRef(path)) is None:  # created with the first alert
        return []
    table = spark.read.format("delta").load(path)
    fields = ("store_id", "product_id", "quantity_on_hand", "threshold", "alert_ts", "alert_type")
    return sorted(tuple(row) for row in table.select(*fields).collect())


def run_stream(
    spark: SparkSession, loaded: LoadedConfig, *, force: bool = False
) -> tuple[int | None, int | None, int | None, int | None]:
    run = JobRunner(spark, loaded).run("inventory", force=force)
    assert run.status == SUCCEEDED, run.error
    return run.rows_read, run.rows_written, run.rows_quarantined, run.duplicates_dropped


def test_pos_supplies_sales_rounds_in_order_late_snapshot_and_late_delta(spark: SparkSession, tmp_path: Path) -> None:
    loaded = configured(tmp_path, "pos")

    arrive(tmp_path, "round1")
    # IoT: R1 2 items, X1, B1, B1-ONLINE, T1 2 items, R1 again 2, Q1 (change type 9) = 10 rows; counts 2;
    # POS: T1 2 lines, T1 again 2, T2, T9 (cut off) = 6. Quarantined Q1 and T9; duplicates R1's and T1's.
    assert run_stream(spark, loaded) == (18, 12, 2, 4)
    assert positions(spark, loaded) == {
        # count 20 at 08:00; X1 (07:00) is older and ignored; +5 restock, -3 POS sale, +1 POS return;
        # the IoT feed's own sale event for T1 is not counted (POS supplies sales)
        ("1", "101", 23, 20, at("08:00"), at("12:00"), False),
        # count 10; -2 BOPIS picked up in store 1, -1 POS sale; BOPIS recorded at the online store left out
        ("1", "102", 7, 10, at("08:00"), at("11:00"), False),
        ("1", "103", 4, None, None, at("09:00"), False),  # no count yet: the deltas alone
    }
    # reorder points (round1/inventory/reorder_point): 101 at 15, 102 at 8, 104 at 12; 102 is first seen at
    # 7, below its reorder point: that is a fall below it
    assert alerts(spark, loaded) == [("1", "102", 7, 8, at("11:00"), REORDER)]

    arrive(tmp_path, "round2")
    # counts S3 and S4, X2, X3, R1 again (2 rows, seen in round 1), T3, T4
    assert run_stream(spark, loaded) == (8, 6, 0, 2)
    assert positions(spark, loaded) == {
        # newer count 15 at 10:30 arrives late: resets, and re-counts deltas already seen from 10:30 on
        # (-3 at 11:00, +1 at 12:00); X2 at 10:00 is older than it and ignored
        ("1", "101", 13, 15, at("10:30"), at("12:00"), False),
        # the count of 07:00 (50) is older than 08:00's and changes nothing; late shrink X3 (09:00) -5 and
        # POS T4 -1: 7 - 6 = 1, below safety stock 3
        ("1", "102", 1, 10, at("08:00"), at("13:30"), True),
        ("1", "103", 4, None, None, at("09:00"), False),
        ("1", "104", -2, None, None, at("13:00"), True),
    }
    assert alerts(spark, loaded) == [
        ("1", "101", 13, 15, at("12:00"), REORDER),  # 23 -> 13, below 15
        ("1", "102", 1, 3, at("13:30"), SAFETY),  # already below its reorder point: no second one of those
        ("1", "102", 7, 8, at("11:00"), REORDER),
        ("1", "104", -2, 10, at("13:00"), SAFETY),  # a new position below both thresholds
        ("1", "104", -2, 12, at("13:00"), REORDER),
    ]

    arrive(tmp_path, "round3")
    assert run_stream(spark, loaded) == (1, 1, 0, 0)
    assert ("1", "102", 0, 10, at("08:00"), at("14:00"), True) in positions(spark, loaded)
    # still below: no second alert for the same fall
    assert len(alerts(spark, loaded)) == 5

    # T1's card number is in no table the stream writes, masked to its last four digits where a raw record is kept.
    root = Path(loaded.config.storage.root)
    for table in sorted(p for layer in ("silver", "gold") for p in (root / layer).iterdir()):
        text = " ".join(str(row) for row in spark.read.format("delta").load(str(table)).collect())
        assert "4111111111111111" not in text, table
    events = spark.read.format("delta").load(loaded.config.storage.table_path(EVENTS))
    assert events.where("raw_record LIKE '%************1111%'").count() == 2  # T1's two lines

    # Nothing new: the stream, run all the same (else it is skipped), reads nothing; no table gets a version.
    tables = (POSITIONS, ALERTS, EVENTS)
    versions = [current_version(spark, TableRef(loaded.config.storage.table_path(t))) for t in tables]
    assert JobRunner(spark, loaded).run("inventory").status == SKIPPED
    assert run_stream(spark, loaded, force=True) == (0, 0, 0, 0)
    assert [current_version(spark, TableRef(loaded.config.storage.table_path(t))) for t in tables] == versions

    # The summary's inventory sections, from the tables above.
    lines = summary_lines(spark, loaded.config)
    start = lines.index("Inventory positions (gold/inventory_positions):")
    assert lines[start:] == [
        "Inventory positions (gold/inventory_positions):",
        "  4 store x item positions, 15 units on hand, 2 below safety stock; lowest:",
        "    store    1 item      104 on hand     -2 (safety 10, counted None at None)",
        "    store    1 item      102 on hand      0 (safety 3, counted 10 at 2025-01-01 08:00:00)",
        "Inventory alerts (gold/inventory_alerts):",
        "  falls: 3 below reorder point, 2 below safety stock; latest:",
        "    2025-01-01 13:30:00 store    1 item      102 on hand 1 < 3 (safety stock)",
        "    2025-01-01 13:00:00 store    1 item      104 on hand -2 < 12 (reorder point)",
        "    2025-01-01 13:00:00 store    1 item      104 on hand -2 < 10 (safety stock)",
        "    2025-01-01 12:00:00 store    1 item      101 on hand 13 < 15 (reorder point)",
        "    2025-01-01 11:00:00 store    1 item      102 on hand 7 < 8 (reorder point)",
        "Demand forecast accuracy in the backtest (gold/forecast_accuracy):",
        "  not built yet: run `lakehouse pipeline forecast`",
    ]

    # The stream's positions equal the rule computed over its whole ledger at once.
    ledger = spark.read.format("delta").load(loaded.config.storage.table_path(EVENTS)).where("counted")
    items = typed_items(spark.read.csv(str(SEQUENCE / "round1/inventory/item"), header=True, recursiveFileLookup=True))
    table = spark.read.format("delta").load(loaded.config.storage.table_path(POSITIONS))
    assert_df_equality(
        table.drop("updated_at"), batch_computation(ledger, items), ignore_row_order=True, ignore_nullable=True
    )


def test_iot_supplies_sales_all_rounds_in_one_batch(spark: SparkSession, tmp_path: Path) -> None:
    loaded = configured(tmp_path, "iot")
    arrive(tmp_path, "round1", "round2", "round3")
    # POS is not read: IoT 10 + 4 rows, counts 4; quarantined Q1; duplicates R1 twice (2 rows each)
    assert run_stream(spark, loaded) == (18, 13, 1, 4)
    assert positions(spark, loaded) == {
        # latest count 15 at 10:30; the IoT sale at 11:00 -3
        ("1", "101", 12, 15, at("10:30"), at("11:00"), False),
        # count 10 at 08:00: BOPIS -2 in store, sale -1, shrink X3 -5
        ("1", "102", 2, 10, at("08:00"), at("11:00"), True),
        ("1", "103", 4, None, None, at("09:00"), False),
    }
    assert alerts(spark, loaded) == [
        ("1", "101", 12, 15, at("11:00"), REORDER),
        ("1", "102", 2, 3, at("11:00"), SAFETY),
        ("1", "102", 2, 8, at("11:00"), REORDER),
    ]
    quarantine = spark.read.format("delta").load(loaded.config.storage.table_path(EVENTS + "_quarantine"))
    assert [(r.event_id, r.rules_broken) for r in quarantine.collect()] == [("Q1", ["change_type_known"])]
