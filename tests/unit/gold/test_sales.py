"""Daily sales and the gender x category KPIs: exact rows, only the dates the changes touch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pyspark.sql import SparkSession

from retail_lakehouse.gold.sales import customer_category_daily, sales_by_gender_category, sales_daily
from tests.unit.gold import silver_rows as rows

SALES: list[rows.Sale] = [
    ("T1", "C1", "2025-01-01 10:00:00", "Store", "1", [("P1", 2, "10.00", "1.00"), ("P2", 1, "5.00", "0.00")]),
    ("T2", None, "2025-01-01 12:00:00", "Store", "1", [("P1", 1, "10.00", "0.00")]),
    ("T3", "C2", "2025-01-01 13:00:00", "Online", "0", [("P2", 3, "5.00", "1.50")]),
    ("T4", "C1", "2025-01-02 09:00:00", "Store", "1", [("P1", 1, "12.00", "0.00"), ("P9", 4, "1.00", "0.00")]),
    ("T5", "C3", "2025-01-03 09:00:00", "Store", "2", [("P1", 1, "10.00", "0.00")]),
]


def test_sales_daily_aggregates_only_the_dates_the_changed_lines_fall_on(spark: SparkSession) -> None:
    all_lines = rows.lines(spark, SALES)
    changes = all_lines.where("transaction_id IN ('T1', 'T4')")  # lines of 2025-01-01 and 2025-01-02 changed
    result = sales_daily(changes, all_lines)
    d1, d2 = date(2025, 1, 1), date(2025, 1, 2)
    rows.assert_rows(
        result,
        [
            (d1, "1", "P1", "Store", 3, Decimal("30.00"), Decimal("1.00"), Decimal("29.00"), 2, 2),
            (d1, "1", "P2", "Store", 1, Decimal("5.00"), Decimal("0.00"), Decimal("5.00"), 1, 1),
            (d1, "0", "P2", "Online", 3, Decimal("15.00"), Decimal("1.50"), Decimal("13.50"), 1, 1),
            (d2, "1", "P1", "Store", 1, Decimal("12.00"), Decimal("0.00"), Decimal("12.00"), 1, 1),
            (d2, "1", "P9", "Store", 4, Decimal("4.00"), Decimal("0.00"), Decimal("4.00"), 1, 1),
        ],
        "sale_date DATE, store_id STRING, product_id STRING, channel STRING, quantity_sold LONG, "
        "gross_revenue DECIMAL(18,2), discount_amount DECIMAL(18,2), net_revenue DECIMAL(18,2), "
        "transaction_count LONG, line_count LONG",
    )


def test_sales_daily_of_no_changes_is_empty(spark: SparkSession) -> None:
    all_lines = rows.lines(spark, SALES)
    assert sales_daily(all_lines.limit(0), all_lines).count() == 0


def test_gender_and_category_are_those_in_force_at_the_sale_and_unknowns_stay_in_the_totals(
    spark: SparkSession,
) -> None:
    all_lines = rows.lines(spark, SALES)
    customers = rows.customers(
        spark,
        [
            # C1 changed gender on 2025-01-02 08:00: T1 (01-01) counts as F, T4 (01-02 09:00) as M.
            ("C1", "F", "2024-12-01 00:00:00", "2025-01-02 08:00:00"),
            ("C1", "M", "2025-01-02 08:00:00", None),
            # C2's first version starts after the sale: the first version explains the earlier sale.
            ("C2", "O", "2025-01-05 00:00:00", None),
            ("C3", None, "2024-12-01 00:00:00", None),  # gender unknown
        ],
    )
    products = rows.products(
        spark,
        [
            ("P1", "2", "6.00", "10.00", "2024-01-01 00:00:00", "2025-01-02 00:00:00"),
            ("P1", "4", "6.00", "10.00", "2025-01-02 00:00:00", None),  # recategorised into Clothing
            ("P2", "4", "2.00", "5.00", "2024-01-01 00:00:00", None),
        ],  # P9 is not in the product master
    )
    result = sales_by_gender_category(all_lines, all_lines, customers, products, rows.categories(spark))
    d1, d2, d3 = date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)
    rows.assert_rows(
        result,
        [
            (d1, "F", "Bikes", 2, Decimal("19.00"), 1, 0.655172, 0.666667),
            (d1, "Unknown", "Bikes", 1, Decimal("10.00"), 0, 0.344828, 0.333333),
            (d1, "F", "Clothing", 1, Decimal("5.00"), 1, 0.27027, 0.25),
            (d1, "O", "Clothing", 3, Decimal("13.50"), 1, 0.72973, 0.75),
            (d2, "M", "Clothing", 1, Decimal("12.00"), 1, 1.0, 1.0),
            (d2, "M", "Unknown", 4, Decimal("4.00"), 1, 1.0, 1.0),
            # C3 is in CRM without a gender (T2 above has no customer at all: Unknown).
            (d3, "Not recorded", "Clothing", 1, Decimal("10.00"), 1, 1.0, 1.0),
        ],
        "sale_date DATE, gender STRING, category STRING, products_sold LONG, revenue DECIMAL(18,2), "
        "customers LONG, revenue_share DOUBLE, products_sold_share DOUBLE",
    )


def test_customer_category_daily_counts_each_customer_once_over_a_date_range(spark: SparkSession) -> None:
    all_lines = rows.lines(spark, SALES)
    customers = rows.customers(spark, [("C1", "F", "2024-12-01 00:00:00", None)])  # C2, C3 unknown to CRM
    products = rows.products(spark, [("P1", "2", "6.00", "10.00", "2024-01-01 00:00:00", None)])
    result = customer_category_daily(all_lines, all_lines, customers, products, rows.categories(spark))
    d1, d2, d3 = date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)
    rows.assert_rows(
        result,
        [
            (d1, "C1", "F", "Bikes", 2, Decimal("19.00")),
            (d1, "C1", "F", "Unknown", 1, Decimal("5.00")),
            (d1, None, "Unknown", "Bikes", 1, Decimal("10.00")),
            (d1, "C2", "Unknown", "Unknown", 3, Decimal("13.50")),
            (d2, "C1", "F", "Bikes", 1, Decimal("12.00")),
            (d2, "C1", "F", "Unknown", 4, Decimal("4.00")),
            (d3, "C3", "Unknown", "Bikes", 1, Decimal("10.00")),
        ],
        "sale_date DATE, customer_id STRING, gender STRING, category STRING, products_sold LONG, revenue DECIMAL(28,2)",
    )
    # Over 2025-01-01..02, C1 bought on both days: one customer, where the daily counts would add up to two.
    in_range = result.where("sale_date <= DATE'2025-01-02' AND gender = 'F'")
    assert in_range.selectExpr("count(DISTINCT customer_id)").first()[0] == 1
