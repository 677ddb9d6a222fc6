"""Synthetic demand histories in the feature table's shape, with lags computed here by pandas (shift and
rolling on the demand signal): an independent computation of what gold/demand_features holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

WEEKLY = np.array([0.8, 0.85, 0.9, 1.0, 1.1, 1.4, 0.95])  # Monday .. Sunday


def history(
    series: int, days: int, mean: float, *, seed: int = 3, stock_out_share: float = 0.0, first: dt.date
) -> pd.DataFrame:
    """`series` store x product series of Poisson demand around `mean` with a weekly pattern; on a
    `stock_out_share` of days the shelf is empty: nothing sells and the day is flagged."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(first, periods=days, freq="D")
    frames = []
    for s in range(series):
        demand = rng.poisson(mean * WEEKLY[dates.dayofweek])
        out = rng.random(days) < stock_out_share
        sold = np.where(out, 0, demand)
        frames.append(
            pd.DataFrame(
                {
                    "store_id": str(1 + s % 4),
                    "product_id": str(100 + s),
                    "date": dates.date,
                    "category": "Bikes" if s % 2 else "Helmets",
                    "quantity_sold": sold,
                    "stock_out": out,
                    "price": 10.0,
                    "promotion": 0.0,
                    "is_holiday": False,
                    "temperature": 12.0,
                    "precipitation": 0.0,
                    "demand": demand,
                }
            )
        )
    return with_lags(pd.concat(frames, ignore_index=True))


def with_lags(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)
    signal = frame["quantity_sold"].astype(float).where(~frame["stock_out"])
    grouped = signal.groupby([frame["store_id"], frame["product_id"]])
    for k in (1, 7, 14, 28):
        frame[f"lag_{k}"] = grouped.shift(k)
    for w in (7, 28):
        frame[f"rolling_mean_{w}"] = grouped.transform(lambda s, w=w: s.shift(1).rolling(w, min_periods=1).mean())
    frame["department_code"] = frame["category"].map({"Bikes": 1, "Helmets": 2})
    return frame
