"""Daily sales facts, recomputed only for the days new silver rows fall on.

The `source` input is the change feed of silver transaction lines since the last run: every date it
names (inserted, updated or deleted lines) is recomputed whole from the `lines` table, and the job writes
those dates by replace-where. A run costs in proportion to the days it touches, not to the history.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.gold.versions import attributes_at
from retail_lakehouse.registry import TransformContext, TransformSpec

SALE_DATE = "sale_date"
UNKNOWN = "Unknown"


def touched_dates(changes: DataFrame) -> list[object]:
    """The sale dates the changed rows fall on (a handful per run; they become a partition filter)."""
    return sorted(row[0] for row in changes.select(SALE_DATE).distinct().collect() if row[0] is not None)


def lines_on(lines: DataFrame, changes: DataFrame) -> DataFrame:
    """Every line of the dates `changes` touched; a literal IN on the partition column prunes the rest."""
    dates = touched_dates(changes)
    return lines.where(F.col(SALE_DATE).isin(dates)) if dates else lines.limit(0)


def sales_daily(changes: DataFrame, lines: DataFrame) -> DataFrame:
    """Quantity, revenue and transactions by date, store, product and channel for the touched dates."""
    return (
        lines_on(lines, changes)
        .groupBy(SALE_DATE, "store_id", "product_id", "channel")
        .agg(
            F.sum("quantity").cast("long").alias("quantity_sold"),
            F.sum("gross_amount").alias("gross_revenue"),
            F.sum("discount_amount").alias("discount_amount"),
            F.sum("net_amount").alias("net_revenue"),
            F.countDistinct("transaction_id").alias("transaction_count"),
            F.count(F.lit(1)).alias("line_count"),
        )
    )


def sales_by_gender_category(
    changes: DataFrame, lines: DataFrame, customers: DataFrame, products: DataFrame, categories: DataFrame
) -> DataFrame:
    """Products sold, revenue and distinct customers by date, gender and top-level category, with each
    gender's share of the date's revenue and units in that category.

    Gender and category are the customer's and product's versions in force at the sale (SCD2), so later
    master-data changes do not rewrite history. A sale whose customer or gender is unknown counts under
    gender "Unknown", and one whose category is unknown under category "Unknown": totals over genders
    equal total revenue.
    """
    scoped = lines_on(lines, changes).select(
        SALE_DATE, "transaction_ts", "customer_id", "product_id", "quantity", "net_amount"
    )
    with_gender = attributes_at(
        scoped, customers, key="customer_id", at=F.col("transaction_ts"), columns=["gender"], prefix="customer_"
    )
    with_category = attributes_at(
        with_gender, products, key="product_id", at=F.col("transaction_ts"), columns=["category_id"], prefix="product_"
    )
    departments = categories.select(
        F.col("category_id").alias("_department_of"), F.col("department").alias("_department")
    )
    facts = with_category.join(
        F.broadcast(departments), F.col("product_category_id") == F.col("_department_of"), "left"
    ).select(
        SALE_DATE,
        F.coalesce(F.col("customer_gender"), F.lit(UNKNOWN)).alias("gender"),
        F.coalesce(F.col("_department"), F.lit(UNKNOWN)).alias("category"),
        "customer_id",
        "quantity",
        "net_amount",
    )
    totals = facts.groupBy(SALE_DATE, "gender", "category").agg(
        F.sum("quantity").cast("long").alias("products_sold"),
        F.sum("net_amount").alias("revenue"),
        F.countDistinct("customer_id").alias("customers"),
    )
    day_and_category = Window.partitionBy(SALE_DATE, "category")
    return totals.withColumns(
        {
            "revenue_share": F.round(F.col("revenue") / F.sum("revenue").over(day_and_category), 6).cast("double"),
            "products_sold_share": F.round(
                F.col("products_sold") / F.sum("products_sold").over(day_and_category), 6
            ).cast("double"),
        }
    )


def _sales_daily(inputs: Mapping[str, DataFrame], context: TransformContext) -> DataFrame:
    return sales_daily(inputs["source"], inputs["lines"])


def _sales_by_gender_category(inputs: Mapping[str, DataFrame], context: TransformContext) -> DataFrame:
    return sales_by_gender_category(
        inputs["source"], inputs["lines"], inputs["customers"], inputs["products"], inputs["categories"]
    )


GOLD_SALES_DAILY = TransformSpec(
    name="gold.sales_daily",
    description="changed transaction lines -> sales by date, store, product and channel for the dates touched",
    inputs=("source", "lines"),
    apply=_sales_daily,
)
GOLD_SALES_BY_GENDER_CATEGORY = TransformSpec(
    name="gold.sales_by_gender_category",
    description="changed transaction lines -> units, revenue and customers by date, gender and department",
    inputs=("source", "lines", "customers", "products", "categories"),
    apply=_sales_by_gender_category,
)
