"""Writes one micro-batch of the inventory stream: events ledger, quarantine, positions and alerts.

Cost follows the batch, not the history: deduplication reads only the ledger's partitions of the dates the
batch's events fall on; a newer snapshot re-counts earlier deltas only from its own date on; the
positions table holds one row per store and item whatever the history's length.

Order of the writes: alerts, positions, ledger, quarantine; each commit carries the batch's marker. A batch
repeated after a crash skips the writes whose marker it finds; it computes alerts against the positions
before the batch (the merge had not landed) or finds them written already.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from retail_lakehouse.columns import RAW_RECORD
from retail_lakehouse.gold.inventory import (
    ALERT_THRESHOLDS,
    BROKEN_RULES,
    EVENT_KEY,
    POSITION_COLUMNS,
    POSITION_KEY,
    SNAPSHOT_TYPE,
    InventoryParams,
    counted,
    crossed_below,
    first_of_each_event,
    inventory_alerts,
    position_updates,
    with_reorder_points,
)
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.readers import read_table
from retail_lakehouse.runner.batches import BatchCounts, ReconciliationError
from retail_lakehouse.runner.streams import MicroBatch
from retail_lakehouse.runtime.logging import get_logger
from retail_lakehouse.silver.standardize import identifier, integer

log = get_logger("inventory")
WRITER_ID, BATCH_ID, RUN_ID = "writer_id", "batch_id", "run_id"
QUARANTINE_SUFFIX = "_quarantine"
SEEN = "_seen"  # an accepted event the ledger already holds


def typed_items(items: DataFrame) -> DataFrame:
    """Item reference data: item id and its safety stock (the largest, for an item listed twice)."""
    typed = items.select(
        identifier("item_id").alias("item_id"), integer("safety_stock_quantity").alias("safety_stock_quantity")
    )
    largest = F.max("safety_stock_quantity").alias("safety_stock_quantity")
    return typed.where(F.col("item_id").isNotNull()).groupBy("item_id").agg(largest)


def typed_reorder_points(reorder_points: DataFrame) -> DataFrame:
    """Replenishment parameters: the reorder point per store and item (the largest, for one listed twice)."""
    typed = reorder_points.select(
        identifier("store_id").alias("store_id"),
        identifier("item_id").alias("product_id"),
        integer("reorder_point_quantity").alias("reorder_point_quantity"),
    )
    known = typed.where(F.col("store_id").isNotNull() & F.col("product_id").isNotNull())
    return known.groupBy(*POSITION_KEY).agg(F.max("reorder_point_quantity").alias("reorder_point_quantity"))


def _run_reference(batch: MicroBatch, alias: str, typed: Callable[[DataFrame], DataFrame]) -> DataFrame | None:
    """Reference data typed once per run and kept (a local checkpoint, which clearing the batch's cache
    leaves alone): read again every micro-batch, its files would cost more than a small batch's work.
    None when the job does not read that input."""
    if alias not in batch.references:
        return None
    if alias not in batch.run_cache:
        batch.run_cache[alias] = typed(batch.references[alias]).localCheckpoint(eager=True)
    return batch.run_cache[alias]


def _dates_filter(dates: Sequence[dt.date]) -> Column:
    # A literal IN on the partition column, so Delta reads only those partitions.
    return F.col("event_date").isin([F.lit(d) for d in dates])


def _seen_filter(dates: Sequence[Row]) -> Column:
    """The ledger's events a batch's events can repeat: a re-delivery carries its event's time, so only
    those in the dates and time range of the batch's events. Literals, so Delta reads only those
    partitions and, by its files' event-time statistics, only the files of that time range (a stream's
    files follow event time): the lookup costs what the batch spans, not what its day holds so far."""
    first = min(row["first_ts"] for row in dates)
    last = max(row["last_ts"] for row in dates)
    in_range = (F.col("event_ts") >= F.lit(first)) & (F.col("event_ts") <= F.lit(last))
    return _dates_filter([row["event_date"] for row in dates]) & in_range


def earlier_events(spark: SparkSession, path: str, batch: MicroBatch) -> DataFrame:
    """The ledger without what this writer wrote for this batch or later (a batch repeated after a crash
    must not find its own events and count them as duplicates)."""
    writer, batch_id = batch.writer_id, batch.batch_id
    own_later = (F.col(WRITER_ID) == writer) & (F.col(BATCH_ID) >= batch_id)
    return read_table(spark, path).where(~own_later)


def _ensure(batch: MicroBatch, table: str, schema: StructType) -> str:
    """The table's path, creating the table on first use (remembered for the run: every check reads the
    Delta log, which costs more than a small batch's own work)."""
    config = batch.loaded.config
    path = config.storage.table_path(table)
    if path not in batch.existing_tables:
        delta_tables.ensure_table(batch.spark, path, schema, config.tables[table])
        batch.existing_tables.add(path)
    return path


def _landed(batch: MicroBatch, path: str) -> bool:
    """Whether this batch's write to the table landed before an interruption: the stream is the table's
    only writer, so its latest commit is this batch's or an earlier one's."""
    return (
        batch.may_repeat
        and _exists(batch, path)
        and delta_tables.last_commit_metadata(batch.spark, path) == batch.commit_marker
    )


def _exists(batch: MicroBatch, path: str) -> bool:
    if path not in batch.existing_tables and delta_tables.current_version(batch.spark, path) is not None:
        batch.existing_tables.add(path)
    return path in batch.existing_tables


def check_inventory_job(
    params: BaseModel, inputs: Mapping[str, str], tables: set[str]
) -> tuple[str, tuple[str, ...]] | None:
    """What the parameters imply: POS read when it supplies sales, and the tables the job writes declared."""
    assert isinstance(params, InventoryParams)
    if params.sales_feed == "pos" and "pos" not in inputs:
        return "sales_feed pos reads POS transactions: add input pos (feed:pos_transactions)", ("inputs",)
    for key, table in (
        ("events_table", params.events_table),
        ("events_table", params.events_table + QUARANTINE_SUFFIX),
        ("alerts_table", params.alerts_table),
    ):
        if table not in tables:
            return f"table '{table}' is not declared under tables", ("params", key)
    return None


class StageClock:
    """Wall time of each stage of a micro-batch, for the log (where a slow batch spends its time)."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.append((stage, now - self._last))
        self._last = now

    def __str__(self) -> str:
        return ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.stages)


def _append_records(
    batch: MicroBatch, new: DataFrame, rejected: DataFrame, counts: tuple[int, int], now: Column, clock: StageClock
) -> None:
    """The batch's new events to the ledger and its rejected ones to quarantine (each skipped when a
    repeat finds it landed)."""
    config = batch.loaded.config
    params = batch.context.params
    assert isinstance(params, InventoryParams)
    marker = batch.commit_marker
    written, quarantined = counts
    ledger_path = config.storage.table_path(params.events_table)
    if written and not _landed(batch, ledger_path):
        ledger_rows = new.select(
            "*",
            F.lit(batch.writer_id).alias(WRITER_ID),
            F.lit(batch.batch_id).cast("long").alias(BATCH_ID),
            F.lit(batch.context.run_id).alias(RUN_ID),
        )
        _ensure(batch, params.events_table, ledger_rows.schema)
        delta_tables.append(ledger_rows, ledger_path, config.tables[params.events_table], commit_marker=marker)
        clock.lap("ledger")
    quarantine_table = params.events_table + QUARANTINE_SUFFIX
    quarantine_path = config.storage.table_path(quarantine_table)
    if quarantined and not _landed(batch, quarantine_path):
        bad = rejected.select(
            *[c for c in rejected.columns if c != BROKEN_RULES],
            F.col(BROKEN_RULES).alias("rules_broken"),
            F.lit(batch.context.run_id).alias(RUN_ID),
            now.alias("quarantined_at"),
        )
        _ensure(batch, quarantine_table, bad.schema)
        delta_tables.append(bad, quarantine_path, config.tables[quarantine_table], commit_marker=marker)
        clock.lap("quarantine")


def write_inventory_batch(batch: MicroBatch) -> BatchCounts:
    spark, config = batch.spark, batch.loaded.config
    params = batch.context.params
    assert isinstance(params, InventoryParams)
    now = F.lit(batch.context.run_started_at).cast("timestamp")
    events = batch.events.persist()
    clock = StageClock()
    try:
        broken = F.size(BROKEN_RULES) > 0
        # One pass over the batch for every count and for the dates to deduplicate against.
        per_date = events.groupBy("event_date").agg(
            F.count("*").alias("events"),
            F.count_if(broken).alias("rejected"),
            F.count_if(~broken & (F.col("change_type") == SNAPSHOT_TYPE)).alias("snapshots"),
            F.min(F.when(~broken, F.col("event_ts"))).alias("first_ts"),
            F.max(F.when(~broken, F.col("event_ts"))).alias("last_ts"),
        )
        counts = per_date.collect()
        clock.lap("read")
        read, quarantined = sum(int(row["events"]) for row in counts), sum(int(row["rejected"]) for row in counts)
        if read == 0:
            return BatchCounts()
        dates = [row for row in counts if row["events"] > row["rejected"]]
        snapshot_dates = [row["event_date"] for row in dates if row["snapshots"]]
        rejected = events.where(broken)
        # The raw record is kept for rejected events only: the ledger does not store it.
        accepted = first_of_each_event(events.where(~broken).drop(BROKEN_RULES, RAW_RECORD))

        ledger_path = config.storage.table_path(params.events_table)
        ledger = earlier_events(spark, ledger_path, batch) if _exists(batch, ledger_path) else None
        if ledger is not None and dates:
            seen = ledger.where(_seen_filter(dates)).select(*EVENT_KEY).distinct()
            marked = accepted.join(seen.withColumn(SEEN, F.lit(True)), list(EVENT_KEY), "left")
        else:
            marked = accepted.withColumn(SEEN, F.lit(None).cast("boolean"))
        marked = marked.withColumn("counted", counted(params)).persist()
        sizes = marked.agg(F.count("*"), F.count_if(F.col(SEEN).isNull())).first()
        unique, written = (int(sizes[0]), int(sizes[1])) if sizes else (0, 0)
        new = marked.where(F.col(SEEN).isNull()).drop(SEEN)
        clock.lap("deduplicate")
        duplicates = (read - quarantined - unique) + (unique - written)
        if unique > read - quarantined or written > unique:
            raise ReconciliationError(
                f"inventory batch {batch.batch_id}: read {read}, quarantined {quarantined}, {unique} distinct "
                f"events, {written} new: the counts do not reconcile"
            )

        moving = new.where("counted")
        if ledger is not None and snapshot_dates:
            # Only the partitions from the earliest count's date on: a count re-counts deltas after it.
            earlier_deltas = ledger.where(
                (F.col("event_date") >= F.lit(min(snapshot_dates)))
                & F.col("counted")
                & (F.col("change_type") != SNAPSHOT_TYPE)
            )
        else:
            earlier_deltas = moving.limit(0)
        positions_path = config.storage.table_path(batch.job.output)
        # Repeated after its positions merge landed, a batch must not compute positions and alerts again
        # from the merged table (its deltas would count twice): it only finishes the other writes.
        merged = _landed(batch, positions_path)
        current = read_table(spark, positions_path) if _exists(batch, positions_path) else _empty_positions(spark)
        items = _run_reference(batch, "items", typed_items)
        assert items is not None  # a required input
        reorder_points = _run_reference(batch, "reorder_points", typed_reorder_points)
        updates = with_reorder_points(position_updates(moving, current, earlier_deltas, items, now), reorder_points)
        updates = updates.persist()
        alerts = inventory_alerts(updates, now)
        changed_positions, raised = 0, 0
        if merged:
            log.warning("micro-batch %d had merged its positions before an interruption", batch.batch_id)
        else:
            crossings = [F.count_if(crossed_below(column)) for column in ALERT_THRESHOLDS.values()]
            sizes = updates.agg(F.count("*"), *crossings).first()
            changed_positions, raised = (int(sizes[0]), sum(int(n) for n in sizes[1:])) if sizes else (0, 0)
        clock.lap("positions")
        marker = batch.commit_marker
        alerts_path = config.storage.table_path(params.alerts_table)
        if raised and not _landed(batch, alerts_path):
            _ensure(batch, params.alerts_table, alerts.schema)
            delta_tables.append(alerts, alerts_path, config.tables[params.alerts_table], commit_marker=marker)
            clock.lap("alerts")
        if changed_positions:
            positions = updates.select(*POSITION_COLUMNS)
            _ensure(batch, batch.job.output, positions.schema)
            delta_tables.merge(spark, positions, positions_path, batch.job.write.keys, commit_marker=marker)
            clock.lap("merge")
        _append_records(batch, new, rejected, (written, quarantined), now, clock)
        log.info(
            "micro-batch %d: %d events, changed %d positions, raised %d alerts (%s)",
            batch.batch_id,
            read,
            changed_positions,
            raised,
            clock,
        )
        return BatchCounts(read=read, written=written, quarantined=quarantined, duplicates=duplicates)
    finally:
        # Cached for this batch only: a long-running stream must not accumulate them.
        spark.catalog.clearCache()


def _empty_positions(spark: SparkSession) -> DataFrame:
    schema = (
        "store_id STRING, product_id STRING, quantity_on_hand BIGINT, snapshot_quantity INT, snapshot_ts TIMESTAMP, "
        "last_change_ts TIMESTAMP, safety_stock_quantity INT, below_safety_stock BOOLEAN, updated_at TIMESTAMP"
    )
    return spark.createDataFrame([], schema)
