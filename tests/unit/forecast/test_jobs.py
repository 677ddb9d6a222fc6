from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.forecast.jobs import (
    ReplenishmentParams,
    backtest_origins,
    chosen_models,
    demand_forecast,
    forecast_accuracy,
    forecast_backtest,
    partition_count,
    replenishment,
)
from retail_lakehouse.forecast.models import ForecastParams
from retail_lakehouse.forecast.partitions import BACKTEST_SCHEMA, FORECAST_SCHEMA
from retail_lakehouse.summary import _forecast_accuracy
from tests.unit.forecast.series import history
from tests.unit.gold.silver_rows import PRODUCTS

ORIGIN = date(2025, 3, 1)


def backtest_rows(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    """(product, model, horizon_day, p10, p50, p90, mean, actual, stock_out, mase_scale) at one origin."""
    return spark.createDataFrame(
        [
            (
                "1",
                product,
                "Bikes",
                ORIGIN,
                ORIGIN + dt.timedelta(days=h),
                h,
                model,
                p10,
                p50,
                p90,
                mean,
                actual,
                out,
                scale,
            )
            for product, model, h, p10, p50, p90, mean, actual, out, scale in rows
        ],
        BACKTEST_SCHEMA,
    )


def test_models_whose_errors_differ_only_in_the_last_bits_tie_and_the_preferred_one_is_chosen(
    spark: SparkSession,
) -> None:
    """LightGBM's errors 0.1 + 0.2 add up to 0.30000000000000004 in doubles, seasonal naive's to 0.3: a tie
    to 9 decimals, which goes to LightGBM (first of MODELS), whatever order a cluster adds them in. A real
    difference in the 9th decimal still decides."""
    backtest = backtest_rows(
        spark,
        [
            ("P1", "lightgbm", 1, 0.0, 0.1, 1.0, 0.1, 0.0, False, 1.0),
            ("P1", "lightgbm", 2, 0.0, 0.2, 1.0, 0.2, 0.0, False, 1.0),
            ("P1", "seasonal_naive", 1, 0.0, 0.3, 1.0, 0.3, 0.0, False, 1.0),
            ("P1", "seasonal_naive", 2, 0.0, 0.0, 1.0, 0.0, 0.0, False, 1.0),
            ("P2", "lightgbm", 1, 0.0, 0.300000002, 1.0, 0.3, 0.0, False, 1.0),
            ("P2", "ets", 1, 0.0, 0.300000001, 1.0, 0.3, 0.0, False, 1.0),
        ],
    )
    assert 0.1 + 0.2 != 0.3
    chosen = {(r.product_id, r.chosen_model) for r in chosen_models(backtest).collect()}
    assert chosen == {("P1", "lightgbm"), ("P2", "ets")}


def test_accuracy_is_worked_out_by_hand(spark: SparkSession) -> None:
    backtest = backtest_rows(
        spark,
        [
            ("P1", "lightgbm", 1, 1.0, 4.0, 6.0, 4.5, 5.0, False, 2.0),  # |e| 1, mean - actual -0.5, covered
            ("P1", "lightgbm", 8, 1.0, 2.0, 3.0, 2.0, 5.0, False, 2.0),  # |e| 3, -3, not covered
            ("P1", "lightgbm", 2, 0.0, 0.0, 1.0, 0.0, 9.0, True, 2.0),  # a stock-out day: left out
        ],
    )
    context = SimpleNamespace(run_id="r1", params=ForecastParams())
    accuracy = forecast_accuracy(backtest, ForecastParams(), context)  # type: ignore[arg-type]
    rows = {(r["origin_date"], r["horizon_week"], r["category"]): r for r in accuracy.collect()}
    whole = rows[(None, 0, "All")]
    assert whole["wape"] == pytest.approx(4 / 10)
    assert whole["bias"] == pytest.approx(-3.5 / 10)
    assert whole["mase"] == pytest.approx((1 / 2 + 3 / 2) / 2)
    assert whole["coverage_p10_p90"] == pytest.approx(0.5)
    assert whole["observations"] == 2
    week_two = rows[(ORIGIN, 2, "Bikes")]
    assert (week_two["wape"], week_two["coverage_p10_p90"]) == (pytest.approx(3 / 5), 0.0)
    assert {r["run_id"] for r in rows.values()} == {"r1"}
    assert len(rows) == 2 * 3 * 2  # origin (the one, all) x week (1, 2, all) x category (Bikes, All)
    assert '"horizon_days": 30' in whole["model_parameters"]


def test_replenishment_is_worked_out_by_hand(spark: SparkSession) -> None:
    # P1: 4 units a day forecast (mean), lead time 3 days: 12; backtest errors of its mean 1 and -1: RMSE 1;
    # safety stock 1.645 x 1 x sqrt(3) = 2.849; on hand 5: 12 + 2.849 - 5 = 9.849, ordered 10.
    forecast = spark.createDataFrame(
        [
            ("1", "P1", "Bikes", ORIGIN + dt.timedelta(days=h), h, 2.0, 4.0, 6.0, 4.0, "lightgbm", "r")
            for h in (1, 2, 3, 4)
        ]
        + [("1", "P2", "Bikes", ORIGIN + dt.timedelta(days=h), h, 0.0, 1.0, 2.0, 1.0, "ets", "r") for h in (1, 2)],
        FORECAST_SCHEMA + ", run_id string",
    )
    backtest = backtest_rows(
        spark,
        [
            ("P1", "lightgbm", 1, 0.0, 4.0, 6.0, 4.0, 5.0, False, 1.0),
            ("P1", "lightgbm", 2, 0.0, 4.0, 6.0, 4.0, 3.0, False, 1.0),
            ("P1", "ets", 1, 0.0, 4.0, 6.0, 9.0, 5.0, False, 1.0),  # another model's errors do not count
            ("P2", "ets", 1, 0.0, 1.0, 2.0, 1.0, 1.0, False, 1.0),
        ],
    )
    products = spark.createDataFrame(
        [
            ("P1", "SKU1", "Bike", "3", Decimal(1), Decimal(2), datetime(2024, 1, 1), None, True, "a", "S1"),
            ("P2", "SKU2", "Gel", "3", Decimal(1), Decimal(2), datetime(2024, 1, 1), None, True, "b", "S2"),
        ],
        PRODUCTS + ", supplier_id STRING",
    )
    suppliers = spark.createDataFrame([("S1", 3), ("S2", 5)], "supplier_id STRING, lead_time_days INT")
    positions = spark.createDataFrame([("1", "P1", 5)], "store_id STRING, product_id STRING, quantity_on_hand BIGINT")
    params = ReplenishmentParams(service_level=0.95)
    orders = {
        r["product_id"]: r for r in replenishment(forecast, backtest, products, suppliers, params, positions).collect()
    }
    assert orders["P1"]["forecast_lead_time_demand"] == 12.0
    assert orders["P1"]["safety_stock"] == pytest.approx(2.849, abs=1e-3)
    assert orders["P1"]["order_quantity"] == 10
    # P2: lead time 5 beyond the 2-day forecast: 2 + 3 x 1 a day; error 0; no position: on hand unknown (null).
    assert (orders["P2"]["forecast_lead_time_demand"], orders["P2"]["safety_stock"]) == (5.0, 0.0)
    assert (orders["P2"]["quantity_on_hand"], orders["P2"]["order_quantity"]) == (None, 5)
    without_positions = replenishment(forecast, backtest, products, suppliers, params).collect()
    assert {r["product_id"]: r["order_quantity"] for r in without_positions} == {"P1": 15, "P2": 5}


def test_backtest_and_forecast_run_per_partition_in_spark(spark: SparkSession) -> None:
    """Two partitions of 6 series: every model forecasts every series at each origin and for each day ahead."""
    frame = history(6, 120, 5.0, first=date(2025, 1, 1)).drop(columns=["demand", "department_code"])
    features = spark.createDataFrame(frame)
    params = ForecastParams(horizon_days=7, backtest_origins=2, partitions=2, num_boost_round=30, ets_history_days=28)
    backtest = forecast_backtest(features, params).cache()
    last = max(frame["date"])
    assert backtest_origins(last, params) == [last - dt.timedelta(days=14), last - dt.timedelta(days=7)]
    assert backtest.count() == 6 * 7 * 2 * 3
    actual = {(r["product_id"], r["date"]): r["quantity_sold"] for r in frame.to_dict("records")}
    assert all(actual[(r["product_id"], r["date"])] == r["actual"] for r in backtest.collect())
    stores = spark.createDataFrame(
        [(str(s), "", "") for s in range(1, 5)], "store_id STRING, country STRING, subdivision STRING"
    )
    context = SimpleNamespace(run_id="r2", params=params)
    forecast = demand_forecast(features, backtest, stores, params, context).collect()  # type: ignore[arg-type]
    assert len(forecast) == 6 * 7
    assert {r["horizon_day"] for r in forecast} == set(range(1, 8))
    assert all(r["p10"] <= r["p90"] and r["p10"] >= 0 for r in forecast)
    assert {r["run_id"] for r in forecast} == {"r2"}


def test_the_summary_prints_each_models_backtest_against_seasonal_naive(spark: SparkSession) -> None:
    schema = (
        "origin_date date, model string, horizon_week int, category string, wape double, mase double, bias double, "
        "coverage_p10_p90 double, observations bigint"
    )
    rows = [
        (None, "seasonal_naive", 0, "All", 1.0, 1.2, -0.04, 0.82, 600),
        (None, "lightgbm", 0, "All", 0.75, 0.9, -0.02, 0.81, 600),
        (None, "lightgbm", 1, "All", 0.5, 0.9, -0.02, 0.81, 100),  # a horizon week: not in the summary
        (ORIGIN, "lightgbm", 0, "All", 0.7, 0.9, -0.02, 0.81, 300),  # one origin: not in it either
    ]
    assert _forecast_accuracy(spark.createDataFrame(rows, schema)) == [
        "lightgbm        WAPE 0.750  MASE 0.900  bias -0.020  P10-P90 coverage 81%  (600 store-product-days)"
        "  WAPE 25% below seasonal naive",
        "seasonal_naive  WAPE 1.000  MASE 1.200  bias -0.040  P10-P90 coverage 82%  (600 store-product-days)",
    ]


def test_partitions_hold_series_per_partition_series_unless_set(spark: SparkSession) -> None:
    features = spark.createDataFrame(
        [(str(s % 3), str(s), ORIGIN) for s in range(9)], "store_id string, product_id string, date date"
    )
    assert partition_count(features, ForecastParams(series_per_partition=4)) == 3  # 9 series
    assert partition_count(features, ForecastParams(series_per_partition=9)) == 1
    assert partition_count(features, ForecastParams(partitions=5)) == 5
