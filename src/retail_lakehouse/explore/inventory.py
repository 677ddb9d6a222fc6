"""Inventory positions with their reorder points, as the dashboard's live inventory page defines them
(`serve.inventory.STATUS`, one SQL statement that DuckDB and Spark both run): below safety stock or below
the reorder point, the shortfall, and the order that would restore the position."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.explore.tables import Lakehouse
from retail_lakehouse.serve.inventory import POSITION_TABLES, STATUS


def inventory_status(lakehouse: Lakehouse) -> DataFrame:
    """Every position with its reorder point, below_safety_stock, below_reorder_point, shortfall, basis and
    order_quantity."""
    for table in POSITION_TABLES:
        # The statement names each table by its short name, as the dashboard's DuckDB views are called.
        lakehouse.table(table).createOrReplaceTempView(table.split("/", 1)[1])
    return lakehouse.spark.sql(STATUS.sql)


def short_positions(status: DataFrame) -> DataFrame:
    """Positions below either threshold, the largest shortfall first."""
    return status.where(F.col("below_safety_stock") | F.col("below_reorder_point")).orderBy(
        F.desc("shortfall"), "store_id", "product_id"
    )


def stock_by_store(status: DataFrame) -> DataFrame:
    return (
        status.groupBy("store_id")
        .agg(
            F.count("*").alias("positions"),
            F.sum("quantity_on_hand").alias("quantity_on_hand"),
            F.count_if(F.col("below_safety_stock")).alias("below_safety_stock"),
            F.count_if(F.col("below_reorder_point")).alias("below_reorder_point"),
            F.max("last_change_ts").alias("last_change_ts"),
        )
        .orderBy("store_id")
    )
