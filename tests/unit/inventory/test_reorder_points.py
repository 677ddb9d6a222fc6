"""gold.inventory_reorder_points: the reorder-point feed typed as the inventory stream types it."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.inventory.reorder_points import inventory_reorder_points


def test_one_row_per_store_and_item_with_the_largest_point_and_no_unidentified_rows(spark: SparkSession) -> None:
    bronze = spark.createDataFrame(
        [
            ("1", "100001", "16", "f1.csv"),
            ("1", "100001", "20", "f2.csv"),  # listed twice: the larger point holds
            (" 2 ", "100002", "7", "f1.csv"),  # identifiers are trimmed
            ("2", "100003", "seven", "f1.csv"),  # not a number: no point, the position is still listed
            (None, "100004", "5", "f1.csv"),  # no store: nothing to attach it to
        ],
        "store_id string, item_id string, reorder_point_quantity string, _source string",
    )
    expected = spark.createDataFrame(
        [("1", "100001", 20), ("2", "100002", 7), ("2", "100003", None)],
        "store_id string, product_id string, reorder_point_quantity int",
    )
    assert_df_equality(inventory_reorder_points(bronze), expected, ignore_row_order=True, ignore_nullable=True)
