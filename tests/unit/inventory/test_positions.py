"""`position_updates` for a batch of deltas alone: without earlier deltas to re-count (None) it gives the
rows worked out by hand, and the same rows as the general plan given an empty ledger."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.inventory.positions import position_updates

EVENTS = "store_id STRING, product_id STRING, change_type STRING, quantity INT, event_ts TIMESTAMP"
POSITIONS = (
    "store_id STRING, product_id STRING, quantity_on_hand BIGINT, snapshot_quantity INT, snapshot_ts TIMESTAMP, "
    "last_change_ts TIMESTAMP, safety_stock_quantity INT, below_safety_stock BOOLEAN, updated_at TIMESTAMP"
)
NOW = dt.datetime(2025, 1, 2, 12, 0)


def at(hour: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2025, 1, day, hour, 0)


def inputs(spark: SparkSession) -> tuple[DataFrame, DataFrame, DataFrame]:
    batch = spark.createDataFrame(
        [
            ("S1", "P1", "sale", -3, at(9)),
            ("S1", "P1", "shrink", -4, at(7)),  # older than the position's count: ignored
            ("S1", "P1", "restock", 2, at(10)),
            ("S2", "P2", "restock", 6, at(10)),  # a position seen for the first time
        ],
        EVENTS,
    )
    current = spark.createDataFrame(
        [
            ("S1", "P1", 10, 10, at(8), at(8), 5, False, at(8)),
            ("S3", "P3", 4, 4, at(8), at(8), 1, False, at(8)),  # not in the batch: not updated
        ],
        POSITIONS,
    )
    items = spark.createDataFrame([("P1", 8), ("P2", 2), ("P3", 1)], "item_id STRING, safety_stock_quantity INT")
    return batch, current, items


def test_a_batch_of_deltas_alone_gives_the_hand_worked_rows(spark: SparkSession) -> None:
    batch, current, items = inputs(spark)
    updates = position_updates(batch, current, None, items, F.lit(NOW))
    expected = spark.createDataFrame(
        [
            # 10 counted at 8:00, then -3 at 9:00 and +2 at 10:00: 9, not below the item's safety stock of 8.
            ("S1", "P1", 9, 10, at(8), at(10), 8, False, NOW, 10),
            ("S2", "P2", 6, None, None, at(10), 2, False, NOW, None),
        ],
        "store_id STRING, product_id STRING, quantity_on_hand BIGINT, snapshot_quantity INT, snapshot_ts TIMESTAMP, "
        "last_change_ts TIMESTAMP, safety_stock_quantity INT, below_safety_stock BOOLEAN, updated_at TIMESTAMP, "
        "previous_quantity_on_hand BIGINT",
    )
    assert_df_equality(updates, expected, ignore_row_order=True, ignore_nullable=True)


def test_no_earlier_deltas_equals_the_general_plan_over_an_empty_ledger(spark: SparkSession) -> None:
    batch, current, items = inputs(spark)
    empty_ledger = batch.limit(0)
    general = position_updates(batch, current, empty_ledger, items, F.lit(NOW))
    deltas_alone = position_updates(batch, current, None, items, F.lit(NOW))
    assert_df_equality(deltas_alone, general, ignore_row_order=True, ignore_nullable=True)
