"""Each feed's records as one event shape (feed, event_id, store_id, product_id, change_type, quantity,
event_ts): a delta's quantity is signed (a sale is negative), a snapshot's is the counted stock. Pure; works
on a stream or a batch. An event that breaks a rule keeps its raw record and the names of the rules."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from retail_lakehouse.core.columns import SOURCE
from retail_lakehouse.quality.quarantine import mask_card_numbers
from retail_lakehouse.silver.standardize import identifier, integer, raw_record, source_columns, utc_timestamp

IOT, POS, SNAPSHOT = "iot", "pos", "snapshot"
SNAPSHOT_TYPE = "snapshot"
IOT_CHANGE_TYPES = {1: "sale", 2: "shrink", 3: "restock", 4: "bopis"}
EVENT_KEY = ("feed", "event_id", "store_id", "product_id")
BROKEN_RULES = "broken_rules"


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


def first_of_each_event(events: DataFrame) -> DataFrame:
    """One row per event key; of repeated deliveries the first by time, quantity, change type and source
    survives (a re-delivery is identical, so which one survives only matters for a conflicting one)."""
    order = Window.partitionBy(*EVENT_KEY).orderBy("event_ts", "quantity", "change_type", "source")
    return events.withColumn("_n", F.row_number().over(order)).where("_n = 1").drop("_n")
