"""Store benchmarking against peers, and product performance with gross margin from cost."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.gold.versions import attributes_at, current, end_of_day

# Sums of silver amounts at their full precision (4 decimals): rounding is for presentation.
MONEY = "decimal(38,4)"


class StorePerformanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int | None = Field(
        None, ge=1, description="Trailing days up to the latest sale date; default: the whole history."
    )


def _index(value: str, median: str) -> Column:
    """100 = the peer group's median."""
    return F.when(F.col(median) > 0, F.round(F.col(value) / F.col(median) * 100, 2).cast("double"))


@transform(
    "gold.store_performance",
    description="transactions + stores -> revenue, per square foot, basket, rank and index against peers",
)
def store_performance(transactions: DataFrame, stores: DataFrame, params: StorePerformanceParams) -> DataFrame:
    """Per store: net revenue, revenue per square foot, transactions and average basket, and how it ranks
    against the median of its peers (stores of the same region and format). Stores without sales appear
    with zeros; the online store has no floor area, so no revenue per square foot."""
    scoped = transactions
    if params.days is not None:
        latest = transactions.agg(F.max("sale_date")).first()
        if latest is not None and latest[0] is not None:
            scoped = transactions.where(F.col("sale_date") > F.date_sub(F.lit(latest[0]), params.days))
    per_store = scoped.groupBy("store_id").agg(
        F.sum("net_amount").cast(MONEY).alias("net_revenue"),
        F.count(F.lit(1)).alias("transactions"),
        F.min("sale_date").alias("first_sale_date"),
        F.max("sale_date").alias("last_sale_date"),
    )
    store_columns = stores.select("store_id", "name", "region", "format", "square_feet", "is_online")
    joined = store_columns.join(per_store, "store_id", "full_outer").withColumns(
        {
            "net_revenue": F.coalesce("net_revenue", F.lit(0).cast(MONEY)),
            "transactions": F.coalesce("transactions", F.lit(0)).cast("long"),
        }
    )
    measured = joined.withColumns(
        {
            "revenue_per_sqft": F.when(
                F.col("square_feet") > 0, F.round(F.col("net_revenue") / F.col("square_feet"), 4).cast("double")
            ),
            "avg_basket_value": F.when(
                F.col("transactions") > 0, F.round(F.col("net_revenue") / F.col("transactions"), 4).cast(MONEY)
            ),
        }
    )
    peers = Window.partitionBy("region", "format")
    medians = measured.groupBy("region", "format").agg(
        F.median("net_revenue").cast("double").alias("_median_revenue"),
        F.median("revenue_per_sqft").alias("_median_revenue_per_sqft"),
    )
    return (
        measured.join(medians, ["region", "format"], "left")
        .withColumns(
            {
                "peer_stores": F.count(F.lit(1)).over(peers),
                "peer_rank": F.rank().over(peers.orderBy(F.col("net_revenue").desc())),
                "revenue_index": _index("net_revenue", "_median_revenue"),
                "revenue_per_sqft_index": _index("revenue_per_sqft", "_median_revenue_per_sqft"),
                "period_days": F.lit(params.days).cast("int"),
            }
        )
        .drop("_median_revenue", "_median_revenue_per_sqft")
    )


@transform(
    "gold.product_performance",
    description="sales_daily + product versions -> units, revenue, cost of goods and gross margin per product",
)
def product_performance(sales_daily: DataFrame, products: DataFrame, categories: DataFrame) -> DataFrame:
    """Per product: units, revenue, cost of goods at the cost in force on each sale day (SCD2), gross
    margin and its share of net revenue; with the product's current name and category."""
    per_day = sales_daily.groupBy("product_id", "sale_date").agg(
        F.sum("quantity_sold").alias("quantity_sold"),
        F.sum("gross_revenue").alias("gross_revenue"),
        F.sum("discount_amount").alias("discount_amount"),
        F.sum("net_revenue").alias("net_revenue"),
    )
    costed = attributes_at(
        per_day, products, key="product_id", at=end_of_day(F.col("sale_date")), columns=["cost"], prefix="product_"
    )
    totals = costed.groupBy("product_id").agg(
        F.sum("quantity_sold").cast("long").alias("quantity_sold"),
        F.sum("gross_revenue").cast(MONEY).alias("gross_revenue"),
        F.sum("discount_amount").cast(MONEY).alias("discount_amount"),
        F.sum("net_revenue").cast(MONEY).alias("net_revenue"),
        F.sum(F.col("quantity_sold") * F.col("product_cost")).cast(MONEY).alias("cost_of_goods"),
        F.min("sale_date").alias("first_sale_date"),
        F.max("sale_date").alias("last_sale_date"),
    )
    named = current(products).select("product_id", "sku", "name", "category_id")
    category = categories.select(
        "category_id", F.col("name").alias("category"), "department", F.col("path").alias("category_path")
    )
    return (
        totals.join(named, "product_id", "left")
        .join(F.broadcast(category), "category_id", "left")
        .withColumns(
            {
                "category": F.coalesce("category", F.lit("Unknown")),
                "gross_margin": (F.col("net_revenue") - F.col("cost_of_goods")).cast(MONEY),
            }
        )
        .withColumn(
            "gross_margin_pct",
            F.when(F.col("net_revenue") > 0, F.round(F.col("gross_margin") / F.col("net_revenue") * 100, 2)).cast(
                "double"
            ),
        )
    )
