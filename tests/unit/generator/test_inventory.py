"""Reorder points: safety stock plus the units a store sells during the supplier's lead time."""

from __future__ import annotations

import numpy as np

from retail_lakehouse.generator.inventory import reorder_points


def test_reorder_point_is_safety_stock_plus_lead_time_demand_rounded_up() -> None:
    safety = np.array([5, 10])
    lead_time_days = np.array([2, 10])
    daily_lines = np.array([10.0, 0.5])  # over all stores; a line sells 1.4 units on average
    store_weights = np.array([0.75, 0.25])
    # store 1: units a day 0.75 * [14, 0.7] = [10.5, 0.525]; x lead time = [21, 5.25] -> [21, 6]
    # store 2: 0.25 * [14, 0.7] = [3.5, 0.175]; x lead time = [7, 1.75] -> [7, 2]
    expected = np.array([[5 + 21, 10 + 6], [5 + 7, 10 + 2]])
    np.testing.assert_array_equal(reorder_points(safety, lead_time_days, daily_lines, store_weights), expected)
