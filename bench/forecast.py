"""Benchmark: the forecasting jobs' cost as the number of series grows, and their accuracy against the
seasonal naive baseline, on one lakehouse's gold/demand_features.

    .venv/bin/python bench/forecast.py LAKEHOUSE_ROOT [--products 5 10 20] [--partitions N]

For each product count N, the N products with the most units in the feature table (every store of each):
the backtest (3 origins x 30 days, every model) and the forecast ahead, timed separately through the jobs'
transforms on a local Spark session, and the backtest's WAPE per model. Prints one line per N with the
series count, seconds, seconds per series and LightGBM's WAPE relative to seasonal naive. Build the
feature table first (e.g. `lakehouse generate --scale 0.25 --days 730`, `lakehouse pipeline daily`,
`lakehouse run gold_demand_features`). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.forecast.jobs import demand_forecast, forecast_backtest
from retail_lakehouse.forecast.models import ForecastParams
from retail_lakehouse.runtime.spark import get_spark_session


def wape_by_model(backtest: DataFrame) -> dict[str, float]:
    rows = (
        backtest.where(~F.col("stock_out"))
        .groupBy("model")
        .agg((F.sum(F.abs(F.col("p50") - F.col("actual"))) / F.sum("actual")).alias("wape"))
        .collect()
    )
    return {r["model"]: r["wape"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--products", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--partitions", type=int, default=None, help="default: one per 2,000 series")
    args = parser.parse_args()
    spark = get_spark_session(SparkSettings(session="local", master="local[2]", shuffle_partitions=4, ui_enabled=False))
    features = spark.read.format("delta").load(f"{args.root}/gold/demand_features").cache()
    stores = spark.read.format("delta").load(f"{args.root}/silver/stores").cache()
    ranked = [
        r["product_id"]
        for r in features.groupBy("product_id").agg(F.sum("quantity_sold").alias("u")).orderBy(F.desc("u")).collect()
    ]
    params = ForecastParams(partitions=args.partitions)
    print(f"{'products':>8} {'series':>7} {'rows':>9} {'backtest s':>11} {'forecast s':>11} {'s/series':>9}  WAPE")
    for count in args.products:
        scoped = features.where(F.col("product_id").isin(ranked[:count])).cache()
        rows = scoped.count()
        series = scoped.select("store_id", "product_id").distinct().count()
        started = time.perf_counter()
        backtest = forecast_backtest(scoped, params).cache()
        backtest.count()
        backtest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        context = SimpleNamespace(run_id="bench", params=params)
        forecast_rows = demand_forecast(scoped, backtest, stores, params, context).count()  # type: ignore[arg-type]
        forecast_seconds = time.perf_counter() - started
        wape = wape_by_model(backtest)
        relative = 1 - wape["lightgbm"] / wape["seasonal_naive"]
        print(
            f"{count:>8} {series:>7} {rows:>9,} {backtest_seconds:>11.1f} {forecast_seconds:>11.1f} "
            f"{(backtest_seconds + forecast_seconds) / series:>9.3f}  lightgbm {wape['lightgbm']:.3f}, "
            f"ets {wape['ets']:.3f}, seasonal naive {wape['seasonal_naive']:.3f} "
            f"(lightgbm {relative:.0%} below; {forecast_rows:,} forecast rows)"
        )
        backtest.unpersist()
        scoped.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
