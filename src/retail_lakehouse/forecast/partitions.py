"""Runs the models on one partition of series (pandas, inside a Spark task): the rolling-origin backtest
and the forecast ahead. Spark groups the series by `partition` so each task trains its own global model
on its share of the series, and the work scales out with the executors."""

from __future__ import annotations

import datetime as dt
import zlib

import pandas as pd

from retail_lakehouse.forecast.models import (
    SERIES,
    ForecastParams,
    ets_forecast,
    lightgbm_forecast,
    mase_scale,
    planned_days,
    seasonal_naive_forecast,
)

BACKTEST_SCHEMA = (
    "store_id string, product_id string, category string, origin_date date, date date, horizon_day int, "
    "model string, p10 double, p50 double, p90 double, mean double, actual double, stock_out boolean, mase_scale double"
)
FORECAST_SCHEMA = (
    "store_id string, product_id string, category string, forecast_date date, horizon_day int, p10 double, "
    "p50 double, p90 double, mean double, model string"
)


def department_code(category: pd.Series) -> pd.Series:
    """A stable small integer per department name (LightGBM's categorical feature), the same in every task."""
    return category.fillna("Unknown").map(lambda name: zlib.crc32(str(name).encode()) % 1000)


def _in_series_order(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows ordered by series and date. Spark hands a task its rows in whatever order its shuffle
    delivered them (another on a cluster than in local mode), and LightGBM's bins and histogram sums
    depend on the order of its training rows: without one fixed order the same data gave other forecasts."""
    return rows.sort_values([*SERIES, "date"], kind="mergesort").reset_index(drop=True)


def _prepared(history: pd.DataFrame) -> pd.DataFrame:
    out = _in_series_order(history.assign(date=pd.to_datetime(history["date"]).dt.date))
    out["department_code"] = department_code(out["category"])
    out["is_holiday"] = out["is_holiday"].fillna(False).astype(bool)
    out["stock_out"] = out["stock_out"].fillna(False).astype(bool)
    return out


def _run_models(
    history: pd.DataFrame, future: pd.DataFrame, origin: dt.date, params: ForecastParams
) -> dict[str, pd.DataFrame]:
    """Every model's P10/P50/P90 and mean for the rows of `future` (store_id, product_id, date, is_holiday,
    department_code), trained on `history` up to `origin`."""
    planned = planned_days(future, history, origin)
    model, _ = lightgbm_forecast(history, planned, origin, params)
    naive = seasonal_naive_forecast(history, planned, origin)
    ets = ets_forecast(history, planned, origin, params)
    # The baselines' point forecasts are their means too (ETS: the mean; naive: last week's value).
    return {"lightgbm": model, "seasonal_naive": naive.assign(mean=naive["p50"]), "ets": ets.assign(mean=ets["p50"])}


def backtest_partition(history: pd.DataFrame, origins: list[dt.date], params: ForecastParams) -> pd.DataFrame:
    """For each origin: every model trained on the days up to it, forecasting the next horizon_days, beside
    what sold (and whether a stock-out censored it)."""
    history = _prepared(history)
    categories = history.drop_duplicates(SERIES)[[*SERIES, "category"]]
    frames = []
    for origin in origins:
        dates = pd.to_datetime(history["date"])
        ahead = history[
            (dates > pd.Timestamp(origin)) & (dates <= pd.Timestamp(origin + dt.timedelta(params.horizon_days)))
        ]
        trained = history[dates <= pd.Timestamp(origin)]
        ahead = ahead[ahead.set_index(SERIES).index.isin(trained.set_index(SERIES).index)]
        if ahead.empty:
            continue
        scale = mase_scale(history, origin).reset_index()
        truth = ahead[[*SERIES, "date", "quantity_sold", "stock_out"]].rename(columns={"quantity_sold": "actual"})
        for name, forecast in _run_models(history, ahead, origin, params).items():
            rows = forecast.assign(date=pd.to_datetime(forecast["date"]).dt.date).merge(truth, on=[*SERIES, "date"])
            rows = rows.merge(scale, on=SERIES, how="left").merge(categories, on=SERIES, how="left")
            frames.append(
                rows.assign(
                    origin_date=origin,
                    horizon_day=(pd.to_datetime(rows["date"]) - pd.Timestamp(origin)).dt.days.astype("int32"),
                    model=name,
                    actual=rows["actual"].astype(float),
                )
            )
    if not frames:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    return pd.concat(frames, ignore_index=True)[BACKTEST_COLUMNS]


def forecast_partition(
    history: pd.DataFrame, future: pd.DataFrame, origin: dt.date, params: ForecastParams
) -> pd.DataFrame:
    """The forecast ahead of `origin` per series, by the model the backtest chose for it (`chosen_model` on
    the history rows; lightgbm where the backtest had no say)."""
    history = _prepared(history)
    if history.empty or future.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    future = _in_series_order(
        future.assign(
            date=pd.to_datetime(future["date"]).dt.date,
            department_code=department_code(future["category"]),
            is_holiday=future["is_holiday"].fillna(False).astype(bool),
        )
    )
    chosen = history.drop_duplicates(SERIES)[[*SERIES, "category", "chosen_model"]]
    chosen = chosen.assign(chosen_model=chosen["chosen_model"].fillna("lightgbm"))
    frames = [forecast.assign(model=name) for name, forecast in _run_models(history, future, origin, params).items()]
    every = pd.concat(frames, ignore_index=True).merge(chosen, on=SERIES)
    picked = every[every["model"] == every["chosen_model"]]
    dates = pd.to_datetime(picked["date"])
    return pd.DataFrame(
        {
            "store_id": picked["store_id"],
            "product_id": picked["product_id"],
            "category": picked["category"],
            "forecast_date": dates.dt.date,
            "horizon_day": (dates - pd.Timestamp(origin)).dt.days.astype("int32"),
            "p10": picked["p10"].astype(float),
            "p50": picked["p50"].astype(float),
            "p90": picked["p90"].astype(float),
            "mean": picked["mean"].astype(float),
            "model": picked["model"],
        }
    )[FORECAST_COLUMNS]


def _columns(schema: str) -> list[str]:
    return [field.strip().split(" ")[0] for field in schema.split(",")]


BACKTEST_COLUMNS = _columns(BACKTEST_SCHEMA)
FORECAST_COLUMNS = _columns(FORECAST_SCHEMA)
