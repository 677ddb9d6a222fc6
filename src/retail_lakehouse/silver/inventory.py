"""Inventory in the POS inventory accelerator's formats: change events exploded to one row per item, and
snapshots (counts) with their full history; the latest snapshot per store and item is a merge of these."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import HELPER_PREFIX
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.silver.standardize import SourceFormats, identifier, typed_integer, typed_rows


@transform(
    "silver.inventory_changes",
    description="IoT change events -> one typed row per item (trans_id, item_id)",
    helper_prefix=HELPER_PREFIX,
)
def inventory_changes(source: DataFrame, params: SourceFormats) -> DataFrame:
    """One row per item of each change event (an event that did not parse keeps one row, for quarantine)."""
    exploded = source.withColumn("_item", F.explode_outer("items"))
    change_ts = params.timestamp("change_ts", "date_time")
    return typed_rows(
        exploded,
        {
            "trans_id": identifier("trans_id"),
            "item_id": identifier("_item.item_id"),
            "store_id": identifier("store_id"),
            "change_type_id": typed_integer("change_type_id"),
            "quantity": typed_integer("_item.quantity"),
            "change_ts": change_ts,
            "change_date": F.to_date(change_ts.value),
        },
        params,
    )


@transform(
    "silver.inventory_snapshots",
    description="inventory counts -> typed snapshots",
    helper_prefix=HELPER_PREFIX,
)
def inventory_snapshots(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "store_id": identifier("store_id"),
            "item_id": identifier("item_id"),
            "snapshot_ts": params.timestamp("snapshot_ts", "date_time"),
            "quantity": typed_integer("quantity"),
            "employee_id": identifier("employee_id"),
        },
        params,
    )
