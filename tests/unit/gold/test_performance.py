"""Store benchmarking against region-format peers, and product margin at the cost in force each day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pyspark.sql import SparkSession

from retail_lakehouse.gold.performance import StorePerformanceParams, product_performance, store_performance
from tests.unit.gold import silver_rows as rows

STORES = (
    "store_id STRING, name STRING, region STRING, format STRING, square_feet INT, city STRING, "
    "opened_date DATE, is_online BOOLEAN"
)


def test_stores_rank_and_index_against_the_median_of_their_region_and_format(spark: SparkSession) -> None:
    stores = spark.createDataFrame(
        [
            ("0", "Online", "Online", "Online", 0, None, None, True),
            ("1", "A", "North", "Mall", 1000, "X", None, False),
            ("2", "B", "North", "Mall", 2000, "X", None, False),
            ("3", "C", "North", "Mall", 4000, "X", None, False),  # no sales
            ("4", "D", "South", "Mall", 500, "Y", None, False),
        ],
        STORES,
    )
    sales: list[rows.Sale] = [
        ("T1", None, "2025-01-01 10:00:00", "Store", "1", [("P1", 1, "100.00", "0.00")]),
        ("T2", None, "2025-01-02 10:00:00", "Store", "1", [("P1", 1, "200.00", "0.00")]),
        ("T3", None, "2025-01-02 11:00:00", "Store", "2", [("P1", 1, "500.00", "0.00")]),
        ("T4", None, "2025-01-03 11:00:00", "Store", "4", [("P1", 1, "50.00", "0.00")]),
        ("T5", None, "2025-01-03 12:00:00", "Online", "0", [("P1", 1, "80.00", "0.00")]),
    ]
    result = store_performance(rows.transactions(spark, sales), stores, StorePerformanceParams())
    # North/Mall: revenues 300, 500, 0 -> median 300; per sq ft 0.3, 0.25, 0 -> median 0.25.
    rows.assert_rows(
        result,
        [
            ("0", Decimal("80.00"), None, 1, Decimal("80.00"), 1, 1, 100.0, None),
            ("1", Decimal("300.00"), 0.3, 2, Decimal("150.00"), 3, 2, 100.0, 120.0),
            ("2", Decimal("500.00"), 0.25, 1, Decimal("500.00"), 3, 1, 166.67, 100.0),
            ("3", Decimal("0.00"), 0.0, 0, None, 3, 3, 0.0, 0.0),
            ("4", Decimal("50.00"), 0.1, 1, Decimal("50.00"), 1, 1, 100.0, 100.0),
        ],
        "store_id STRING, net_revenue DECIMAL(18,2), revenue_per_sqft DOUBLE, transactions LONG, "
        "avg_basket_value DECIMAL(18,2), peer_stores LONG, peer_rank INT, revenue_index DOUBLE, "
        "revenue_per_sqft_index DOUBLE",
    )


def test_a_trailing_window_counts_only_its_days(spark: SparkSession) -> None:
    stores = spark.createDataFrame([("1", "A", "North", "Mall", 1000, "X", None, False)], STORES)
    sales: list[rows.Sale] = [
        ("T1", None, "2025-01-01 10:00:00", "Store", "1", [("P1", 1, "100.00", "0.00")]),
        ("T2", None, "2025-01-10 10:00:00", "Store", "1", [("P1", 1, "200.00", "0.00")]),
    ]
    result = store_performance(rows.transactions(spark, sales), stores, StorePerformanceParams(days=7))
    row = result.select("net_revenue", "transactions", "first_sale_date").first()
    assert row is not None
    assert (row.net_revenue, row.transactions, row.first_sale_date) == (Decimal("200.00"), 1, date(2025, 1, 10))


def test_gross_margin_takes_the_cost_in_force_at_the_end_of_each_sale_day(spark: SparkSession) -> None:
    sales_daily = spark.createDataFrame(
        [
            (date(2025, 1, 1), "1", "P1", "Store", 2, Decimal("20.00"), Decimal("0.00"), Decimal("20.00")),
            (date(2025, 1, 1), "0", "P1", "Online", 1, Decimal("10.00"), Decimal("1.00"), Decimal("9.00")),
            (date(2025, 1, 2), "1", "P1", "Store", 3, Decimal("30.00"), Decimal("0.00"), Decimal("30.00")),
            (date(2025, 1, 2), "1", "P7", "Store", 1, Decimal("8.00"), Decimal("0.00"), Decimal("8.00")),
        ],
        "sale_date DATE, store_id STRING, product_id STRING, channel STRING, quantity_sold LONG, "
        "gross_revenue DECIMAL(18,2), discount_amount DECIMAL(18,2), net_revenue DECIMAL(18,2)",
    )
    products = rows.products(
        spark,
        [
            # The cost changed at noon on 01-02: the whole day takes the new cost (in force at its end).
            ("P1", "2", "4.00", "10.00", "2024-06-01 00:00:00", "2025-01-02 12:00:00"),
            ("P1", "2", "5.00", "10.00", "2025-01-02 12:00:00", None),
        ],
    )
    result = product_performance(sales_daily, products, rows.categories(spark))
    # P1: cost 3 x 4.00 + 3 x 5.00 = 27.00; net 59.00 -> margin 32.00 (54.24%). P7 has no cost: margin unknown.
    rows.assert_rows(
        result,
        [
            ("P1", "Road", "Bikes", 6, Decimal("59.00"), Decimal("27.00"), Decimal("32.00"), 54.24),
            ("P7", "Unknown", None, 1, Decimal("8.00"), None, None, None),
        ],
        "product_id STRING, category STRING, department STRING, quantity_sold LONG, net_revenue DECIMAL(18,2), "
        "cost_of_goods DECIMAL(18,2), gross_margin DECIMAL(18,2), gross_margin_pct DOUBLE",
    )
