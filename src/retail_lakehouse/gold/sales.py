"""Daily sales facts, recomputed only for the days new silver rows fall on.

The `source` input is the change feed of silver transaction lines since the last run: every date it
names (inserted, updated or deleted lines) is recomputed whole from the `lines` table, and the job writes
those dates by replace-where. A run costs in proportion to the days it touches, not to the history.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.gold.versions import attributes_at

SALE_DATE = "sale_date"
UNKNOWN = "Unknown"  # CRM does not know the customer (or no category is known for the product)
NOT_RECORDED = "Not recorded"  # CRM knows the customer, not the gender


def touched_dates(changes: DataFrame) -> list[object]:
    """The sale dates the changed rows fall on (a handful per run; they become a partition filter)."""
    return sorted(row[0] for row in changes.select(SALE_DATE).distinct().collect() if row[0] is not None)


def lines_on(lines: DataFrame, changes: DataFrame) -> DataFrame:
    """Every line of the dates `changes` touched; a literal IN on the partition column prunes the rest."""
    dates = touched_dates(changes)
    return lines.where(F.col(SALE_DATE).isin(dates)) if dates else lines.limit(0)


@transform(
    "gold.sales_daily",
    description="changed transaction lines -> sales by date, store, product and channel for the dates touched",
)
def sales_daily(source: DataFrame, lines: DataFrame) -> DataFrame:
    """Quantity, revenue and transactions by date, store, product and channel for the touched dates."""
    return (
        lines_on(lines, source)
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


def customer_category_facts(
    changes: DataFrame, lines: DataFrame, customers: DataFrame, products: DataFrame, categories: DataFrame
) -> DataFrame:
    """Every line of the touched dates with its customer's gender and its product's top-level category, as
    in force at the sale (SCD2), so later master-data changes do not rewrite history.

    Gender is `Unknown` when CRM does not know the customer (an anonymous sale, or an id CRM never sent)
    and `Not recorded` when CRM knows the customer but not the gender; a product without a category counts
    under category `Unknown`. No sale is dropped for a missing dimension."""
    scoped = lines_on(lines, changes).select(
        SALE_DATE, "transaction_ts", "customer_id", "product_id", "quantity", "net_amount"
    )
    with_gender = attributes_at(
        scoped,
        customers,
        key="customer_id",
        at=F.col("transaction_ts"),
        columns=["gender", "customer_id"],
        prefix="customer_",
    )
    with_category = attributes_at(
        with_gender, products, key="product_id", at=F.col("transaction_ts"), columns=["category_id"], prefix="product_"
    )
    departments = categories.select(
        F.col("category_id").alias("_department_of"), F.col("department").alias("_department")
    )
    gender = (
        F.when(F.col("customer_customer_id").isNull(), F.lit(UNKNOWN))
        .when(F.col("customer_gender").isNull(), F.lit(NOT_RECORDED))
        .otherwise(F.col("customer_gender"))
    )
    return with_category.join(
        F.broadcast(departments), F.col("product_category_id") == F.col("_department_of"), "left"
    ).select(
        SALE_DATE,
        gender.alias("gender"),
        F.coalesce(F.col("_department"), F.lit(UNKNOWN)).alias("category"),
        "customer_id",
        "quantity",
        "net_amount",
    )


@transform(
    "gold.customer_category_daily",
    description="changed transaction lines -> units and revenue by date, customer, gender and department",
)
def customer_category_daily(
    source: DataFrame, lines: DataFrame, customers: DataFrame, products: DataFrame, categories: DataFrame
) -> DataFrame:
    """Products sold and revenue per date, customer, gender and top-level category: the grain a date-range
    query needs to count distinct customers (a sum of daily distinct counts counts a customer once per
    day). Anonymous sales have a null customer_id and count as no customer."""
    facts = customer_category_facts(source, lines, customers, products, categories)
    return facts.groupBy(SALE_DATE, "customer_id", "gender", "category").agg(
        F.sum("quantity").cast("long").alias("products_sold"),
        F.sum("net_amount").alias("revenue"),
    )


@transform(
    "gold.sales_by_gender_category",
    description="changed transaction lines -> units, revenue and customers by date, gender and department",
)
def sales_by_gender_category(
    source: DataFrame, lines: DataFrame, customers: DataFrame, products: DataFrame, categories: DataFrame
) -> DataFrame:
    """Products sold, revenue and distinct customers by date, gender and top-level category, with each
    gender's share of the date's revenue and units in that category (see customer_category_facts for
    `Unknown` and `Not recorded`). Totals over genders equal total revenue. Customers and shares are per
    day: over a date range, count customers in customer_category_daily and recompute shares from sums."""
    facts = customer_category_facts(source, lines, customers, products, categories)
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
