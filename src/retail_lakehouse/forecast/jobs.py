"""The forecasting jobs' transforms: the rolling-origin backtest, its accuracy, the forecast ahead and the
replenishment orders it implies. The models run per partition of series (forecast.partitions)."""

from __future__ import annotations

import datetime as dt
import json
import math
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import TransformContext, transform
from retail_lakehouse.forecast.calendar import store_holidays
from retail_lakehouse.forecast.models import MODELS, SERIES, ForecastParams
from retail_lakehouse.forecast.partitions import (
    BACKTEST_SCHEMA,
    FORECAST_SCHEMA,
    backtest_partition,
    forecast_partition,
)
from retail_lakehouse.gold.versions import current

PARTITION = "_partition"


def _last_date(features: DataFrame) -> dt.date | None:
    row = features.agg(F.max("date")).first()
    return None if row is None else row[0]


def _partitioned(features: DataFrame, partitions: int) -> DataFrame:
    return features.withColumn(PARTITION, F.pmod(F.hash(*SERIES), F.lit(partitions)))


def partition_count(features: DataFrame, params: ForecastParams) -> int:
    """The configured partitions, else one per series_per_partition series (counted: one aggregate)."""
    if params.partitions is not None:
        return params.partitions
    series = features.select(*SERIES).distinct().count()
    return max(1, math.ceil(series / params.series_per_partition))


def backtest_origins(last: dt.date, params: ForecastParams) -> list[dt.date]:
    """The origins, oldest first: the last day of history minus 1..n horizons."""
    return [last - dt.timedelta(days=params.horizon_days * k) for k in range(params.backtest_origins, 0, -1)]


def _training_window(features: DataFrame, last: dt.date, params: ForecastParams, horizons: int) -> DataFrame:
    """The rows a model may train on: history_days before its origin, plus one horizon to calibrate on."""
    first = last - dt.timedelta(days=params.history_days + params.horizon_days * horizons)
    return features.where(F.col("date") > F.lit(first))


@transform("forecast.backtest", description="demand features -> every model's forecasts at rolling origins")
def forecast_backtest(features: DataFrame, params: ForecastParams) -> DataFrame:
    """At each origin every model trains on the days up to it and forecasts the next horizon_days; the rows
    keep what sold, so any accuracy measure can be recomputed."""
    spark = features.sparkSession
    last = _last_date(features)
    if last is None:
        return spark.createDataFrame([], BACKTEST_SCHEMA)
    origins = backtest_origins(last, params)
    window = _training_window(features, last, params, params.backtest_origins + 1)
    return (
        _partitioned(window, partition_count(window, params))
        .groupBy(PARTITION)
        .applyInPandas(lambda rows: backtest_partition(rows.drop(columns=PARTITION), origins, params), BACKTEST_SCHEMA)
    )


# Decimals to which models' backtest errors are compared when choosing one (see chosen_models).
ERROR_DECIMALS = 9


def _error(actual: str = "actual") -> Column:
    return F.abs(F.col("p50") - F.col(actual))


@transform("forecast.accuracy", description="backtest -> WAPE, MASE, bias and P10-P90 coverage per model")
def forecast_accuracy(
    backtest: DataFrame, params: ForecastParams, context: TransformContext[ForecastParams]
) -> DataFrame:
    """Per model, origin, horizon week (1 = days 1-7; 0 = the whole horizon) and department ("All" = every
    one; origin_date null = every origin). Stock-out days are left out: their true demand is unknown.
    WAPE = sum |P50 - actual| / sum actual; bias = sum (mean - actual) / sum actual (the expected value's
    bias: a median of skewed small counts sits below their mean by design); MASE = mean of
    |P50 - actual| / the series' mean week-on-week change before the origin; coverage = share of days
    with P10 <= actual <= P90."""
    evaluated = backtest.where(~F.col("stock_out")).withColumn(
        "horizon_week", F.ceil(F.col("horizon_day") / 7).cast("int")
    )
    scaled = F.when(F.col("mase_scale") > 0, _error() / F.col("mase_scale"))
    grouped = evaluated.cube("model", "origin_date", "horizon_week", "category").agg(
        F.sum(_error()).alias("_abs_error"),
        F.sum(F.col("mean") - F.col("actual")).alias("_error"),
        F.sum("actual").alias("actual_units"),
        F.avg(scaled).alias("mase"),
        F.avg(F.col("actual").between(F.col("p10"), F.col("p90")).cast("double")).alias("coverage_p10_p90"),
        F.count(F.lit(1)).alias("observations"),
    )
    parameters = json.dumps({"lightgbm": params.lightgbm_parameters(), **params.model_dump()}, sort_keys=True)
    return grouped.where(F.col("model").isNotNull()).select(
        F.lit(context.run_id).alias("run_id"),
        "origin_date",
        "model",
        F.coalesce("horizon_week", F.lit(0)).alias("horizon_week"),
        F.coalesce("category", F.lit("All")).alias("category"),
        (F.col("_abs_error") / F.col("actual_units")).alias("wape"),
        "mase",
        (F.col("_error") / F.col("actual_units")).alias("bias"),
        "coverage_p10_p90",
        "observations",
        "actual_units",
        F.lit(parameters).alias("model_parameters"),
    )


def chosen_models(backtest: DataFrame) -> DataFrame:
    """Per series, the model with the least absolute error over the backtest (stock-out days left out);
    ties go to the first of MODELS. Errors are compared to 9 decimals: a sum of doubles depends on the
    order Spark adds them in (another partitioning, a cluster), and two models that tie (both forecasting
    0 on a series that never sells) must tie everywhere, not by a last-bit difference."""
    preference = F.create_map(*[x for i, name in enumerate(MODELS) for x in (F.lit(name), F.lit(i))])
    errors = backtest.where(~F.col("stock_out")).groupBy(*SERIES, "model").agg(F.sum(_error()).alias("_abs_error"))
    best = Window.partitionBy(*SERIES).orderBy(F.round("_abs_error", ERROR_DECIMALS), preference[F.col("model")])
    return (
        errors.withColumn("_rank", F.row_number().over(best))
        .where(F.col("_rank") == 1)
        .select(*SERIES, F.col("model").alias("chosen_model"))
    )


@transform("forecast.demand_forecast", description="demand features, backtest -> P10/P50/P90 for the days ahead")
def demand_forecast(
    features: DataFrame,
    backtest: DataFrame,
    stores: DataFrame,
    params: ForecastParams,
    context: TransformContext[ForecastParams],
) -> DataFrame:
    """The next horizon_days per active series (those with a row on the last day), by the model its
    backtest chose."""
    spark = features.sparkSession
    last = _last_date(features)
    if last is None:
        return spark.createDataFrame([], FORECAST_SCHEMA).withColumn("run_id", F.lit(context.run_id))
    ahead = F.explode(F.sequence(F.lit(last + dt.timedelta(days=1)), F.lit(last + dt.timedelta(params.horizon_days))))
    # Aliased: new column identities, so the cogroup below does not see history and future as one lineage.
    series = features.where(F.col("date") == F.lit(last)).select(
        *(F.col(name).alias(name) for name in (*SERIES, "category"))
    )
    holidays = store_holidays(spark, stores, last + dt.timedelta(days=1), last + dt.timedelta(params.horizon_days))
    future = (
        series.withColumn("date", ahead)
        .join(F.broadcast(holidays), ["store_id", "date"], "left")
        .withColumn("is_holiday", F.col("holiday_name").isNotNull())
        .drop("holiday_name")
    )
    history = _training_window(features, last, params, 1).join(chosen_models(backtest), SERIES, "left")
    partitions = partition_count(future, params)
    return (
        _partitioned(history, partitions)
        .groupBy(PARTITION)
        .cogroup(_partitioned(future, partitions).groupBy(PARTITION))
        .applyInPandas(
            lambda past, days: forecast_partition(
                past.drop(columns=PARTITION), days.drop(columns=PARTITION), last, params
            ),
            FORECAST_SCHEMA,
        )
        .withColumn("run_id", F.lit(context.run_id))
    )


class ReplenishmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service_level: float = Field(0.95, gt=0.5, lt=1, description="Chance that the stock covers the lead time.")
    default_lead_time_days: int = Field(7, ge=1, description="Lead time of a product whose supplier gives none.")


@transform("forecast.replenishment", description="forecast, backtest errors, positions -> order quantities")
def replenishment(
    forecast: DataFrame,
    backtest: DataFrame,
    products: DataFrame,
    suppliers: DataFrame,
    params: ReplenishmentParams,
    positions: DataFrame | None = None,
) -> DataFrame:
    """Per store and product: order = forecast demand over the supplier's lead time (the sum of the daily
    means) + safety stock - on hand, never negative, rounded up to the case size where the product master
    has one. Safety stock = z(service_level) x the forecast's daily error (RMSE of its model's mean in the
    backtest) x sqrt(lead time). A lead time beyond the horizon extends the mean daily demand. No position
    known (no row, or the inventory stream has not run yet): quantity_on_hand is null and counts as 0."""
    z = NormalDist().inv_cdf(params.service_level)
    master = current(products)
    case = F.col("case_size") if "case_size" in master.columns else F.lit(None).cast("int")
    lead = master.select("product_id", "supplier_id", case.alias("case_size")).join(
        suppliers.select("supplier_id", "lead_time_days"), "supplier_id", "left"
    )
    lead_days = F.coalesce(F.col("lead_time_days"), F.lit(params.default_lead_time_days))
    horizon = forecast.groupBy(*SERIES, "model").agg(F.max("horizon_day").alias("_horizon"))
    with_lead = forecast.join(horizon, [*SERIES, "model"]).join(F.broadcast(lead), "product_id", "left")
    demand = with_lead.groupBy(*SERIES, "model", "_horizon", "case_size", lead_days.alias("lead_time_days")).agg(
        F.sum(F.when(F.col("horizon_day") <= lead_days, F.col("mean")).otherwise(0.0)).alias("_within"),
        F.avg("mean").alias("_daily"),
    )
    lead_time_demand = F.col("_within") + F.greatest(F.col("lead_time_days") - F.col("_horizon"), F.lit(0)) * F.col(
        "_daily"
    )
    errors = (
        backtest.where(~F.col("stock_out"))
        .groupBy(*SERIES, "model")
        .agg(F.sqrt(F.avg((F.col("mean") - F.col("actual")) ** 2)).alias("_rmse"))
    )
    on_hand = (
        positions.select(*SERIES, "quantity_on_hand")
        if positions is not None
        else forecast.sparkSession.createDataFrame([], "store_id string, product_id string, quantity_on_hand bigint")
    )
    needed = (
        demand.join(errors, [*SERIES, "model"], "left")
        .join(on_hand, SERIES, "left")
        .withColumn("forecast_lead_time_demand", lead_time_demand)
        .withColumn("safety_stock", F.lit(z) * F.coalesce("_rmse", F.lit(0.0)) * F.sqrt("lead_time_days"))
        .withColumn(
            "_units",
            F.greatest(
                F.ceil(
                    F.col("forecast_lead_time_demand")
                    + F.col("safety_stock")
                    - F.coalesce(F.col("quantity_on_hand"), F.lit(0))
                ),
                F.lit(0),
            ),
        )
    )
    rounded = F.when(
        F.col("case_size") > 0, F.ceil(F.col("_units") / F.col("case_size")) * F.col("case_size")
    ).otherwise(F.col("_units"))
    return needed.select(
        *SERIES,
        "quantity_on_hand",
        F.round("forecast_lead_time_demand", 3).alias("forecast_lead_time_demand"),
        F.round("safety_stock", 3).alias("safety_stock"),
        rounded.cast("long").alias("order_quantity"),
        "lead_time_days",
        "case_size",
        F.col("model").alias("forecast_model"),
    )
