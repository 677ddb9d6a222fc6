"""Benchmark: the gold analytics pipeline at scale, and the incremental daily sales update against a full
rebuild and against DuckDB, in one run on the same silver data.

    .venv/bin/python bench/gold_analytics.py [--scale 1] [--days 90] [--work DIR]

1. Generates `days - 1` days and runs bronze and silver (the `daily` pipeline without its gold jobs).
2. Times the `analytics` pipeline (every gold batch table, first build).
3. Delivers one more day, runs bronze and silver again and times `gold_sales_daily` (reads the change
   feed, recomputes only the new date): the first run after a build, which also replays the planning of
   the build's batch (Spark asks a restarted query's source for its last batch again). Then a second
   day, the steady state of a daily run, timed three times from the same table and checkpoint (restored
   between runs; the median counts) against three of each of two full rebuilds of the same table: the
   same job with no table and no checkpoint, and a plain Spark aggregation of every line written by
   overwrite. With --extend, a later run skips steps 1-2 on the lakehouse an earlier run left.
4. Runs the same aggregation in DuckDB over the Parquet files of the same silver table version (found with
   the deltalake package) as a single-machine reference, and checks both give the same totals.
Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from deltalake import DeltaTable
from pyspark.sql import functions as F

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.gold.sales import sales_daily
from retail_lakehouse.ops.run_history import JobRun
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runtime.spark import get_spark_session

REPO = Path(__file__).resolve().parent.parent
REPEATS = 3  # timed runs of each side of the incremental comparison; the median counts
DUCKDB_SALES_DAILY = """
SELECT sale_date, store_id, product_id, channel,
       SUM(quantity) AS quantity_sold, SUM(gross_amount) AS gross_revenue,
       SUM(discount_amount) AS discount_amount, SUM(net_amount) AS net_revenue,
       COUNT(DISTINCT transaction_id) AS transaction_count, COUNT(*) AS line_count
FROM read_parquet(?, hive_partitioning = true)
GROUP BY ALL
"""


def seconds_list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument(
        "--extend",
        action="store_true",
        help="reuse the lakehouse an earlier run left in --work: skip steps 1-2 and deliver its next day",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-gold-"))
    landing, lakehouse = work / "landing", work / "lakehouse"
    shutil.rmtree(work / "rebuild", ignore_errors=True)
    start = dt.date(2025, 1, 1)
    if not args.extend:
        for folder in (landing, lakehouse):
            shutil.rmtree(folder, ignore_errors=True)
        generate_landing(landing, GeneratorOptions(scale=args.scale, days=args.days - 1, start_date=start))

    loaded = load_config(
        transforms=catalogue(),
        conf_dir=REPO / "conf",
        set_overrides=[f"storage.landing={landing}", f"storage.root={lakehouse}"],
        environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench-card-token-key"},
    )
    config = loaded.config
    spark = get_spark_session(config.spark, warehouse_dir=str(work / "warehouse"))
    runner = JobRunner(spark, loaded)
    upstream = [job for job in config.job_names_of("daily") if not job.startswith("gold_")]

    def run_all(jobs: list[str]) -> list[JobRun]:
        runs = [runner.run(job) for job in jobs]
        failed = [(r.job, r.error) for r in runs if r.status != "succeeded"]
        assert not failed, failed
        return runs

    if not args.extend:
        upstream_seconds, _ = timed(lambda: run_all(upstream))
        print(f"bronze + silver, {args.days - 1} days, scale {args.scale}: {upstream_seconds:.1f} s")
        per_job: dict[str, float] = {}
        for job in config.job_names_of("analytics"):
            per_job[job], _ = timed(lambda job=job: run_all([job]))
        print(f"analytics pipeline (first build): {sum(per_job.values()):.1f} s")
        for job, seconds in per_job.items():
            print(f"  {job:<32} {seconds:6.1f} s")

    def deliver_next_day() -> dt.date:
        delivered = json.loads((landing / "_manifest.json").read_text())["generator"]["end_date"]
        next_day = dt.date.fromisoformat(delivered) + dt.timedelta(days=1)
        generate_landing(landing, GeneratorOptions(scale=args.scale, days=1, start_date=next_day))
        return next_day

    table_dir = lakehouse / "gold" / "sales_daily"
    checkpoint_dir = Path(config.storage.checkpoint("gold_sales_daily"))
    first_day = deliver_next_day()
    first_upstream, _ = timed(lambda: run_all(upstream))
    first_seconds, (first,) = timed(lambda: run_all(["gold_sales_daily"]))
    print(f"new day ({first_day}) through bronze + silver: {first_upstream:.1f} s")
    print(
        f"gold_sales_daily, first incremental run after the build: {first_seconds:.1f} s, "
        f"{first.rows_read:,} changed lines read, {first.rows_written:,} rows written"
    )

    next_day = deliver_next_day()
    days = (next_day - start).days + 1
    run_all(upstream)
    saved = work / "saved"
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(table_dir, saved / "table")
    shutil.copytree(checkpoint_dir, saved / "checkpoint")

    def restore() -> None:
        for folder, copy in ((table_dir, saved / "table"), (checkpoint_dir, saved / "checkpoint")):
            shutil.rmtree(folder)
            shutil.copytree(copy, folder)

    incremental_times: list[float] = []
    for _ in range(REPEATS):
        restore()
        seconds, (incremental,) = timed(lambda: run_all(["gold_sales_daily"]))
        incremental_times.append(seconds)
    # The same job rebuilding everything: no table, no checkpoint, so the change feed starts from scratch.
    job_rebuild_times: list[float] = []
    for _ in range(REPEATS):
        shutil.rmtree(table_dir)
        shutil.rmtree(checkpoint_dir)
        seconds, (rebuilt,) = timed(lambda: run_all(["gold_sales_daily"]))
        job_rebuild_times.append(seconds)

    lines_path = config.storage.table_path("silver/transaction_lines")
    lines = spark.read.format("delta").load(lines_path)
    rebuild_path = str(work / "rebuild" / "sales_daily")
    rebuild_times = [
        timed(
            lambda: (
                sales_daily(lines, lines)
                .write.format("delta")
                .mode("overwrite")
                .partitionBy("sale_date")
                .save(rebuild_path)
            )
        )[0]
        for _ in range(REPEATS)
    ]
    spark_aggregate_seconds, spark_rows = timed(lambda: sales_daily(lines, lines).collect())
    incremental_seconds, job_rebuild_seconds, rebuild_seconds = (
        statistics.median(times) for times in (incremental_times, job_rebuild_times, rebuild_times)
    )
    print(
        f"gold_sales_daily, one new day ({next_day}), steady state: median {incremental_seconds:.2f} s "
        f"of {seconds_list(incremental_times)}, {incremental.rows_read:,} changed lines read, "
        f"{incremental.rows_written:,} rows written"
    )
    print(
        f"gold_sales_daily rebuilding all {days} days (same job, no table or checkpoint): median "
        f"{job_rebuild_seconds:.2f} s of {seconds_list(job_rebuild_times)}, {rebuilt.rows_read:,} lines read, "
        f"{rebuilt.rows_written:,} rows written"
    )
    print(
        f"plain Spark rebuild (aggregate all lines, overwrite a Delta table): median {rebuild_seconds:.2f} s "
        f"of {seconds_list(rebuild_times)}"
    )
    print(
        f"incremental / job rebuild: {incremental_seconds / job_rebuild_seconds:.1%}; "
        f"incremental / plain rebuild: {incremental_seconds / rebuild_seconds:.1%} (goal: under 20%)"
    )

    files = DeltaTable(lines_path).file_uris()
    connection = duckdb.connect()
    duckdb_seconds, duck_rows = timed(lambda: connection.execute(DUCKDB_SALES_DAILY, [files]).fetchall())
    assert len(duck_rows) == len(spark_rows), (len(duck_rows), len(spark_rows))
    duck_net = sum(row[7] for row in duck_rows)
    spark_net = sum(row["net_revenue"] for row in spark_rows)
    assert duck_net == spark_net, (duck_net, spark_net)
    gold_net = (
        spark.read.format("delta")
        .load(config.storage.table_path("gold/sales_daily"))
        .agg(F.sum("net_revenue"))
        .first()[0]
    )  # type: ignore[index]
    assert gold_net == spark_net, (gold_net, spark_net)
    print(
        f"same aggregation, {len(spark_rows):,} groups: Spark {spark_aggregate_seconds:.1f} s (collect), "
        f"DuckDB {duckdb_seconds:.1f} s over the same {len(files)} Parquet files; "
        f"Spark / DuckDB = {spark_aggregate_seconds / duckdb_seconds:.1f}x"
    )
    spark.stop()


if __name__ == "__main__":
    main()
