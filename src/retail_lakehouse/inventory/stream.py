"""The inventory stream's declaration: the job's input streams as one event stream, written one
micro-batch at a time into the positions, the ledger, its quarantine and the alerts.

A sale is counted once: with `sales_feed: pos` (the default) POS lines supply sales and returns and the IoT
feed restock, shrink and BOPIS; with `sales_feed: iot` (a deployment whose IoT feed carries sales, as the
accelerator's does) the IoT feed supplies every change and POS is not read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import reduce

from pyspark.sql import DataFrame

from retail_lakehouse.core.columns import QUARANTINE_SUFFIX
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.inventory.events import POS, iot_events, pos_events, snapshot_events, with_broken_rules
from retail_lakehouse.inventory.micro_batch import write_inventory_batch
from retail_lakehouse.inventory.params import InventoryParams


def check_inventory_job(
    params: InventoryParams, inputs: Mapping[str, str], tables: set[str]
) -> tuple[str, tuple[str, ...]] | None:
    """What the parameters imply: POS read when it supplies sales, and the tables the job writes declared."""
    if params.sales_feed == POS and "pos" not in inputs:
        return "sales_feed pos reads POS transactions: add input pos (feed:pos_transactions)", ("inputs",)
    for key, table in (
        ("events_table", params.events_table),
        ("events_table", params.events_table + QUARANTINE_SUFFIX),
        ("alerts_table", params.alerts_table),
    ):
        if table not in tables:
            return f"table '{table}' is not declared under tables", ("params", key)
    return None


def pos_when_it_supplies_sales(params: InventoryParams) -> Collection[str]:
    return ("pos",) if params.sales_feed == POS else ()


@transform(
    "gold.inventory_positions",
    description="IoT and POS deltas and counts -> inventory positions and alerts, one merge per micro-batch",
    merge_batch=write_inventory_batch,
    reference_inputs=("items",),
    optional_reference_inputs=("reorder_points",),
    optional_inputs_used=pos_when_it_supplies_sales,
    check_job=check_inventory_job,
)
def inventory_events(
    changes: DataFrame, snapshots: DataFrame, params: InventoryParams, pos: DataFrame | None = None
) -> DataFrame:
    """The job's streams (IoT changes, snapshots, and POS when it supplies sales) as one event stream, each
    event with the rules it breaks."""
    tz = params.source_time_zone
    parts = [iot_events(changes, tz), snapshot_events(snapshots, tz)]
    if pos is not None:
        parts.append(pos_events(pos, tz))
    return with_broken_rules(reduce(lambda a, b: a.unionByName(b), parts))
