"""Benchmark: what checking UTF-8 costs bronze's CSV reads, side by side in one Spark session.

    .venv/bin/python bench/utf8_check.py [--scale 1] [--days 30] [--repeat 3]

Reads every CSV feed of a generated landing zone twice per round into Spark's no-op sink: as the
framework reads it (ISO-8859-1, each field decoded and checked as UTF-8, undecodable rows kept in
base64), and as Spark's own CSV reader decodes UTF-8 (replacing bytes it cannot decode). Prints the
median ratio; results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.io.readers import CORRUPT_RECORD, feed_schema_ddl, read_feed
from retail_lakehouse.runtime.spark import get_spark_session

REPO = Path(__file__).resolve().parent.parent


def timed(frames: list[DataFrame]) -> float:
    start = time.perf_counter()
    for frame in frames:
        frame.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="utf8-bench-"))
    landing = work / "landing"
    generate_landing(landing, GeneratorOptions(scale=args.scale, days=args.days))
    environ = {"LAKEHOUSE_LANDING": str(landing), "LAKEHOUSE_ROOT": str(work / "lake"),
               "LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench"}  # fmt: skip
    config = load_config(transforms=catalogue(), conf_dir=REPO / "conf", environ=environ).config
    spark: SparkSession = get_spark_session(config.spark)
    feeds = {name: feed for name, feed in config.feeds.items() if feed.format == "csv"}
    checked = [read_feed(spark, f, str(landing / str(f.path)), incremental=False) for f in feeds.values()]
    spark_decoded = [
        spark.read.format("csv")
        .schema(feed_schema_ddl(f))
        .options(
            **{
                "recursiveFileLookup": "true",
                "enforceSchema": "false",
                "mode": "PERMISSIVE",
                "columnNameOfCorruptRecord": CORRUPT_RECORD,
                **f.options,
            }
        )
        .load(str(landing / str(f.path)))
        for f in feeds.values()
    ]
    rows = sum(frame.count() for frame in spark_decoded)
    timed(checked), timed(spark_decoded)  # warm-up
    ratios = []
    for attempt in range(args.repeat):
        plain, ours = timed(spark_decoded), timed(checked)
        ratios.append(ours / plain)
        print(
            f"attempt {attempt + 1}: Spark's decoding {plain:.2f} s, checked UTF-8 {ours:.2f} s, "
            f"ratio {ours / plain:.2f}"
        )
    print(f"{len(feeds)} CSV feeds, {rows:,} rows; median ratio {statistics.median(ratios):.2f}")
    spark.stop()


if __name__ == "__main__":
    main()
