"""Inventory in the POS inventory accelerator's formats: change events exploded to one row per item, and
snapshots (counts) with their full history; the latest snapshot per store and item is a merge of these."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.registry import TransformSpec, of_source_with
from retail_lakehouse.silver.dimensions import TimeZoneParams
from retail_lakehouse.silver.standardize import identifier, integer, typed_rows, utc_timestamp


def inventory_changes(source: DataFrame, params: TimeZoneParams) -> DataFrame:
    """One row per item of each change event (an event that did not parse keeps one row, for quarantine)."""
    exploded = source.withColumn("_item", F.explode_outer("items"))
    change_ts = utc_timestamp("date_time", params.source_time_zone)
    return typed_rows(
        exploded,
        {
            "trans_id": identifier("trans_id"),
            "item_id": identifier("_item.item_id"),
            "store_id": identifier("store_id"),
            "change_type_id": integer("change_type_id"),
            "quantity": integer("_item.quantity"),
            "change_ts": change_ts,
            "change_date": F.to_date(change_ts),
        },
    )


def inventory_snapshots(source: DataFrame, params: TimeZoneParams) -> DataFrame:
    return typed_rows(
        source,
        {
            "store_id": identifier("store_id"),
            "item_id": identifier("item_id"),
            "snapshot_ts": utc_timestamp("date_time", params.source_time_zone),
            "quantity": integer("quantity"),
            "employee_id": identifier("employee_id"),
        },
    )


SILVER_INVENTORY_CHANGES = TransformSpec(
    name="silver.inventory_changes",
    description="IoT change events -> one typed row per item (trans_id, item_id)",
    inputs=("source",),
    apply=of_source_with(inventory_changes, TimeZoneParams),
    params_model=TimeZoneParams,
)
SILVER_INVENTORY_SNAPSHOTS = TransformSpec(
    name="silver.inventory_snapshots",
    description="inventory counts -> typed snapshots",
    inputs=("source",),
    apply=of_source_with(inventory_snapshots, TimeZoneParams),
    params_model=TimeZoneParams,
)
