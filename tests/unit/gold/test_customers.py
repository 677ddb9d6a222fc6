"""Customer 360: sums equal an independent per-table computation (no join fan-out), and RFM segments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.gold.customers import Customer360Params, customer_360
from tests.unit.gold import silver_rows as rows

LOYALTY = (
    "event_id STRING, customer_id STRING, event_ts TIMESTAMP, event_date DATE, event_type STRING, points INT, "
    "transaction_id STRING"
)
SALES: list[rows.Sale] = [
    # C1: three lines in one transaction and in another, four loyalty events: a naive join repeats sums.
    ("T1", "C1", "2025-03-01 10:00:00", "Store", "1",
     [("P1", 1, "400.00", "0.00"), ("P2", 2, "50.00", "0.00"), ("P1", 1, "400.00", "100.00")]),
    ("T2", "C1", "2025-03-20 10:00:00", "Online", "0", [("P2", 1, "50.00", "0.00"), ("P1", 1, "400.00", "0.00")]),
    ("T3", "C1", "2025-03-25 10:00:00", "Mobile", "0", [("P2", 1, "50.00", "0.00")]),
    ("T4", "C1", "2025-03-30 10:00:00", "Store", "1", [("P2", 1, "50.00", "0.00")]),
    # C2: recent, one big purchase -> Loyal; C3: old -> At Risk; C4: recent and small -> Potential.
    ("T5", "C2", "2025-02-15 10:00:00", "Store", "1", [("P1", 3, "400.00", "0.00")]),
    ("T6", "C3", "2024-09-01 10:00:00", "Store", "1", [("P2", 1, "50.00", "0.00")]),
    ("T7", "C4", "2025-03-29 10:00:00", "Store", "1", [("P2", 1, "50.00", "0.00")]),
    ("T8", None, "2025-03-31 10:00:00", "Store", "1", [("P1", 1, "400.00", "0.00")]),  # anonymous: sets as-of
]  # fmt: skip


def loyalty(spark: SparkSession) -> DataFrame:
    at = datetime(2025, 3, 1, 10)
    return spark.createDataFrame(
        [
            ("E1", "C1", at, at.date(), "earn", 700, "T1"),
            ("E2", "C1", at, at.date(), "earn", 450, "T2"),
            ("E3", "C1", at, at.date(), "redeem", 200, "T2"),
            ("E4", "C1", at, at.date(), "redeem", 100, None),
            ("E5", "C9", at, at.date(), "earn", 10, None),  # a member who never bought
        ],
        LOYALTY,
    )


def test_customer_360_measures_and_segments(spark: SparkSession) -> None:
    customers = rows.customers(
        spark,
        [
            ("C1", "F", "2024-01-01 00:00:00", "2025-01-01 00:00:00"),
            ("C1", "M", "2025-01-01 00:00:00", None),
            ("C2", "F", "2024-01-01 00:00:00", None),
            ("C5", "M", "2024-01-01 00:00:00", None),  # registered, never bought
        ],
    )
    products = rows.products(
        spark,
        [
            ("P1", "2", "200.00", "400.00", "2024-01-01 00:00:00", None),
            ("P2", "4", "20.00", "50.00", "2024-01-01 00:00:00", None),
        ],
    )
    result = customer_360(
        rows.transactions(spark, SALES),
        rows.lines(spark, SALES),
        loyalty(spark),
        customers,
        products,
        rows.categories(spark),
        Customer360Params(),
    )
    as_of = date(2025, 3, 31)
    d = date.fromisoformat
    # C1: T1 = 400 + 100 + 300 = 800, T2 = 450, T3 = 50, T4 = 50 -> 1,350 over 4 transactions.
    rows.assert_rows(
        result,
        [
            ("C1", "M", 4, Decimal("1350.00"), d("2025-03-01"), d("2025-03-30"), 1, 1, 2, 1,
             ["Bikes", "Clothing"], 1150, 300, "Champion", as_of),
            ("C2", "F", 1, Decimal("1200.00"), d("2025-02-15"), d("2025-02-15"), 44, 0, 1, 0,
             ["Bikes"], 0, 0, "Loyal", as_of),
            ("C3", None, 1, Decimal("50.00"), d("2024-09-01"), d("2024-09-01"), 211, 0, 1, 0,
             ["Clothing"], 0, 0, "At Risk", as_of),
            ("C4", None, 1, Decimal("50.00"), d("2025-03-29"), d("2025-03-29"), 2, 0, 1, 0,
             ["Clothing"], 0, 0, "Potential", as_of),
            ("C5", "M", 0, Decimal("0.00"), None, None, None, 0, 0, 0, [], 0, 0, "Potential", as_of),
            ("C9", None, 0, Decimal("0.00"), None, None, None, 0, 0, 0, [], 10, 0, "Potential", as_of),
        ],
        "customer_id STRING, gender STRING, total_transactions LONG, lifetime_value DECIMAL(18,2), "
        "first_purchase_date DATE, last_purchase_date DATE, days_since_purchase INT, online_transactions LONG, "
        "store_transactions LONG, mobile_transactions LONG, preferred_categories ARRAY<STRING>, "
        "total_points_earned LONG, total_points_redeemed LONG, rfm_segment STRING, as_of_date DATE",
    )  # fmt: skip


def test_recency_counts_from_the_configured_as_of_date(spark: SparkSession) -> None:
    sales = SALES[:4]
    result = customer_360(
        rows.transactions(spark, sales),
        rows.lines(spark, sales),
        loyalty(spark).limit(0),
        rows.customers(spark, []),
        rows.products(spark, []),
        rows.categories(spark),
        Customer360Params(as_of_date=date(2025, 12, 31)),
    )
    row = result.where("customer_id = 'C1'").first()
    assert row is not None
    assert (row.days_since_purchase, row.rfm_segment, row.preferred_categories) == (276, "At Risk", ["Unknown"])
