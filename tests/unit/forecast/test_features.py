"""gold/demand_features on one hand-worked series: every value below is worked out in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.forecast.features import DemandFeatureParams, demand_features
from tests.unit.gold.silver_rows import CATEGORIES, PRODUCTS

DAYS = [date(2025, 1, 1) + timedelta(days=d) for d in range(8)]
SALES = (
    "sale_date DATE, store_id STRING, product_id STRING, channel STRING, quantity_sold BIGINT, "
    "gross_revenue DECIMAL(14,2), discount_amount DECIMAL(14,2), net_revenue DECIMAL(14,2)"
)
# Store 1 sells P1 on five days (a 10% promotion on the 2nd); P2 sells once, for 1.00.
SOLD = {DAYS[0]: 2, DAYS[1]: 3, DAYS[3]: 1, DAYS[5]: 4, DAYS[7]: 2}


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def inputs(spark: SparkSession, touched: list[date]) -> dict[str, DataFrame]:
    sales = [
        (d, "1", "P1", "Store", q, money(10 * q), money(3 if d == DAYS[1] else 0), money(10 * q))
        for d, q in SOLD.items()
    ]
    sales.append((DAYS[2], "1", "P2", "Store", 1, money(1), money(0), money(1)))
    at = datetime.fromisoformat
    return {
        "source": spark.createDataFrame([(d,) for d in touched], "sale_date DATE"),
        "sales": spark.createDataFrame(sales, SALES),
        "stores": spark.createDataFrame(
            [("1", "North", "DE", "BY")], "store_id STRING, region STRING, country STRING, subdivision STRING"
        ),
        # 10.00 until the 5th, 12.00 from then on.
        "products": spark.createDataFrame(
            [
                ("P1", "S1", "Bike", "3", money(5), money(10), at("2024-12-01"), at("2025-01-05"), False, "a"),
                ("P1", "S1", "Bike", "3", money(5), money(12), at("2025-01-05"), None, True, "b"),
                ("P2", "S2", "Gel", "4", money(1), money(1), at("2024-12-01"), None, True, "c"),
            ],
            PRODUCTS,
        ),
        "categories": spark.createDataFrame(
            [("3", "Road", "1", "category", 2, "Bikes", "Bikes/Road"), ("4", "Gels", "2", "category", 2, "Food", "F")],
            CATEGORIES,
        ),
        "weather": spark.createDataFrame(
            [(d, "North", float(i + 1), 0.5) for i, d in enumerate(DAYS)],
            "date DATE, region STRING, temperature_c DOUBLE, precipitation_mm DOUBLE",
        ),
        # Counted 6 on the 1st at 05:00; sales take it to 4, 1, then 0 on the 4th (out of stock on the 4th
        # and 5th); 10 arrive on the 6th (6 left after its sales); a recount on the 7th finds 5; 3 on the 8th.
        "inventory_changes": spark.createDataFrame(
            [
                ("1", "P1", 1, -2, at("2025-01-01 10:00"), DAYS[0]),
                ("1", "P1", 1, -3, at("2025-01-02 10:00"), DAYS[1]),
                ("1", "P1", 1, -1, at("2025-01-04 10:00"), DAYS[3]),
                ("1", "P1", 3, 10, at("2025-01-06 06:00"), DAYS[5]),
                ("1", "P1", 1, -4, at("2025-01-06 10:00"), DAYS[5]),
                ("1", "P1", 1, -2, at("2025-01-08 10:00"), DAYS[7]),
            ],
            "store_id STRING, item_id STRING, change_type_id INT, quantity INT, change_ts TIMESTAMP, change_date DATE",
        ),
        "inventory_snapshots": spark.createDataFrame(
            [("1", "P1", at("2025-01-01 05:00"), 6), ("1", "P1", at("2025-01-07 22:00"), 5)],
            "store_id STRING, item_id STRING, snapshot_ts TIMESTAMP, quantity INT",
        ),
    }


N = None
# The demand signal (null on stock-out days): 2, 3, 0, -, -, 4, 0, 2.
EXPECTED = {
    "quantity_sold": [2, 3, 0, 1, 0, 4, 0, 2],
    "stock_out": [False, False, False, True, True, False, False, False],
    "closing_stock": [4, 1, 1, 0, 0, 6, 5, 3],
    "lag_1": [N, 2.0, 3.0, 0.0, N, N, 4.0, 0.0],
    "lag_7": [N, N, N, N, N, N, N, 2.0],
    "lag_14": [N] * 8,
    # Means of the non-null signal of the days before (up to 7): 2; 5/2; 5/3 three times; 9/4; 9/5.
    "rolling_mean_7": [N, 2.0, 2.5, 5 / 3, 5 / 3, 5 / 3, 2.25, 1.8],
    "rolling_mean_28": [N, 2.0, 2.5, 5 / 3, 5 / 3, 5 / 3, 2.25, 1.8],
    "price": [10.0, 10.0, 10.0, 10.0, 12.0, 12.0, 12.0, 12.0],
    "promotion": [0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "day_of_week": [3, 4, 5, 6, 7, 1, 2, 3],  # 2025-01-01 was a Wednesday
    "is_holiday": [True, False, False, False, False, True, False, False],  # New Year; Epiphany in Bavaria
    "temperature": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
}


def columns_of(frame: DataFrame) -> dict[str, list[object]]:
    rows = frame.orderBy("date").collect()
    return {name: [row[name] for row in rows] for name in EXPECTED}


def test_a_series_features_are_worked_out_by_hand(spark: SparkSession) -> None:
    features = demand_features(**inputs(spark, DAYS), params=DemandFeatureParams(top_products=1))
    assert {(r["store_id"], r["product_id"]) for r in features.select("store_id", "product_id").collect()} == {
        ("1", "P1")
    }
    assert [r["date"] for r in features.orderBy("date").collect()] == DAYS
    got = columns_of(features)
    for name, values in EXPECTED.items():
        if name.startswith("rolling"):
            assert [None if v is None else round(v, 9) for v in got[name]] == [
                None if v is None else round(v, 9) for v in values
            ], name
        else:
            assert got[name] == values, name
    assert features.where("date = '2025-01-06'").first()["holiday_name"] == "Epiphany"


def test_without_a_scope_every_series_gets_a_row_per_day_from_its_first_sale(spark: SparkSession) -> None:
    features = demand_features(**inputs(spark, DAYS), params=DemandFeatureParams())
    counts = {r["product_id"]: r["count"] for r in features.groupBy("product_id").count().collect()}
    assert counts == {"P1": 8, "P2": 6}  # P2 first sold on the 3rd


def test_a_run_for_the_last_day_only_gives_that_days_row_of_the_full_run(spark: SparkSession) -> None:
    params = DemandFeatureParams(top_products=1)
    full = demand_features(**inputs(spark, DAYS), params=params).where("date = '2025-01-08'")
    last_only = demand_features(**inputs(spark, [DAYS[7]]), params=params)
    assert last_only.collect() == full.collect()
