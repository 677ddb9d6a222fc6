"""Reorder points: safety stock plus the units a store sells during the supplier's lead time; sales
censored to the stock."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retail_lakehouse.generator.inventory import censor_sales, reorder_points, sold_quantities
from retail_lakehouse.generator.landing import Simulation
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.generator.sales import DaySales


def test_reorder_point_is_safety_stock_plus_lead_time_demand_rounded_up() -> None:
    safety = np.array([5, 10])
    lead_time_days = np.array([2, 10])
    daily_lines = np.array([10.0, 0.5])  # over all stores; a line sells 1.4 units on average
    store_weights = np.array([0.75, 0.25])
    # store 1: units a day 0.75 * [14, 0.7] = [10.5, 0.525]; x lead time = [21, 5.25] -> [21, 6]
    # store 2: 0.25 * [14, 0.7] = [3.5, 0.175]; x lead time = [7, 1.75] -> [7, 2]
    expected = np.array([[5 + 21, 10 + 6], [5 + 7, 10 + 2]])
    np.testing.assert_array_equal(reorder_points(safety, lead_time_days, daily_lines, store_weights), expected)


def test_sales_beyond_the_stock_are_not_made_and_the_line_that_meets_the_last_units_gets_them() -> None:
    transactions = pd.DataFrame(
        {
            "transaction_id": ["T1", "T2", "T3", "T4"],
            "store_id": [1, 1, 1, 1],
            "timestamp": ["2025-01-01 09:00:00", "2025-01-01 10:00:00", "2025-01-01 11:00:00", "2025-01-01 12:00:00"],
            "pickup_store_id": pd.array([pd.NA] * 4, dtype="Int64"),
        }
    )
    # Store 1 holds 3 of product A and 5 of B. A: 2 sell, then 1 of the 2 asked for, then none.
    lines = pd.DataFrame(
        {
            "transaction_id": ["T1", "T2", "T2", "T3", "T4"],
            "line_number": [1, 1, 2, 1, 1],
            "product_id": ["A", "A", "B", "A", "A"],
            "quantity": [2, 2, 1, 1, 3],
            "discount": [0.0, 4.0, 0.0, 0.0, 0.0],
        }
    )
    stock = np.array([[0, 0], [3, 5]])
    index = pd.Series([0, 1], index=["A", "B"])
    result = censor_sales(DaySales(transactions=transactions, lines=lines), stock, index)
    assert result.sales.lines[
        ["transaction_id", "product_id", "quantity", "discount", "line_number"]
    ].values.tolist() == [
        ["T1", "A", 2, 0.0, 1],
        ["T2", "A", 1, 2.0, 1],
        ["T2", "B", 1, 0.0, 2],
    ]
    assert result.sales.transactions["transaction_id"].tolist() == ["T1", "T2"]
    assert result.lost_units == 1 + 1 + 3
    np.testing.assert_array_equal(result.stock_outs, [[False, False], [True, False]])

    # Over 60 simulated days no store's stock of anything goes below 0, though deliveries are missed.
    sim = Simulation(GeneratorOptions(scale=0.02, days=60), dt.date(2025, 1, 1))
    lowest = 0
    for today in sim.days():
        stores, products = sim.ledger.quantity.shape
        after = sim.ledger.quantity - sold_quantities(today.sales, stores, products, sim.product_index)
        lowest = min(lowest, int(after.min()))
        sim.ledger.quantity = after
    assert lowest == 0
