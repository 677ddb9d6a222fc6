"""Price elasticity recovers a known elasticity; recommendations follow the rules and the cost floor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.gold.pricing import (
    ElasticityParams,
    RecommendationRules,
    price_elasticity,
    price_recommendations,
)
from tests.unit.gold import silver_rows as rows

WEEKDAY = [0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 1.2]
START = date(2025, 1, 6)  # a Monday


def demand_lines(
    spark: SparkSession, product: str, elasticity: float, prices: list[float], promoted: set[int]
) -> DataFrame:
    """One line a day with the quantity the elasticity and weekday give (scaled so rounding is negligible);
    on promoted days the price is discounted and a lot more is sold."""
    sales: list[rows.Sale] = []
    for day, price in enumerate(prices):
        sold = START + timedelta(days=day)
        quantity = round(100_000 * (price / 10) ** elasticity * WEEKDAY[sold.weekday()])
        discount = f"{price * quantity * 0.3:.2f}" if day in promoted else "0.00"
        if day in promoted:
            quantity *= 5
        ts = datetime.combine(sold, datetime.min.time()).replace(hour=12).isoformat(sep=" ")
        sales.append((f"{product}-{day}", None, ts, "Store", "1", [(product, quantity, f"{price:.2f}", discount)]))
    return rows.lines(spark, sales)


def cycle(values: list[float], days: int) -> list[float]:
    return [values[day % len(values)] for day in range(days)]


def test_log_log_fit_with_weekday_controls_recovers_the_elasticity(spark: SparkSession) -> None:
    moving = demand_lines(spark, "P1", -1.8, cycle([8.0, 9.0, 10.0, 11.0, 12.0, 9.5, 10.5, 11.5], 40), promoted={3, 17})
    flat = demand_lines(spark, "P2", -1.0, [10.0] * 20 + [11.0] * 20, promoted=set())  # one price change
    result = price_elasticity(moving.unionByName(flat), ElasticityParams()).collect()
    assert [r.product_id for r in result] == ["P1"]
    (fit,) = result
    assert fit.elasticity == pytest.approx(-1.8, abs=0.001)
    assert fit.std_error < 0.001
    assert fit.observations == 38  # 40 days, 2 on promotion
    assert fit.r_squared > 0.999
    assert fit.first_date == START


def test_without_weekday_controls_the_weekly_pattern_is_noise(spark: SparkSession) -> None:
    lines = demand_lines(spark, "P1", -1.8, cycle([8.0, 9.0, 10.0, 11.0, 12.0, 9.5, 10.5, 10.0], 40), set())
    with_controls = price_elasticity(lines, ElasticityParams()).first()
    without = price_elasticity(lines, ElasticityParams(day_of_week_controls=False)).first()
    assert with_controls is not None and without is not None
    assert with_controls.std_error < without.std_error


def test_recommendations_follow_the_elasticity_rules_and_never_go_below_cost_plus_ten_percent(
    spark: SparkSession,
) -> None:
    elasticity = spark.createDataFrame(
        [("E", -2.0, 10.0), ("I", -0.2, 4.0), ("K", -1.0, 2.0), ("F", -3.0, 1.0)],
        "product_id STRING, elasticity DOUBLE, avg_daily_quantity DOUBLE",
    )
    products = rows.products(
        spark,
        [
            ("E", "2", "50.00", "80.00", "2024-06-01 00:00:00", "2025-01-01 00:00:00"),
            ("E", "2", "60.00", "100.00", "2025-01-01 00:00:00", None),  # the current version counts
            ("I", "2", "10.00", "20.00", "2024-06-01 00:00:00", None),
            ("K", "2", "10.00", "30.00", "2024-06-01 00:00:00", None),
            ("F", "2", "19.00", "21.00", "2024-06-01 00:00:00", None),  # 5% off would fall below 19 x 1.1
        ],
    )
    competitors = spark.createDataFrame(
        [
            ("E", "Rival", Decimal("97.00"), date(2025, 3, 1)),
            ("E", "Other", Decimal("95.00"), date(2025, 3, 1)),
            ("E", "Rival", Decimal("90.00"), date(2025, 2, 1)),  # an older check
        ],
        "product_id STRING, competitor STRING, price DECIMAL(12,2), observed_date DATE",
    )
    result = price_recommendations(elasticity, products, competitors, RecommendationRules())
    rows.assert_rows(
        result,
        [
            # E: 95.00; margin (95 - 60) x 10 x (0.95 ** -2) x 365 = 141,551.25
            ("E", Decimal("100.00"), Decimal("60.00"), Decimal("95.00"), Decimal("95.00"), "decrease", 141551.25),
            # I: 21.00; (21 - 10) x 4 x 1.05 ** -0.2 x 365 = 15,904.05
            ("I", Decimal("20.00"), Decimal("10.00"), None, Decimal("21.00"), "increase", 15904.05),
            ("K", Decimal("30.00"), Decimal("10.00"), None, Decimal("30.00"), "keep", 14600.0),
            # F: 21 x 0.95 = 19.95 < 20.90 = 19 x 1.1 -> 20.90, a smaller cut than the rule's.
            ("F", Decimal("21.00"), Decimal("19.00"), None, Decimal("20.90"), "decrease", 703.5),
        ],
        "product_id STRING, current_price DECIMAL(12,2), cost DECIMAL(12,2), competitor_price DECIMAL(12,2), "
        "recommended_price DECIMAL(12,2), action STRING, projected_annual_margin DOUBLE",
    )
