"""Benchmark: the inventory stream's two steps that read the whole positions table, at a given size, each
against an alternative, side by side in one JVM, alternating, on the same rows.

    .venv/bin/python bench/positions_merge.py [--stores 51] [--products 5000] [--touched 0.06] [--rounds 4]

A positions table of stores x products rows (scale 1: 51 stores, 5,000 products, 255,000 rows) is written
in 4 files, as the stream writes it (4 shuffle partitions). A micro-batch touches a share of the positions
(`--touched`; a one-day batch at scale 1 changes 15,000-16,000 of 255,000, 0.06). Timed per round:

- **the MERGE** (`delta_tables.merge`, the stream's own call) of the touched positions with a new quantity,
  into a copy created without deletion vectors (as configured) and into one created with them; then a
  filtered read of each copy (every reader of the table pays for the vectors);
- **the lookup of the current positions** of the batch's keys: the keys left-joined with the whole table
  (as `position_updates` did until 2026-12-05; the planner broadcasts the table while its files are under
  10 MB) against `current_positions`, the stream's own lookup (the table semi-joined with the keys first).

Results go to docs/benchmarks.md (inventory stream).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.inventory.positions import POSITION_COLUMNS, POSITION_KEY, current_positions
from retail_lakehouse.io import delta_tables
from retail_lakehouse.runtime.spark import get_spark_session

KEYS = list(POSITION_KEY)


def positions(spark: SparkSession, stores: int, products: int) -> DataFrame:
    """One row per store and product, with the stream's columns and types."""
    grid = spark.range(stores * products).select(
        (F.col("id") % stores).cast("string").alias("store_id"),
        (F.col("id") / stores + 100001).cast("long").cast("string").alias("product_id"),
        (F.col("id") % 97).alias("id"),
    )
    return grid.select(
        *KEYS,
        F.col("id").cast("long").alias("quantity_on_hand"),
        F.col("id").cast("int").alias("snapshot_quantity"),
        F.lit("2025-01-01 08:00:00").cast("timestamp").alias("snapshot_ts"),
        F.lit("2025-01-30 18:00:00").cast("timestamp").alias("last_change_ts"),
        F.lit(15).alias("safety_stock_quantity"),
        (F.col("id") < 15).alias("below_safety_stock"),
        F.lit("2025-01-31 00:00:00").cast("timestamp").alias("updated_at"),
    ).select(*POSITION_COLUMNS)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    """Over the rounds after the first, which pays for the JVM's warming on each side."""
    return statistics.median(values[1:] or values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=51)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--touched", type=float, default=0.06)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-positions-merge-"))
    shutil.rmtree(work, ignore_errors=True)
    spark = get_spark_session(
        SparkSettings(session="local", master="local[2]", shuffle_partitions=4, driver_memory="4g", ui_enabled=False),
        warehouse_dir=str(work / "warehouse"),
    )
    rows = positions(spark, args.stores, args.products).repartition(4).localCheckpoint(eager=True)
    tables = {vectors: TableRef(str(work / f"positions-vectors-{vectors}")) for vectors in (False, True)}
    for vectors, ref in tables.items():
        rows.write.format("delta").option("delta.enableDeletionVectors", str(vectors).lower()).save(ref.path)
    keys = rows.select(*KEYS).sample(args.touched, seed=7).localCheckpoint(eager=True)
    print(f"{rows.count():,} positions in 4 files; a batch touches {keys.count():,}", flush=True)

    merge_seconds: dict[bool, list[float]] = {False: [], True: []}
    read_seconds: dict[bool, list[float]] = {False: [], True: []}
    lookups: dict[str, Callable[[DataFrame], DataFrame]] = {
        "keys join table": lambda table: keys.join(table, KEYS, "left"),
        "current_positions": lambda table: current_positions(keys, table),
    }
    lookup_seconds: dict[str, list[float]] = {name: [] for name in lookups}
    for round_number in range(1, args.rounds + 1):
        # The same new quantities into both copies; each round changes every touched row again.
        source = keys.join(rows, KEYS).withColumn("quantity_on_hand", F.col("quantity_on_hand") + round_number)
        source = source.localCheckpoint(eager=True)
        order = (False, True) if round_number % 2 else (True, False)
        for vectors in order:
            ref = tables[vectors]
            merge_seconds[vectors].append(timed(lambda ref=ref, source=source: delta_tables.merge(source, ref, KEYS)))
            read = spark.read.format("delta").load(ref.path).where("below_safety_stock")
            read_seconds[vectors].append(timed(read.count))
        for name in sorted(lookups, reverse=round_number % 2 == 0):
            table = spark.read.format("delta").load(tables[False].path)
            lookup_seconds[name].append(timed(lambda name=name, table=table: lookups[name](table).count()))
        print(
            f"round {round_number}: merge {merge_seconds[False][-1]:.2f} s without vectors, "
            f"{merge_seconds[True][-1]:.2f} s with; lookups "
            + ", ".join(f"{name} {seconds[-1]:.2f} s" for name, seconds in lookup_seconds.items()),
            flush=True,
        )
    print()
    print("| measure | first (s) | second (s) | first / second |")
    print("|---|---:|---:|---:|")
    for label, first, second in (
        ("MERGE, without / with deletion vectors", merge_seconds[False], merge_seconds[True]),
        ("filtered read after it, without / with", read_seconds[False], read_seconds[True]),
        (
            "lookup, keys join whole table / current_positions",
            lookup_seconds["keys join table"],
            lookup_seconds["current_positions"],
        ),
    ):
        print(f"| {label} | {median(first):.2f} | {median(second):.2f} | {median(first) / median(second):.2f} |")
    differing = (
        spark.read.format("delta")
        .load(tables[False].path)
        .exceptAll(spark.read.format("delta").load(tables[True].path))
    )
    print(f"rows differing between the two copies after the merges: {differing.count()}")


if __name__ == "__main__":
    main()
