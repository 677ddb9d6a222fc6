"""One micro-batch of the inventory stream, as named steps: count, deduplicate against the ledger, compute
position updates and alerts, write (alerts, positions, ledger, quarantine).

Cost follows the batch, not the history: deduplication reads only the ledger's partitions of the dates the
batch's events fall on; a newer snapshot re-counts earlier deltas only from its own date on; the positions
table holds one row per store and item whatever the history's length.

Exactly once: each commit carries the batch's marker. A batch repeated after a crash skips the writes whose
marker it finds; it computes alerts against the positions before the batch (the merge had not landed) or
finds them written already. The marker is read back because one batch writes four tables, one of them by
MERGE: Delta's `txnAppId`/`txnVersion` skip only DataFrame writes (not a MERGE), one table each.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from retail_lakehouse.core.columns import QUARANTINE_SUFFIX, RAW_RECORD
from retail_lakehouse.core.contracts import BatchCounts, MicroBatch, OutputTable
from retail_lakehouse.core.errors import ReconciliationError
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.inventory.events import BROKEN_RULES, EVENT_KEY, SNAPSHOT_TYPE, first_of_each_event
from retail_lakehouse.inventory.params import InventoryParams
from retail_lakehouse.inventory.positions import (
    ALERT_THRESHOLDS,
    POSITION_COLUMNS,
    counted,
    crossed_below,
    inventory_alerts,
    position_updates,
    typed_items,
    typed_reorder_points,
    with_reorder_points,
)
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.readers import read_table
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("inventory")
WRITER_ID, BATCH_ID, RUN_ID = "writer_id", "batch_id", "run_id"
SEEN = "_seen"  # an accepted event the ledger already holds

InventoryBatch = MicroBatch[InventoryParams]


def ledger_table(batch: InventoryBatch) -> OutputTable:
    return batch.table(batch.context.params.events_table)


def ledger_quarantine_table(batch: InventoryBatch) -> OutputTable:
    return batch.table(batch.context.params.events_table + QUARANTINE_SUFFIX)


def alerts_table(batch: InventoryBatch) -> OutputTable:
    return batch.table(batch.context.params.alerts_table)


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


# --- step 1: count ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCounts:
    """One pass over the batch: events and rejected events, and per date with accepted events the time
    range they span and whether a count (snapshot) is among them."""

    read: int
    quarantined: int
    dates: list[Row]

    @property
    def snapshot_dates(self) -> list[dt.date]:
        return [row["event_date"] for row in self.dates if row["snapshots"]]


def count_events(events: DataFrame) -> EventCounts:
    broken = F.size(BROKEN_RULES) > 0
    per_date = events.groupBy("event_date").agg(
        F.count("*").alias("events"),
        F.count_if(broken).alias("rejected"),
        F.count_if(~broken & (F.col("change_type") == SNAPSHOT_TYPE)).alias("snapshots"),
        F.min(F.when(~broken, F.col("event_ts"))).alias("first_ts"),
        F.max(F.when(~broken, F.col("event_ts"))).alias("last_ts"),
    )
    rows = per_date.collect()  # one row per event date of the batch
    return EventCounts(
        read=sum(int(row["events"]) for row in rows),
        quarantined=sum(int(row["rejected"]) for row in rows),
        dates=[row for row in rows if row["events"] > row["rejected"]],
    )


# --- step 2: deduplicate against the ledger -----------------------------------------------------------


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


def earlier_events(spark: SparkSession, ledger: TableRef, batch: InventoryBatch) -> DataFrame:
    """The ledger without what this writer wrote for this batch or later (a batch repeated after a crash
    must not find its own events and count them as duplicates)."""
    own_later = (F.col(WRITER_ID) == batch.writer_id) & (F.col(BATCH_ID) >= batch.batch_id)
    return read_table(spark, ledger).where(~own_later)


@dataclass(frozen=True)
class NewEvents:
    """The batch's accepted events the ledger does not hold yet (`rows`, with whether each moves a
    position), how many distinct events the batch had, and the ledger the batch was checked against."""

    rows: DataFrame
    distinct: int
    new: int
    ledger: DataFrame | None


def deduplicate(batch: InventoryBatch, events: DataFrame, counts: EventCounts) -> NewEvents:
    accepted = first_of_each_event(events.where(F.size(BROKEN_RULES) == 0).drop(BROKEN_RULES, RAW_RECORD))
    ledger_ref = ledger_table(batch).ref
    ledger = earlier_events(batch.spark, ledger_ref, batch) if _exists(batch, ledger_ref) else None
    if ledger is not None and counts.dates:
        seen = ledger.where(_seen_filter(counts.dates)).select(*EVENT_KEY).distinct()
        marked = accepted.join(seen.withColumn(SEEN, F.lit(True)), list(EVENT_KEY), "left")
    else:
        marked = accepted.withColumn(SEEN, F.lit(None).cast("boolean"))
    marked = marked.withColumn("counted", counted(batch.context.params)).persist()
    sizes = marked.agg(F.count("*"), F.count_if(F.col(SEEN).isNull())).first()
    distinct, new = (int(sizes[0]), int(sizes[1])) if sizes else (0, 0)
    if distinct > counts.read - counts.quarantined or new > distinct:
        raise ReconciliationError(
            f"inventory batch {batch.batch_id}: read {counts.read}, quarantined {counts.quarantined}, {distinct} "
            f"distinct events, {new} new: the counts do not reconcile"
        )
    return NewEvents(marked.where(F.col(SEEN).isNull()).drop(SEEN), distinct, new, ledger)


# --- step 3: position updates and alerts --------------------------------------------------------------


def _run_reference(batch: InventoryBatch, alias: str, typed: Callable[[DataFrame], DataFrame]) -> DataFrame | None:
    """Reference data typed once per run and kept (a local checkpoint, which clearing the batch's cache
    leaves alone): read again every micro-batch, its files would cost more than a small batch's work.
    None when the job does not read that input."""
    if alias not in batch.references:
        return None
    if alias not in batch.run_cache:
        batch.run_cache[alias] = typed(batch.references[alias]).localCheckpoint(eager=True)
    return batch.run_cache[alias]


def updates_and_alerts(
    batch: InventoryBatch, new: NewEvents, counts: EventCounts, now: Column
) -> tuple[DataFrame, DataFrame]:
    """The new rows of the positions the batch changes (materialised) and the alerts they raise."""
    moving = new.rows.where("counted")
    earlier_deltas: DataFrame | None = None  # a batch without counts resets no position
    if counts.snapshot_dates:
        # Only the partitions from the earliest count's date on: a count re-counts deltas after it.
        earlier_deltas = (
            new.ledger.where(
                (F.col("event_date") >= F.lit(min(counts.snapshot_dates)))
                & F.col("counted")
                & (F.col("change_type") != SNAPSHOT_TYPE)
            )
            if new.ledger is not None
            else moving.limit(0)
        )
    positions_ref = batch.output.ref
    current = read_table(batch.spark, positions_ref) if _exists(batch, positions_ref) else _empty_positions(batch)
    items = _run_reference(batch, "items", typed_items)
    if items is None:
        raise ValueError("the inventory stream reads its items input in every run")  # declared required
    reorder_points = _run_reference(batch, "reorder_points", typed_reorder_points)
    updates = with_reorder_points(position_updates(moving, current, earlier_deltas, items, now), reorder_points)
    # A local checkpoint, not a cache: the count, the alerts append and the positions MERGE each plan only a
    # scan of its rows. Over a cached plan of some hundred operators each of them took 1-2 s more per batch
    # (planned again, broadcasts rebuilt); docs/benchmarks.md, inventory stream, 2026-12-03.
    updates = updates.localCheckpoint(eager=True)
    return updates, inventory_alerts(updates, now)


def _empty_positions(batch: InventoryBatch) -> DataFrame:
    schema = (
        "store_id STRING, product_id STRING, quantity_on_hand BIGINT, snapshot_quantity INT, snapshot_ts TIMESTAMP, "
        "last_change_ts TIMESTAMP, safety_stock_quantity INT, below_safety_stock BOOLEAN, updated_at TIMESTAMP"
    )
    return batch.spark.createDataFrame([], schema)


# --- step 4: write ------------------------------------------------------------------------------------


def _ensure(batch: InventoryBatch, table: OutputTable, schema: StructType) -> None:
    """Creates the table on first use (remembered for the run: every check reads the Delta log, which
    costs more than a small batch's own work)."""
    if table.ref not in batch.existing_tables:
        delta_tables.ensure_table(batch.spark, table.ref, schema, table.layout)
        batch.existing_tables.add(table.ref)


def _exists(batch: InventoryBatch, ref: TableRef) -> bool:
    # Asked of the table's schema (its log's newest snapshot): milliseconds, where its history takes 0.4 s.
    if ref not in batch.existing_tables and delta_tables.exists(batch.spark, ref):
        batch.existing_tables.add(ref)
    return ref in batch.existing_tables


def _landed(batch: InventoryBatch, ref: TableRef) -> bool:
    """Whether this batch's write to the table landed before an interruption: the stream is the table's
    only writer, so its latest commit is this batch's or an earlier one's."""
    return (
        batch.may_repeat
        and _exists(batch, ref)
        and delta_tables.last_commit_metadata(batch.spark, ref) == batch.commit_marker
    )


def _append_once(batch: InventoryBatch, table: OutputTable, rows: DataFrame) -> bool:
    """Appends the rows unless this batch's append to the table landed already; whether it wrote."""
    if _landed(batch, table.ref):
        return False
    _ensure(batch, table, rows.schema)
    delta_tables.append(rows, table.ref, table.layout, commit_marker=batch.commit_marker)
    return True


def write_alerts_and_positions(
    batch: InventoryBatch, updates: DataFrame, alerts: DataFrame, clock: StageClock
) -> tuple[int, int]:
    """Appends the alerts and merges the position updates; (positions changed, alerts raised). Repeated
    after its positions merge landed, a batch must not compute positions and alerts again from the merged
    table (its deltas would count twice): it only finishes the other writes."""
    if _landed(batch, batch.output.ref):
        log.warning("micro-batch %d had merged its positions before an interruption", batch.batch_id)
        return 0, 0
    crossings = [F.count_if(crossed_below(column)) for column in ALERT_THRESHOLDS.values()]
    sizes = updates.agg(F.count("*"), *crossings).first()
    changed, raised = (int(sizes[0]), sum(int(n) for n in sizes[1:])) if sizes else (0, 0)
    clock.lap("positions")
    if raised and _append_once(batch, alerts_table(batch), alerts):
        clock.lap("alerts")
    if changed:
        positions = updates.select(*POSITION_COLUMNS)
        _ensure(batch, batch.output, positions.schema)
        delta_tables.merge(positions, batch.output.ref, batch.write_keys, commit_marker=batch.commit_marker)
        clock.lap("merge")
    return changed, raised


def write_ledger_and_quarantine(
    batch: InventoryBatch, new: NewEvents, rejected: DataFrame, quarantined: int, now: Column, clock: StageClock
) -> None:
    """The batch's new events to the ledger and its rejected ones to quarantine (each skipped when a
    repeat finds it landed)."""
    run_id = batch.context.run_id
    if new.new:
        ledger_rows = new.rows.select(
            "*",
            F.lit(batch.writer_id).alias(WRITER_ID),
            F.lit(batch.batch_id).cast("long").alias(BATCH_ID),
            F.lit(run_id).alias(RUN_ID),
        )
        if _append_once(batch, ledger_table(batch), ledger_rows):
            clock.lap("ledger")
    if quarantined:
        bad = rejected.select(
            *[c for c in rejected.columns if c != BROKEN_RULES],
            F.col(BROKEN_RULES).alias("rules_broken"),
            F.lit(run_id).alias(RUN_ID),
            now.alias("quarantined_at"),
        )
        if _append_once(batch, ledger_quarantine_table(batch), bad):
            clock.lap("quarantine")


def write_inventory_batch(batch: InventoryBatch) -> BatchCounts:
    """The micro-batch's steps, in order; its counts reconcile (read = new + quarantined + duplicates)."""
    now = F.lit(batch.context.run_started_at).cast("timestamp")
    events = batch.events.persist()
    clock = StageClock()
    try:
        counts = count_events(events)
        clock.lap("read")
        if counts.read == 0:
            return BatchCounts()
        new = deduplicate(batch, events, counts)
        clock.lap("deduplicate")
        updates, alerts = updates_and_alerts(batch, new, counts, now)
        changed, raised = write_alerts_and_positions(batch, updates, alerts, clock)
        rejected = events.where(F.size(BROKEN_RULES) > 0)
        write_ledger_and_quarantine(batch, new, rejected, counts.quarantined, now, clock)
        log.info(
            "micro-batch %d: %d events, changed %d positions, raised %d alerts (%s)",
            batch.batch_id,
            counts.read,
            changed,
            raised,
            clock,
        )
        duplicates = (counts.read - counts.quarantined - new.distinct) + (new.distinct - new.new)
        return BatchCounts(read=counts.read, written=new.new, quarantined=counts.quarantined, duplicates=duplicates)
    finally:
        # Cached for this batch only: a long-running stream must not accumulate them.
        batch.spark.catalog.clearCache()
