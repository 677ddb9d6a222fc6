"""Customer-insights KPIs in Spark, on rows worked out by hand: a customer counts once over a range, an
anonymous sale counts in revenue but not among customers, genders read as the dashboard labels them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.explore import insights

ROWS = [
    (dt.date(2025, 1, 1), "C1", "F", "Bikes", 1, Decimal("100.00")),
    (dt.date(2025, 1, 2), "C1", "F", "Bikes", 2, Decimal("50.00")),
    (dt.date(2025, 1, 2), "C2", "Not recorded", "Clothing", 3, Decimal("30.00")),
    (dt.date(2025, 1, 3), None, None, "Clothing", 4, Decimal("20.00")),
    (dt.date(2025, 1, 3), "C3", "M", "Bikes", 1, Decimal("200.00")),
]
SCHEMA = "sale_date date, customer_id string, gender string, category string, products_sold long, revenue decimal(38,4)"


def test_totals_gender_shares_and_categories(spark: SparkSession) -> None:
    daily = spark.createDataFrame(ROWS, SCHEMA)
    rows = insights.filtered(daily, insights.InsightsFilter())
    ((products, revenue, customers),) = [tuple(r) for r in insights.totals(rows).collect()]
    assert (products, revenue, customers) == (11, Decimal("400.0000"), 3)
    genders = [tuple(r) for r in insights.by_gender(rows).select("gender", "customers", "customers_pct").collect()]
    # C2's 'Not recorded' and the anonymous sale both read Unknown; only C2 counts as a customer there.
    assert genders == [("Female", 1, 33.33), ("Male", 1, 33.33), ("Unknown", 1, 33.33)]
    categories = [tuple(r) for r in insights.by_category(rows).select("category", "gender", "revenue_pct").collect()]
    assert categories == [
        ("Bikes", "Male", 57.14),
        ("Bikes", "Female", 42.86),
        ("Clothing", "Unknown", 100.0),
    ]


def test_filters_combine_dates_genders_and_categories(spark: SparkSession) -> None:
    daily = spark.createDataFrame(ROWS, SCHEMA)
    selection = insights.InsightsFilter(
        start=dt.date(2025, 1, 2), end=dt.date(2025, 1, 3), genders=["Female", "Male"], categories=["Bikes"]
    )
    rows = insights.filtered(daily, selection)
    assert [tuple(r) for r in insights.totals(rows).collect()] == [(3, Decimal("250.0000"), 2)]
    trend = [(str(r.sale_date), r.gender, r.revenue) for r in insights.trend(rows).collect()]
    assert trend == [("2025-01-02", "Female", Decimal("50.0000")), ("2025-01-03", "Male", Decimal("200.0000"))]


def test_a_backwards_range_is_refused() -> None:
    with pytest.raises(ValueError, match="the date range runs backwards: 2025-01-03 is after 2025-01-01"):
        insights.InsightsFilter(start=dt.date(2025, 1, 3), end=dt.date(2025, 1, 1))
