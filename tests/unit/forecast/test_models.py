from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from retail_lakehouse.forecast.models import (
    ForecastParams,
    SeriesGrid,
    ets_forecast,
    lightgbm_forecast,
    mase_scale,
    nb_quantiles,
    seasonal_naive_forecast,
)
from tests.unit.forecast.series import history, with_lags

FIRST = dt.date(2024, 1, 1)


def future_of(frame: pd.DataFrame, origin: dt.date, days: int) -> pd.DataFrame:
    series = frame.drop_duplicates(["store_id", "product_id"])
    dates = [origin + dt.timedelta(days=d) for d in range(1, days + 1)]
    return (
        series[["store_id", "product_id", "department_code"]]
        .merge(pd.DataFrame({"date": dates}), how="cross")
        .assign(is_holiday=False, temperature=12.0, precipitation=0.0, promotion=0.0)
    )


def test_quantiles_of_an_almost_poisson_count_interpolate_between_whole_units() -> None:
    # Dispersion 1e-6: a Poisson(10). Its 10% point lies between 5 and 6 (cdf 0.0671 and 0.1301).
    quantiles = nb_quantiles(np.array([10.0, 0.0]), 1e-6)
    poisson = stats.poisson(10)
    expected_p10 = 5 + (0.1 - poisson.cdf(5)) / (poisson.cdf(6) - poisson.cdf(5))
    expected_p90 = 13 + (0.9 - poisson.cdf(13)) / (poisson.cdf(14) - poisson.cdf(13))
    assert quantiles.p10[0] == pytest.approx(expected_p10, abs=1e-4)
    assert quantiles.p50[0] == 10.0
    assert quantiles.p90[0] == pytest.approx(expected_p90, abs=1e-4)
    assert (quantiles.p10[1], quantiles.p50[1], quantiles.p90[1]) == (0.0, 0.0, 0.0)


def test_seasonal_naive_repeats_last_week_and_its_interval_is_the_week_on_week_changes() -> None:
    dates = [FIRST + dt.timedelta(days=d) for d in range(14)]
    sold = [1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7]
    frame = pd.DataFrame({"store_id": "1", "product_id": "9", "date": dates, "quantity_sold": sold, "stock_out": False})
    origin = dates[-1]
    future = pd.DataFrame(
        {"store_id": "1", "product_id": "9", "date": [origin + dt.timedelta(days=d) for d in (1, 2, 8)]}
    )
    forecast = seasonal_naive_forecast(frame, future, origin)
    assert forecast["p50"].tolist() == [1.0, 2.0, 1.0]
    # Every week-on-week change is 0 (fewer than 28 of them: the partition's pooled changes, also 0).
    assert forecast["p10"].tolist() == forecast["p50"].tolist() == forecast["p90"].tolist()


def test_seasonal_naive_with_less_than_a_week_repeats_the_days_seen_and_their_mean_for_the_others() -> None:
    dates = [FIRST + dt.timedelta(days=d) for d in range(3)]  # a lakehouse's first three days
    frame = pd.DataFrame(
        {"store_id": "1", "product_id": "9", "date": dates, "quantity_sold": [2, 4, 9], "stock_out": False}
    )
    origin = dates[-1]
    future = pd.DataFrame(
        {"store_id": "1", "product_id": "9", "date": [origin + dt.timedelta(days=d) for d in range(1, 8)]}
    )
    forecast = seasonal_naive_forecast(frame, future, origin)
    # Days 1-4 ahead fall on weekdays not seen yet (the mean, 5); days 5-7 repeat the three days seen.
    assert forecast["p50"].tolist() == [5.0, 5.0, 5.0, 5.0, 2.0, 4.0, 9.0]


def test_ets_with_less_than_two_weeks_of_history_is_the_seasonal_naive_forecast() -> None:
    dates = [FIRST + dt.timedelta(days=d) for d in range(10)]
    sold = [2, 4, 9, 1, 0, 3, 5, 2, 6, 8]
    frame = pd.DataFrame({"store_id": "1", "product_id": "9", "date": dates, "quantity_sold": sold, "stock_out": False})
    origin = dates[-1]
    future = pd.DataFrame(
        {"store_id": "1", "product_id": "9", "date": [origin + dt.timedelta(days=d) for d in range(1, 8)]}
    )
    ets = ets_forecast(frame, future, origin, ForecastParams())
    naive = seasonal_naive_forecast(frame, future, origin)
    assert ets["p50"].tolist() == naive["p50"].tolist() == [1.0, 0.0, 3.0, 5.0, 2.0, 6.0, 8.0]


def test_mase_scale_is_the_mean_absolute_week_on_week_change() -> None:
    dates = [FIRST + dt.timedelta(days=d) for d in range(9)]
    sold = [1, 1, 1, 1, 1, 1, 1, 4, 0]  # changes against a week before: 3 and -1
    frame = pd.DataFrame({"store_id": "1", "product_id": "9", "date": dates, "quantity_sold": sold, "stock_out": False})
    assert mase_scale(frame, dates[-1]).tolist() == [2.0]


def test_grid_lags_and_means_match_the_feature_tables_definitions() -> None:
    frame = history(2, 60, 5.0, stock_out_share=0.2, first=FIRST)
    origin = FIRST + dt.timedelta(days=59)
    grid = SeriesGrid.of(frame, origin, 0)
    computed = grid.lag_features(len(grid.dates) - 1)  # the features of the last day, from the days before it
    last = frame[frame["date"] == origin].set_index(["store_id", "product_id"]).loc[grid.keys]
    for name, values in computed.items():
        np.testing.assert_allclose(values, last[name].to_numpy(dtype=float), equal_nan=True, err_msg=name)


def test_stock_out_days_do_not_teach_the_model_that_demand_was_low() -> None:
    """A fifth of the days sell nothing because the shelf was empty. Flagged (as gold/demand_features
    flags them) the model forecasts the true demand; unflagged, the same sales teach it about a fifth less."""
    params = ForecastParams(num_boost_round=150)
    censored = history(24, 240, 8.0, stock_out_share=0.2, first=FIRST)
    origin = FIRST + dt.timedelta(days=239)
    future = future_of(censored, origin, 28)
    true_mean = float(np.mean(8.0 * np.resize([0.8, 0.85, 0.9, 1.0, 1.1, 1.4, 0.95], 28)))

    flagged, figures = lightgbm_forecast(censored, future, origin, params)
    unflagged, _ = lightgbm_forecast(with_lags(censored.assign(stock_out=False)), future, origin, params)
    assert figures["training_rows"] == len(censored)
    assert flagged["mean"].mean() == pytest.approx(true_mean, rel=0.06)
    assert unflagged["mean"].mean() < 0.88 * true_mean
