"""A partition's backtest and forecast depend on its rows, not on the order Spark delivers them in (a
cluster's shuffle delivers them in another order than local mode's)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pandas.testing import assert_frame_equal

from retail_lakehouse.forecast.models import ForecastParams
from retail_lakehouse.forecast.partitions import backtest_partition, forecast_partition
from tests.unit.forecast.series import history

PARAMS = ForecastParams(horizon_days=7, backtest_origins=2, num_boost_round=40, ets_history_days=28)
KEYS = ["store_id", "product_id", "model", "date"]


def _frame() -> pd.DataFrame:
    return history(6, 150, 5.0, first=dt.date(2025, 1, 1)).drop(columns=["demand", "department_code"])


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def test_the_backtest_is_the_same_whatever_the_order_of_its_rows() -> None:
    frame = _frame()
    last = max(frame["date"])
    origins = [last - dt.timedelta(days=14), last - dt.timedelta(days=7)]
    in_order = backtest_partition(frame, origins, PARAMS)
    shuffled = backtest_partition(frame.sample(frac=1.0, random_state=7), origins, PARAMS)
    keys = [*KEYS, "origin_date"]
    assert_frame_equal(_sorted(in_order, keys), _sorted(shuffled, keys), check_exact=True)


def test_the_forecast_is_the_same_whatever_the_order_of_its_rows() -> None:
    frame = _frame().assign(chosen_model="lightgbm")
    last = max(frame["date"])
    series = frame[frame["date"] == last][["store_id", "product_id", "category"]]
    future = pd.concat(
        [series.assign(date=last + dt.timedelta(days=d), is_holiday=False) for d in range(1, 8)], ignore_index=True
    )
    in_order = forecast_partition(frame, future, last, PARAMS)
    shuffled = forecast_partition(
        frame.sample(frac=1.0, random_state=11), future.sample(frac=1.0, random_state=5), last, PARAMS
    )
    keys = ["store_id", "product_id", "forecast_date"]
    assert len(in_order) == 6 * 7
    assert_frame_equal(_sorted(in_order, keys), _sorted(shuffled, keys), check_exact=True)
