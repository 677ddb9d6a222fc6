"""Benchmark: the inventory stream (`lakehouse stream inventory`) in one run on the same generated data.

    .venv/bin/python bench/inventory_stream.py [--scale 0.5] [--rate 10000] [--seconds 60] [--work DIR]

1. History: generates 30 days. Lakehouse "3 days" streams days 1-2, lakehouse "30 days" days 1-29; then
   (JVM warm) the micro-batch of day 3 and that of day 30 are timed. Goal: the batch at 10x the history
   within 1.3x of the batch at 1x.
2. The accelerator's approach on the 30-day lakehouse: recompute every position from all history (the
   same rule, `batch_computation`, over every accepted event) and overwrite the table, as it does each
   trigger; the ratio to our day-30 batch is reported.
3. Throughput and latency: the stream runs continuously (5 s trigger) on the 30-day lakehouse while a
   feeder writes a file of IoT change events every second at --rate events per second for --seconds.
   Latency of an event: from its file being written to the commit of the positions MERGE of its batch
   (the moment it is visible in gold). Goals: at least 10,000 events/s with p95 under 15 s.
Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.core.columns import RAW_RECORD
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.inventory.events import (
    BROKEN_RULES,
    first_of_each_event,
    iot_events,
    snapshot_events,
    with_broken_rules,
)
from retail_lakehouse.inventory.params import InventoryParams
from retail_lakehouse.inventory.positions import batch_computation, counted, typed_items
from retail_lakehouse.io.readers import read_feed
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runtime.logging import configure_logging
from retail_lakehouse.runtime.spark import get_spark_session

REPO = Path(__file__).resolve().parent.parent
START = dt.date(2025, 1, 1)
FEEDS = (
    "inventory/changes",
    "inventory/snapshots",
    "inventory/item",
    "inventory/reorder_point",
    "inventory/store",
    "inventory/inventory_change_type",
)


def configured(work: Path, name: str) -> LoadedConfig:
    return load_config(
        transforms=catalogue(),
        conf_dir=REPO / "conf",
        set_overrides=[f"storage.landing={work / name / 'landing'}", f"storage.root={work / name / 'lakehouse'}"],
        environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench-card-token-key"},
    )


def deliver(staging: Path, landing: Path, days: range) -> None:
    """Copies the arrival-date folders of the given days (1 = the first) of every inventory feed."""
    for feed in FEEDS:
        for folder in sorted((staging / feed).iterdir()):
            day = (dt.date.fromisoformat(folder.name) - START).days + 1
            if day in days:
                shutil.copytree(folder, landing / feed / folder.name, dirs_exist_ok=True)


def run_stream(spark: SparkSession, loaded: LoadedConfig) -> tuple[float, int]:
    started = time.perf_counter()
    run = JobRunner(spark, loaded).run("inventory")
    assert run.status == "succeeded", run.error
    return time.perf_counter() - started, int(run.rows_read or 0)


class TriggerTimes(StreamingQueryListener):
    """Spark's own time (`triggerExecution`) and input rows of every micro-batch that took rows: a trigger
    of ours without the run around it (the stream's start, the check for new input, the run's records)."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, int]] = []

    def onQueryStarted(self, event: Any) -> None:  # noqa: N802 (PySpark's name)
        pass

    def onQueryProgress(self, event: Any) -> None:  # noqa: N802 (PySpark's name)
        progress = event.progress
        if progress.numInputRows > 0:
            self.batches.append((progress.durationMs.get("triggerExecution", 0) / 1000, progress.numInputRows))

    def onQueryIdle(self, event: Any) -> None:  # noqa: N802 (PySpark's name)
        pass

    def onQueryTerminated(self, event: Any) -> None:  # noqa: N802 (PySpark's name)
        pass


def run_stream_triggers(spark: SparkSession, loaded: LoadedConfig, triggers: TriggerTimes) -> tuple[float, int, float]:
    """An available-now run: its seconds and rows, and the seconds of its micro-batches alone."""
    triggers.batches.clear()
    seconds, rows = run_stream(spark, loaded)
    time.sleep(2)  # progress events reach Python listeners asynchronously
    return seconds, rows, sum(batch_seconds for batch_seconds, _ in triggers.batches)


def build_history(spark: SparkSession, staging: Path, work: Path, history_days: int) -> tuple[float, int]:
    """Streams days 1..history_days-1 into the lakehouse "history-<days>"."""
    loaded = configured(work, f"history-{history_days}")
    deliver(staging, Path(loaded.config.storage.landing), range(1, history_days))
    return run_stream(spark, loaded)


def next_day_batch(spark: SparkSession, staging: Path, work: Path, history_days: int) -> tuple[float, int]:
    """Delivers day `history_days` and times its batch."""
    loaded = configured(work, f"history-{history_days}")
    deliver(staging, Path(loaded.config.storage.landing), range(history_days, history_days + 1))
    return run_stream(spark, loaded)


# The columns of an event the full recompute reads (`batch_computation`), which the accelerator's events
# table keeps.
ACCELERATOR_COLUMNS = (
    "feed",
    "event_id",
    "store_id",
    "product_id",
    "change_type",
    "quantity",
    "event_ts",
    "event_date",
)


def recomputed_positions(spark: SparkSession, loaded: LoadedConfig, events: DataFrame, work: Path) -> None:
    """Every position from all the events at once (the same rule as ours), overwriting a table."""
    items_path = Path(loaded.config.storage.landing) / "inventory/item"
    items = typed_items(spark.read.csv(str(items_path), header=True, recursiveFileLookup=True))
    batch_computation(events, items).write.format("delta").mode("overwrite").save(str(work / "accelerator_positions"))


def counted_ledger_events(spark: SparkSession, loaded: LoadedConfig) -> DataFrame:
    """Every accepted event our stream's ledger holds that moves a position."""
    return spark.read.format("delta").load(loaded.config.storage.table_path("silver/inventory_events")).where("counted")


def accelerator_recompute(spark: SparkSession, loaded: LoadedConfig, work: Path) -> tuple[float, int]:
    """The accelerator's recompute alone, from the events our stream accepted: every position from all
    history, overwriting a table. Its ingestion of the new events is not in this time."""
    started = time.perf_counter()
    events = counted_ledger_events(spark, loaded)
    recomputed_positions(spark, loaded, events, work)
    return time.perf_counter() - started, events.count()


def seed_accelerator_events(spark: SparkSession, loaded: LoadedConfig, work: Path) -> Path:
    """The accelerator's own events table, holding (untimed) every accepted, counted event our stream has
    taken so far: its history before the trigger to be timed."""
    target = work / "accelerator_events"
    events = counted_ledger_events(spark, loaded).select(*ACCELERATOR_COLUMNS)
    events.write.format("delta").mode("overwrite").save(str(target))
    return target


def accelerator_trigger(
    spark: SparkSession, loaded: LoadedConfig, work: Path, events_table: Path, arrival_date: dt.date
) -> tuple[float, int]:
    """One whole trigger of the accelerator: its ingestion of the files that arrived on `arrival_date` (read,
    typed and checked by our rules, repeated deliveries within them dropped, appended to its events table),
    then every position recomputed from its whole events table and the table overwritten. Deliveries that
    repeat events of earlier days are not looked for, which spares it our ledger lookup."""
    config = loaded.config
    params = InventoryParams.model_validate(config.jobs["inventory"].params)
    landing = Path(config.storage.landing)

    def arrived(feed: str) -> DataFrame:
        folder = landing / str(config.feeds[feed].path) / arrival_date.isoformat()
        return read_feed(spark, config.feeds[feed], str(folder), incremental=False, present=folder.exists())

    started = time.perf_counter()
    typed = iot_events(arrived("inventory_changes"), params.source_time_zone).unionByName(
        snapshot_events(arrived("inventory_snapshots"), params.source_time_zone)
    )
    valid = with_broken_rules(typed).where(F.size(BROKEN_RULES) == 0).drop(BROKEN_RULES, RAW_RECORD)
    new = first_of_each_event(valid).where(counted(params)).select(*ACCELERATOR_COLUMNS)
    new.write.format("delta").mode("append").save(str(events_table))
    events = spark.read.format("delta").load(str(events_table))
    recomputed_positions(spark, loaded, events, work)
    return time.perf_counter() - started, events.count()


def positions_differing(spark: SparkSession, loaded: LoadedConfig, work: Path) -> int:
    """Rows in which the accelerator's last positions and ours differ (quantity on hand): 0 when both did
    the same work."""
    columns = ("store_id", "product_id", "quantity_on_hand")
    ours = spark.read.format("delta").load(loaded.config.storage.table_path("gold/inventory_positions"))
    theirs = spark.read.format("delta").load(str(work / "accelerator_positions"))
    ours, theirs = ours.select(*columns), theirs.select(*columns)
    return ours.exceptAll(theirs).count() + theirs.exceptAll(ours).count()


def feeder(landing: Path, keys: list[tuple[str, str]], rate: int, seconds: int, written: dict[str, float]) -> None:
    """A file of `rate` IoT change events every second (one item each, a restock or a shrink)."""
    folder = landing / "inventory/changes/2025-02-15"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for second in range(seconds):
        due = time.time()
        lines = []
        for n in range(rate):
            store, item = keys[rng.randrange(len(keys))]
            change = 3 if rng.random() < 0.5 else 2
            quantity = rng.randint(1, 5) * (1 if change == 3 else -1)
            lines.append(
                json.dumps(
                    {
                        "trans_id": f"B{second:05d}-{n:06d}",
                        "store_id": int(store),
                        "date_time": f"2025-02-15 {10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}",
                        "change_type_id": change,
                        "items": [{"item_id": int(item), "quantity": quantity}],
                    }
                )
            )
        part = folder / f".bench-{second:05d}.jsonl.tmp"
        part.write_text("\n".join(lines) + "\n", encoding="utf-8")
        final = folder / f"bench-{second:05d}.jsonl"
        part.rename(final)  # the file stream sees the whole file or none of it
        written[f"file:{final}"] = time.time()  # as Spark names the file in `_metadata.file_path`
        time.sleep(max(0.0, due + 1 - time.time()))


def rows_taken(spark: SparkSession) -> int:
    """Input rows of the finished micro-batches of the running query (started for this measurement, on a
    lakehouse with nothing new, so every row it took was fed)."""
    return sum(progress.numInputRows for query in spark.streams.active for progress in query.recentProgress)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def throughput_and_latency(
    spark: SparkSession, loaded: LoadedConfig, rate: int, seconds: int, trigger: float = 5.0
) -> dict[str, Any]:
    config = loaded.config
    positions_path = config.storage.table_path("gold/inventory_positions")
    keys = [(r.store_id, r.product_id) for r in spark.read.format("delta").load(positions_path).collect()]
    written: dict[str, float] = {}
    runner = JobRunner(spark, loaded)
    stream = threading.Thread(target=lambda: runner.run("inventory", trigger_seconds=trigger))
    history_version = DeltaTable.forPath(spark, positions_path).history(1).first()["version"]
    stream.start()
    time.sleep(10)  # the query starts and finds nothing new before the feeder begins
    feed_started = time.time()
    feeder(Path(config.storage.landing), keys, rate, seconds, written)
    ledger_path = config.storage.table_path("silver/inventory_events")
    fed = rate * seconds
    deadline = time.time() + 600
    # Until the stream has taken every fed event. Watched through the query's progress reports, not by
    # querying a table: on two cores a poller's Spark jobs would take CPU from the stream it measures.
    while time.time() < deadline and rows_taken(spark) < fed:
        time.sleep(1)
    progress = [p for query in spark.streams.active for p in query.recentProgress]
    for query in spark.streams.active:
        query.stop()
    stream.join()
    ledger = spark.read.format("delta").load(ledger_path).where(F.col("source").isin(list(written)))
    per_file = ledger.groupBy("source", "batch_id").agg(F.count("*").alias("events")).collect()
    commits = (
        DeltaTable.forPath(spark, positions_path)
        .history()
        .where(F.col("version") > history_version)
        .select("timestamp", "userMetadata")
        .collect()
    )
    visible = {int(c.userMetadata.rsplit("#", 1)[1]): c.timestamp.timestamp() for c in commits if c.userMetadata}
    latencies: list[float] = []
    by_third: list[list[float]] = [[], [], []]  # by when the file was written: first, middle, last third
    for row in per_file:
        latency = visible[row.batch_id] - written[row.source]
        latencies += [latency] * row.events
        third = min(2, int(3 * (written[row.source] - feed_started) / seconds))
        by_third[third] += [latency] * row.events
    batches = sorted({row.batch_id for row in per_file})
    done = max(visible[b] for b in batches)
    batch_seconds = [p.durationMs.get("triggerExecution", 0) / 1000 for p in progress if p.batchId in batches]
    busy = sum(batch_seconds)
    return {
        "events": len(latencies),
        "offered_rate": rate,
        "sustained_rate": len(latencies) / (done - feed_started),
        "processing_rate": len(latencies) / busy,
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "p95_first_third": percentile(by_third[0], 0.95),
        "p95_last_third": percentile(by_third[2], 0.95),
        "batches": len(batches),
        "batch_seconds": [round(duration, 1) for duration in batch_seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--rate", type=int, default=10_000, help="events per second the feeder writes")
    parser.add_argument("--seconds", type=int, default=60, help="how long the feeder writes")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--trigger", type=float, default=5.0, help="seconds between micro-batches (continuous)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    shutil.rmtree(work, ignore_errors=True)
    staging = work / "staging"
    generate_landing(staging, GeneratorOptions(scale=args.scale, days=30, start_date=START))
    loaded3 = configured(work, "history-3")
    # Each micro-batch logs where its time went (stderr).
    configure_logging(loaded3.config.logging, loaded3.redactor, sys.stderr)
    spark = get_spark_session(loaded3.config.spark, warehouse_dir=str(work / "warehouse"))

    build_history(spark, staging, work, 3)
    build30, build_rows30 = build_history(spark, staging, work, 30)
    # Both timed batches run in a warm JVM, one after the other.
    t3, rows3 = next_day_batch(spark, staging, work, 3)
    t30, rows30 = next_day_batch(spark, staging, work, 30)
    print(f"scale {args.scale}: 30-day history built in one batch: {build_rows30:,} events in {build30:.1f} s")
    print(f"day 3 batch (history 2 days): {rows3:,} events in {t3:.1f} s")
    print(f"day 30 batch (history 29 days): {rows30:,} events in {t30:.1f} s")
    print(f"batch at 10x history / batch at 1x: {t30 / t3:.2f} (goal: at most 1.3)")

    loaded30 = configured(work, "history-30")
    accelerator, events = accelerator_recompute(spark, loaded30, work)
    print(f"accelerator approach at 30 days (recompute all {events:,} events, overwrite): {accelerator:.1f} s")
    print(f"accelerator / ours for the day-30 trigger: {accelerator / t30:.2f}")

    result = throughput_and_latency(spark, loaded30, args.rate, args.seconds, args.trigger)
    print(
        f"continuous, {args.trigger:g} s trigger, {result['offered_rate']:,} events/s offered for {args.seconds} s: "
        f"{result['events']:,} events in {result['batches']} batches, "
        f"sustained {result['sustained_rate']:,.0f} events/s from the first file to the last event visible, "
        f"processing {result['processing_rate']:,.0f} events/s of batch time; "
        f"latency p50 {result['p50']:.1f} s, p95 {result['p95']:.1f} s, max {result['max']:.1f} s; "
        f"p95 of the first third of the feed {result['p95_first_third']:.1f} s, "
        f"of the last third {result['p95_last_third']:.1f} s; batch seconds {result['batch_seconds']}"
    )


if __name__ == "__main__":
    main()
