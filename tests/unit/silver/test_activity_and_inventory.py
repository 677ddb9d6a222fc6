"""Loyalty events, competitor prices and the accelerator's inventory feeds on hand-built bronze rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.silver.activity import competitor_prices, loyalty_events
from retail_lakehouse.silver.inventory import inventory_changes, inventory_snapshots
from retail_lakehouse.silver.standardize import SourceFormats
from tests.unit.silver.bronze import bronze_rows, text_columns

MADRID = SourceFormats(source_time_zone="Europe/Madrid")
CHANGES = (
    "trans_id STRING, store_id STRING, date_time STRING, change_type_id STRING, "
    "items ARRAY<STRUCT<item_id: STRING, quantity: STRING>>"
)


def test_loyalty_events_are_typed_in_utc_with_lower_case_types(spark: SparkSession) -> None:
    schema = text_columns("event_id", "customer_id", "event_ts", "event_type", "points", "transaction_id")
    source = bronze_rows(
        spark,
        schema,
        [
            ("L1", "C1", "2025-01-02 00:30:00", " EARN ", "120", "T1"),  # 23:30 UTC the day before
            ("L2", "C1", "2025-01-05 12:00:00", "redeem", "-50", None),
            ("L3", "C2", "not a time", "Earn", "ten", ""),
        ],
    )
    columns = ["event_id", "customer_id", "event_ts", "event_date", "event_type", "points", "transaction_id"]
    result = loyalty_events(source, MADRID).select(*columns)
    expected = spark.createDataFrame(
        [
            ("L1", "C1", datetime(2025, 1, 1, 23, 30), date(2025, 1, 1), "earn", 120, "T1"),
            ("L2", "C1", datetime(2025, 1, 5, 11, 0), date(2025, 1, 5), "redeem", -50, None),
            ("L3", "C2", None, None, "earn", None, None),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_competitor_prices_are_decimal_with_dates(spark: SparkSession) -> None:
    schema = text_columns("product_id", "competitor", "price", "observed_date")
    source = bronze_rows(
        spark, schema, [("100001", " BikeWorld ", "849.9", "2025-01-06"), ("100002", "CycleHub", "n/a", "06/01/2025")]
    )
    result = competitor_prices(source, SourceFormats()).select("product_id", "competitor", "price", "observed_date")
    expected = spark.createDataFrame(
        [("100001", "BikeWorld", Decimal("849.90"), date(2025, 1, 6)), ("100002", "CycleHub", None, None)],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_inventory_changes_have_one_row_per_item_and_keep_an_unparsed_event(spark: SparkSession) -> None:
    source = bronze_rows(
        spark,
        CHANGES,
        [
            ("T1", "30", "2025-01-02 08:00:52", "1", [("100006", "-2"), ("100007", "-1")]),
            ("R1", "30", "2025-01-02 06:00:00", "3", [("100006", "24")]),
            ("X1", "31", "2025-01-02 21:05:00", "2", None),  # no items: one row, for the rules to reject
        ],
        file="file:/landing/inventory/changes/2025-01-02/inventory_changes_2025-01-02.jsonl",
    )
    columns = ["trans_id", "item_id", "store_id", "change_type_id", "quantity", "change_ts", "change_date"]
    result = inventory_changes(source, MADRID).select(*columns, "_delivered_by")
    delivered_by = datetime(2025, 1, 3)  # the end of the arrival-date folder
    expected = spark.createDataFrame(
        [
            ("T1", "100006", "30", 1, -2, datetime(2025, 1, 2, 7, 0, 52), date(2025, 1, 2), delivered_by),
            ("T1", "100007", "30", 1, -1, datetime(2025, 1, 2, 7, 0, 52), date(2025, 1, 2), delivered_by),
            ("R1", "100006", "30", 3, 24, datetime(2025, 1, 2, 5, 0), date(2025, 1, 2), delivered_by),
            ("X1", None, "31", 2, None, datetime(2025, 1, 2, 20, 5), date(2025, 1, 2), delivered_by),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_inventory_snapshots_are_typed_counts(spark: SparkSession) -> None:
    schema = text_columns("item_id", "employee_id", "store_id", "date_time", "quantity")
    source = bronze_rows(
        spark,
        schema,
        [("100006", "9002", "30", "2025-01-02 22:00:00", "17"), ("100007", "9002", "30", "2025-01-02 22:00:00", "")],
    )
    columns = ["store_id", "item_id", "snapshot_ts", "quantity", "employee_id"]
    result = inventory_snapshots(source, MADRID).select(*columns)
    expected = spark.createDataFrame(
        [
            ("30", "100006", datetime(2025, 1, 2, 21, 0), 17, "9002"),
            ("30", "100007", datetime(2025, 1, 2, 21, 0), None, "9002"),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)
