"""Inventory positions from POS and IoT deltas and store counts: the pure parts of the inventory stream.

Every source becomes one event shape (feed, event_id, store_id, product_id, change_type, quantity,
event_ts). A delta's quantity is signed (a sale is negative); a snapshot's is the counted stock.
The rule (the accelerator's): quantity on hand = the latest snapshot's quantity + the signed deltas with
event time at or after that snapshot's time; BOPIS events at the online store are left out.

A sale is counted once: with `sales_feed: pos` (the default) POS lines supply sales and returns and the IoT
feed restock, shrink and BOPIS; with `sales_feed: iot` (a deployment whose IoT feed carries sales, as the
accelerator's does) the IoT feed supplies every change and POS is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from retail_lakehouse.columns import SOURCE
from retail_lakehouse.quality.quarantine import mask_card_numbers
from retail_lakehouse.registry import TransformContext
from retail_lakehouse.silver.standardize import identifier, integer, raw_record, source_columns, utc_timestamp

IOT, POS, SNAPSHOT = "iot", "pos", "snapshot"
SNAPSHOT_TYPE = "snapshot"
IOT_CHANGE_TYPES = {1: "sale", 2: "shrink", 3: "restock", 4: "bopis"}
EVENT_KEY = ("feed", "event_id", "store_id", "product_id")
POSITION_KEY = ("store_id", "product_id")
BROKEN_RULES = "broken_rules"
EVENT_COLUMNS = (
    "feed",
    "event_id",
    "store_id",
    "product_id",
    "change_type",
    "quantity",
    "event_ts",
    "event_date",
    "raw_record",
    "source",
)
POSITION_COLUMNS = (
    "store_id",
    "product_id",
    "quantity_on_hand",
    "snapshot_quantity",
    "snapshot_ts",
    "last_change_ts",
    "safety_stock_quantity",
    "below_safety_stock",
    "updated_at",
)


class InventoryParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sales_feed: Literal["pos", "iot"] = Field(
        "pos",
        description="Which feed supplies sales: pos (POS lines; the IoT feed gives restock, shrink, BOPIS) or "
        "iot (the IoT feed carries sales too, as the accelerator's does; POS is not read).",
    )
    online_store_id: str = Field("0", description="The online store: its BOPIS events are left out.")
    source_time_zone: str = Field("UTC", description="Time zone of the feeds' local timestamps.")
    events_table: str = Field(
        "silver/inventory_events",
        description="Every accepted event (deduplicated), the ledger a newer snapshot re-counts deltas from; "
        "rejected events go to <events_table>_quarantine.",
    )
    alerts_table: str = Field(
        "gold/inventory_alerts", description="One row per fall below safety stock or below the reorder point."
    )


# --- parsing: each feed's records to events (pure; works on a stream or a batch) ---------------------------


def _event(
    feed: str,
    event_id: Column,
    store_id: Column,
    product_id: Column,
    change_type: Column,
    quantity: Column,
    event_ts: Column,
    raw: Column,
) -> list[Column]:
    return [
        F.lit(feed).alias("feed"),
        event_id.alias("event_id"),
        store_id.alias("store_id"),
        product_id.alias("product_id"),
        change_type.alias("change_type"),
        quantity.alias("quantity"),
        event_ts.alias("event_ts"),
        F.to_date(event_ts).alias("event_date"),
        raw.alias("raw_record"),
        F.col(SOURCE).alias("source"),
    ]


def iot_events(changes: DataFrame, source_time_zone: str) -> DataFrame:
    """Accelerator change events, one row per item (a record that did not parse keeps one row)."""
    raw = raw_record(source_columns(changes))
    type_id = integer("change_type_id")
    change_type = reduce(
        lambda chosen, item: chosen.when(type_id == item[0], F.lit(item[1])),
        list(IOT_CHANGE_TYPES.items())[1:],
        F.when(type_id == next(iter(IOT_CHANGE_TYPES)), F.lit(IOT_CHANGE_TYPES[1])),
    )
    exploded = changes.withColumn("_raw", raw).withColumn("_item", F.explode_outer("items"))
    return exploded.select(
        *_event(
            IOT,
            identifier("trans_id"),
            identifier("store_id"),
            identifier("_item.item_id"),
            change_type,
            integer("_item.quantity"),
            utc_timestamp("date_time", source_time_zone),
            F.col("_raw"),
        )
    )


def pos_events(transactions: DataFrame, source_time_zone: str) -> DataFrame:
    """POS lines as deltas: a sale takes the quantity off the store's stock, a return (negative quantity)
    puts it back. The event id names the line, so two lines of one product are two events."""
    # The ledger and its quarantine keep each event's raw record: a card number must not reach them (PCI DSS).
    raw = mask_card_numbers(raw_record(source_columns(transactions)))
    exploded = transactions.withColumn("_raw", raw).withColumn("_line", F.explode_outer("lines"))
    sold = integer("_line.quantity")
    return exploded.select(
        *_event(
            POS,
            F.concat_ws(":", identifier("transaction_id"), identifier("_line.line_number")),
            identifier("store_id"),
            identifier("_line.product_id"),
            F.when(sold > 0, F.lit("sale")).when(sold < 0, F.lit("return")),
            -sold,
            utc_timestamp("timestamp", source_time_zone),
            F.col("_raw"),
        )
    )


def snapshot_events(snapshots: DataFrame, source_time_zone: str) -> DataFrame:
    """Counts: the quantity is the stock counted at that time. One count per store, item and time."""
    counted_at = utc_timestamp("date_time", source_time_zone)
    return snapshots.select(
        *_event(
            SNAPSHOT,
            F.date_format(counted_at, "yyyy-MM-dd'T'HH:mm:ss"),
            identifier("store_id"),
            identifier("item_id"),
            F.lit(SNAPSHOT_TYPE),
            integer("quantity"),
            counted_at,
            raw_record(source_columns(snapshots)),
        )
    )


def with_broken_rules(events: DataFrame) -> DataFrame:
    """The names of the rules each event breaks (empty when it is valid)."""
    rules = {
        "event_id_present": F.col("event_id").isNotNull() & (F.col("event_id") != ""),
        "store_id_present": F.col("store_id").isNotNull(),
        "product_id_present": F.col("product_id").isNotNull(),
        "event_ts_valid": F.col("event_ts").isNotNull(),
        "quantity_numeric": F.col("quantity").isNotNull(),
        "change_type_known": F.col("change_type").isNotNull(),
        "snapshot_not_negative": ~F.col("change_type").eqNullSafe(SNAPSHOT_TYPE) | (F.col("quantity") >= 0),
    }
    broken = [F.when(~F.coalesce(check, F.lit(False)), F.lit(name)) for name, check in rules.items()]
    return events.withColumn(BROKEN_RULES, F.filter(F.array(*broken), lambda name: name.isNotNull()))


def inventory_events(inputs: Mapping[str, DataFrame], context: TransformContext) -> DataFrame:
    """The job's streams (IoT changes, snapshots, and POS when it supplies sales) as one event stream."""
    params = context.params
    assert isinstance(params, InventoryParams)
    tz = params.source_time_zone
    parts = [iot_events(inputs["changes"], tz), snapshot_events(inputs["snapshots"], tz)]
    if params.sales_feed == POS:
        parts.append(pos_events(inputs["pos"], tz))
    events = reduce(lambda a, b: a.unionByName(b), parts)
    return with_broken_rules(events)


def counted(params: InventoryParams) -> Column:
    """Whether an accepted event moves the position: a sale comes from one feed only, BOPIS at the online
    store is left out (the pickup store's event takes the stock)."""
    change_type, feed = F.col("change_type"), F.col("feed")
    online_bopis = (change_type == "bopis") & (F.col("store_id") == params.online_store_id)
    if params.sales_feed == IOT:
        from_its_feed = feed.isin(IOT, SNAPSHOT)
    else:
        from_its_feed = (feed == POS) | (feed == SNAPSHOT) | ((feed == IOT) & (change_type != "sale"))
    return from_its_feed & ~online_bopis


# --- one micro-batch: new positions and alerts (pure) ----------------------------------------------------


def latest_snapshots(events: DataFrame) -> DataFrame:
    """Per position, the batch's latest count (the larger quantity when two counts share a time)."""
    latest = F.max_by(F.struct("quantity"), F.struct("event_ts", "quantity"))
    return (
        events.where(F.col("change_type") == SNAPSHOT_TYPE)
        .groupBy(*POSITION_KEY)
        .agg(F.max("event_ts").alias("batch_snapshot_ts"), latest["quantity"].alias("batch_snapshot_quantity"))
    )


def _delta_sum(deltas: DataFrame, bases: DataFrame, base_ts: str, prefix: str) -> DataFrame:
    """Sum and latest time of the deltas at or after each position's base time (all when it has none)."""
    joined = deltas.join(bases, list(POSITION_KEY))
    kept = joined.where(F.col(base_ts).isNull() | (F.col("event_ts") >= F.col(base_ts)))
    return kept.groupBy(*POSITION_KEY).agg(
        F.sum("quantity").alias(f"{prefix}_sum"), F.max("event_ts").alias(f"{prefix}_last_ts")
    )


def position_updates(
    batch: DataFrame, current: DataFrame, earlier_deltas: DataFrame, items: DataFrame, now: Column
) -> DataFrame:
    """The new rows of the positions a micro-batch changes.

    `batch`: the batch's accepted, counted events. `current`: the positions table. `earlier_deltas`: the
    counted deltas of earlier batches (only read for positions the batch gives a newer snapshot, and only
    from that snapshot's date on). `items`: item_id, safety_stock_quantity.
    A newer snapshot resets the position and re-counts the deltas already seen at or after its time; an
    older snapshot changes nothing; a delta older than the position's snapshot is ignored.
    """
    keys = batch.select(*POSITION_KEY).distinct()
    snaps = latest_snapshots(batch)
    state = (
        keys.join(current.select(*POSITION_COLUMNS), list(POSITION_KEY), "left")
        .join(snaps, list(POSITION_KEY), "left")
        .withColumn(
            "new_snapshot",
            F.col("batch_snapshot_ts").isNotNull()
            & (F.col("snapshot_ts").isNull() | (F.col("batch_snapshot_ts") > F.col("snapshot_ts"))),
        )
        .withColumn(
            "base_ts", F.when(F.col("new_snapshot"), F.col("batch_snapshot_ts")).otherwise(F.col("snapshot_ts"))
        )
    )
    deltas = batch.where(F.col("change_type") != SNAPSHOT_TYPE)
    bases = state.select(*POSITION_KEY, "base_ts")
    in_batch = _delta_sum(deltas, bases, "base_ts", "batch")
    reset = state.where("new_snapshot").select(*POSITION_KEY, F.col("base_ts").alias("reset_ts"))
    earlier = _delta_sum(earlier_deltas, reset, "reset_ts", "earlier")
    batch_sum = F.coalesce(F.col("batch_sum"), F.lit(0))
    earlier_sum = F.coalesce(F.col("earlier_sum"), F.lit(0))
    new_snapshot = F.col("new_snapshot")
    quantity = F.when(new_snapshot, F.col("batch_snapshot_quantity") + earlier_sum + batch_sum).otherwise(
        F.coalesce(F.col("quantity_on_hand"), F.lit(0)) + batch_sum
    )
    last_change = F.when(new_snapshot, F.greatest("batch_snapshot_ts", "earlier_last_ts", "batch_last_ts")).otherwise(
        F.greatest("last_change_ts", "batch_last_ts")
    )
    safety = items.select(
        F.col("item_id").alias("product_id"), F.col("safety_stock_quantity").alias("item_safety_stock")
    )
    updated = (
        state.join(in_batch, list(POSITION_KEY), "left")
        .join(earlier, list(POSITION_KEY), "left")
        .join(F.broadcast(safety), "product_id", "left")
        .select(
            *POSITION_KEY,
            quantity.cast("long").alias("new_quantity_on_hand"),
            F.when(new_snapshot, F.col("batch_snapshot_quantity"))
            .otherwise(F.col("snapshot_quantity"))
            .alias("new_snapshot_quantity"),
            F.col("base_ts").alias("new_snapshot_ts"),
            last_change.alias("new_last_change_ts"),
            F.col("item_safety_stock").alias("new_safety_stock_quantity"),
            F.col("quantity_on_hand").alias("previous_quantity_on_hand"),
            F.col("snapshot_ts").alias("previous_snapshot_ts"),
            F.col("last_change_ts").alias("previous_last_change_ts"),
            F.col("safety_stock_quantity").alias("previous_safety_stock_quantity"),
        )
    )
    changed = (
        F.col("previous_quantity_on_hand").isNull()
        | ~F.col("new_quantity_on_hand").eqNullSafe(F.col("previous_quantity_on_hand"))
        | ~F.col("new_snapshot_ts").eqNullSafe(F.col("previous_snapshot_ts"))
        | ~F.col("new_last_change_ts").eqNullSafe(F.col("previous_last_change_ts"))
        | ~F.col("new_safety_stock_quantity").eqNullSafe(F.col("previous_safety_stock_quantity"))
    )
    return updated.where(changed).select(
        *POSITION_KEY,
        F.col("new_quantity_on_hand").alias("quantity_on_hand"),
        F.col("new_snapshot_quantity").cast("int").alias("snapshot_quantity"),
        F.col("new_snapshot_ts").alias("snapshot_ts"),
        F.col("new_last_change_ts").alias("last_change_ts"),
        F.col("new_safety_stock_quantity").cast("int").alias("safety_stock_quantity"),
        (F.col("new_quantity_on_hand") < F.col("new_safety_stock_quantity")).alias("below_safety_stock"),
        now.alias("updated_at"),
        F.col("previous_quantity_on_hand"),
    )


# Alert type -> the column of a position update holding its threshold.
ALERT_THRESHOLDS = {"safety_stock": "safety_stock_quantity", "reorder_point": "reorder_point_quantity"}


def with_reorder_points(updates: DataFrame, reorder_points: DataFrame | None) -> DataFrame:
    """Position updates with each position's reorder point (null where none is set).
    `reorder_points`: store_id, product_id, reorder_point_quantity, one row per position."""
    if reorder_points is None:
        return updates.withColumn("reorder_point_quantity", F.lit(None).cast("int"))
    return updates.join(F.broadcast(reorder_points), list(POSITION_KEY), "left")


def crossed_below(threshold: str) -> Column:
    """A position update that falls below the threshold column: below now and not before (or new)."""
    below_now = F.col("quantity_on_hand") < F.col(threshold)
    was_below = F.col("previous_quantity_on_hand") < F.col(threshold)
    return F.coalesce(below_now, F.lit(False)) & ~F.coalesce(was_below, F.lit(False))


def inventory_alerts(updates: DataFrame, now: Column) -> DataFrame:
    """One alert per fall below safety stock or below the reorder point, not one per batch while the
    position stays below (a position first seen below a threshold has fallen below it)."""
    kinds = [
        updates.where(crossed_below(column)).select(
            *POSITION_KEY,
            "quantity_on_hand",
            F.col(column).cast("int").alias("threshold"),
            F.lit(alert_type).alias("alert_type"),
            F.col("last_change_ts").alias("alert_ts"),
            now.alias("detected_at"),
        )
        for alert_type, column in ALERT_THRESHOLDS.items()
    ]
    return reduce(DataFrame.unionByName, kinds)


def first_of_each_event(events: DataFrame) -> DataFrame:
    """One row per event key; of repeated deliveries the first by time, quantity, change type and source
    survives (a re-delivery is identical, so which one survives only matters for a conflicting one)."""
    order = Window.partitionBy(*EVENT_KEY).orderBy("event_ts", "quantity", "change_type", "source")
    return events.withColumn("_n", F.row_number().over(order)).where("_n = 1").drop("_n")


def batch_computation(events: DataFrame, items: DataFrame) -> DataFrame:
    """The rule computed over all accepted, counted events at once (no stream): the independent check of
    the stream's positions, and the accelerator's approach (a full recompute every trigger)."""
    snapshots = events.where(F.col("change_type") == SNAPSHOT_TYPE)
    latest = snapshots.groupBy(*POSITION_KEY).agg(
        F.max("event_ts").alias("snapshot_ts"),
        F.max_by(F.struct("quantity"), F.struct("event_ts", "quantity"))["quantity"].alias("snapshot_quantity"),
    )
    deltas = events.where(F.col("change_type") != SNAPSHOT_TYPE)
    keys = events.select(*POSITION_KEY).distinct()
    bases = keys.join(latest, list(POSITION_KEY), "left")
    sums = _delta_sum(deltas, bases.select(*POSITION_KEY, "snapshot_ts"), "snapshot_ts", "delta")
    safety = items.select(F.col("item_id").alias("product_id"), "safety_stock_quantity")
    quantity = F.coalesce(F.col("snapshot_quantity"), F.lit(0)) + F.coalesce(F.col("delta_sum"), F.lit(0))
    return (
        bases.join(sums, list(POSITION_KEY), "left")
        .join(safety, "product_id", "left")
        .select(
            *POSITION_KEY,
            quantity.cast("long").alias("quantity_on_hand"),
            F.col("snapshot_quantity").cast("int").alias("snapshot_quantity"),
            "snapshot_ts",
            F.greatest("snapshot_ts", "delta_last_ts").alias("last_change_ts"),
            F.col("safety_stock_quantity").cast("int").alias("safety_stock_quantity"),
            (quantity < F.col("safety_stock_quantity")).alias("below_safety_stock"),
        )
    )
