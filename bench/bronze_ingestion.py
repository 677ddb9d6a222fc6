"""Benchmark: generator time, and bronze ingestion through the framework against a plain one-shot
`spark.read` -> Delta write of the same files, in the same run and Spark session.

    .venv/bin/python bench/bronze_ingestion.py [--scale 1] [--days 90] [--repeat 1] [--work DIR]

Prints rows per second for both and the framework's overhead; results go to docs/benchmarks.md. Both
first run once untimed (`--warmup`), so neither pays the JVM's warm-up for the other. With `--repeat N`
the two alternate N times, each time into new tables (and a new lakehouse, so the framework ingests
everything again), and the median ratio is printed too: a shared machine's speed drifts within minutes,
and alternating exposes both sides to the same drift.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.io.readers import read_feed
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runner.pipelines import run_pipeline
from retail_lakehouse.runtime.spark import get_spark_session

REPO = Path(__file__).resolve().parent.parent


def plain_ingestion(spark: SparkSession, feeds: dict[str, FeedSettings], landing: Path, target: Path) -> None:
    """What a hand-written notebook would do: read each feed's files once, write them to Delta."""
    for name, feed in feeds.items():
        df = read_feed(spark, feed, str(landing / str(feed.path)), incremental=False)
        df.write.format("delta").mode("overwrite").save(str(target / name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=1, help="alternate plain and framework this many times")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds of both before the timed ones")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-bronze-"))
    landing, lakehouse, plain = work / "landing", work / "lakehouse", work / "plain"
    for folder in (landing, lakehouse, plain):
        shutil.rmtree(folder, ignore_errors=True)

    started = time.perf_counter()
    manifest = generate_landing(landing, GeneratorOptions(scale=args.scale, days=args.days))
    generator_seconds = time.perf_counter() - started
    total_rows = sum(f["rows"] for f in manifest["feeds"].values())
    print(f"generator: scale {args.scale}, {args.days} days, {total_rows:,} records in {generator_seconds:.1f} s")

    environ = {"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench-card-token-key"}
    # The silver jobs' card-token key must resolve for the configuration to load; bronze never uses it.
    loaded = load_config(
        transforms=catalogue(), conf_dir=REPO / "conf", set_overrides=[f"storage.landing={landing}"], environ=environ
    )
    spark = get_spark_session(loaded.config.spark, warehouse_dir=str(work / "warehouse"))

    ratios = []
    for attempt in range(1 - args.warmup, args.repeat + 1):
        warming_up = attempt < 1
        plain_target = plain / str(attempt)
        started = time.perf_counter()
        plain_ingestion(spark, dict(loaded.config.feeds), landing, plain_target)
        plain_seconds = time.perf_counter() - started
        plain_rows = sum(
            spark.read.format("delta").load(str(plain_target / name)).count() for name in loaded.config.feeds
        )

        # As `lakehouse pipeline bronze` runs them: run records are written in the background, several to a commit.
        overrides = [f"storage.landing={landing}", f"storage.root={lakehouse / str(attempt)}"]
        runner = JobRunner(
            spark, load_config(transforms=catalogue(), conf_dir=REPO / "conf", set_overrides=overrides, environ=environ)
        )
        started = time.perf_counter()
        runs = run_pipeline(runner, "bronze", progress_stream=io.StringIO()).runs
        framework_seconds = time.perf_counter() - started
        framework_rows = sum(r.rows_written or 0 for r in runs)
        assert all(r.status == "succeeded" for r in runs), [r.error for r in runs if r.error]
        assert framework_rows == plain_rows == total_rows, (framework_rows, plain_rows, total_rows)
        if warming_up:
            print(f"warm-up: plain {plain_seconds:.1f} s, framework {framework_seconds:.1f} s")
            continue
        ratios.append(framework_seconds / plain_seconds)

        print(f"attempt {attempt}")
        print(
            f"  plain spark.read -> Delta : {plain_rows:,} rows in {plain_seconds:.1f} s "
            f"({plain_rows / plain_seconds:,.0f} rows/s)"
        )
        print(
            f"  framework bronze jobs     : {framework_rows:,} rows in {framework_seconds:.1f} s "
            f"({framework_rows / framework_seconds:,.0f} rows/s)"
        )
        print(f"  framework overhead        : {ratios[-1] - 1:+.0%} (time ratio {ratios[-1]:.2f})")

    started = time.perf_counter()
    reruns = run_pipeline(runner, "bronze", progress_stream=io.StringIO()).runs
    rerun_seconds = time.perf_counter() - started
    assert sum(r.rows_written or 0 for r in reruns) == 0
    median = statistics.median(ratios)
    print(f"median framework overhead : {median - 1:+.0%} (time ratio {median:.2f}) over {len(ratios)} attempt(s)")
    print(f"re-run with no new files  : {rerun_seconds:.1f} s for {len(reruns)} jobs, 0 rows")
    spark.stop()


if __name__ == "__main__":
    main()
