"""Small silver tables built by hand for the gold transforms' tests, and an exact comparison helper."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

LINES = (
    "transaction_id STRING, line_number INT, store_id STRING, customer_id STRING, transaction_ts TIMESTAMP, "
    "sale_date DATE, channel STRING, product_id STRING, quantity INT, unit_price DECIMAL(12,2), "
    "discount DECIMAL(12,2), gross_amount DECIMAL(14,2), discount_amount DECIMAL(14,2), net_amount DECIMAL(14,2)"
)
TRANSACTIONS = (
    "transaction_id STRING, store_id STRING, customer_id STRING, transaction_ts TIMESTAMP, sale_date DATE, "
    "channel STRING, net_amount DECIMAL(14,2)"
)
PRODUCTS = (
    "product_id STRING, sku STRING, name STRING, category_id STRING, cost DECIMAL(12,2), "
    "list_price DECIMAL(12,2), valid_from TIMESTAMP, valid_to TIMESTAMP, is_current BOOLEAN, change_hash STRING"
)
CUSTOMERS = (
    "customer_id STRING, gender STRING, segment STRING, city STRING, registration_date DATE, "
    "valid_from TIMESTAMP, valid_to TIMESTAMP, is_current BOOLEAN, change_hash STRING"
)
CATEGORIES = (
    "category_id STRING, name STRING, parent_id STRING, level STRING, depth INT, department STRING, path STRING"
)

# (transaction, customer, timestamp, channel, store, [(product, quantity, unit price, discount), ...])
Sale = tuple[str, str | None, str, str, str, list[tuple[str, int, str, str]]]


def lines(spark: SparkSession, sales: list[Sale]) -> DataFrame:
    rows = []
    for transaction, customer, ts, channel, store, items in sales:
        at = datetime.fromisoformat(ts)
        for number, (product, quantity, price, discount) in enumerate(items, start=1):
            gross = Decimal(price) * quantity
            rows.append(
                (
                    transaction, number, store, customer, at, at.date(), channel, product, quantity,
                    Decimal(price), Decimal(discount), gross, Decimal(discount), gross - Decimal(discount),
                )
            )  # fmt: skip
    return spark.createDataFrame(rows, LINES)


def transactions(spark: SparkSession, sales: list[Sale]) -> DataFrame:
    """The headers of the same sales, as silver_transactions writes them."""
    return (
        lines(spark, sales)
        .groupBy("transaction_id", "store_id", "customer_id", "transaction_ts", "sale_date", "channel")
        .agg(F.sum("net_amount").cast("decimal(14,2)").alias("net_amount"))
    )


def products(spark: SparkSession, rows: list[tuple[str, str, str, str, str, str | None]]) -> DataFrame:
    """(product, category, cost, list price, valid from, valid to or None) -> SCD2 product versions."""
    return spark.createDataFrame(
        [
            (
                product, f"SKU-{product}", f"Product {product}", category, Decimal(cost), Decimal(price),
                datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None, end is None, "h",
            )
            for product, category, cost, price, start, end in rows
        ],
        PRODUCTS,
    )  # fmt: skip


def customers(spark: SparkSession, rows: list[tuple[str, str | None, str, str | None]]) -> DataFrame:
    """(customer, gender, valid from, valid to or None) -> SCD2 customer versions."""
    return spark.createDataFrame(
        [
            (
                customer, gender, "Regular", "Lyon", date(2024, 1, 1), datetime.fromisoformat(start),
                datetime.fromisoformat(end) if end else None, end is None, "h",
            )
            for customer, gender, start, end in rows
        ],
        CUSTOMERS,
    )  # fmt: skip


def categories(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("1", "Bikes", None, "department", 1, "Bikes", "Bikes"),
            ("2", "Road", "1", "category", 2, "Bikes", "Bikes > Road"),
            ("3", "Clothing", None, "department", 1, "Clothing", "Clothing"),
            ("4", "Jerseys", "3", "category", 2, "Clothing", "Clothing > Jerseys"),
        ],
        CATEGORIES,
    )


def assert_rows(actual: DataFrame, expected: list[tuple[Any, ...]], ddl: str) -> None:
    """`actual`'s columns named in `ddl`, cast to its types, equal `expected` (order ignored, repeats counted)."""
    spark = actual.sparkSession
    expected_df = spark.createDataFrame(expected, ddl)
    schema: StructType = expected_df.schema
    selected = actual.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
    assert_df_equality(selected, expected_df, ignore_row_order=True, ignore_nullable=True)
