"""Customer 360: purchases, channels, preferred categories, loyalty points and an RFM segment.

Each fact table is aggregated per customer before the join. Joining transactions to their lines and to
loyalty events first (as the reference architecture's SQL does) repeats each transaction once per line and
per event and inflates every sum.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.gold.versions import current

# Sums of silver amounts at their full precision (4 decimals): rounding is for presentation.
MONEY = "decimal(38,4)"


class RfmRules(BaseModel):
    """Segments, checked in this order; a customer who matches none is a Potential."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    champion_within_days: int = Field(30, ge=0)
    champion_min_transactions: int = Field(4, ge=1)
    loyal_within_days: int = Field(90, ge=0)
    loyal_min_lifetime_value: float = Field(1000, ge=0)
    at_risk_after_days: int = Field(180, ge=0)


class Customer360Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of_date: dt.date | None = Field(
        None, description="Day recency is counted from; default: the latest sale date (never the wall clock)."
    )
    preferred_categories: int = Field(3, ge=1, description="How many top departments by net revenue to list.")
    rfm: RfmRules = RfmRules()

    @model_validator(mode="after")
    def _windows_ordered(self) -> Customer360Params:
        if self.rfm.champion_within_days > self.rfm.loyal_within_days:
            raise ValueError("rfm.champion_within_days must not exceed rfm.loyal_within_days")
        return self


def rfm_segment(days_since: Column, transactions: Column, lifetime_value: Column, rules: RfmRules) -> Column:
    return (
        F.when(
            (days_since <= rules.champion_within_days) & (transactions >= rules.champion_min_transactions),
            "Champion",
        )
        .when((days_since <= rules.loyal_within_days) & (lifetime_value > rules.loyal_min_lifetime_value), "Loyal")
        .when(days_since > rules.at_risk_after_days, "At Risk")
        .otherwise("Potential")
    )


def _per_customer_transactions(transactions: DataFrame) -> DataFrame:
    known = transactions.where(F.col("customer_id").isNotNull())
    return known.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("total_transactions"),
        F.sum("net_amount").cast(MONEY).alias("lifetime_value"),
        F.min("sale_date").alias("first_purchase_date"),
        F.max("sale_date").alias("last_purchase_date"),
        F.sum(F.when(F.col("channel") == "Online", 1).otherwise(0)).alias("online_transactions"),
        F.sum(F.when(F.col("channel") == "Store", 1).otherwise(0)).alias("store_transactions"),
        F.sum(F.when(F.col("channel") == "Mobile", 1).otherwise(0)).alias("mobile_transactions"),
    )


def _preferred_categories(lines: DataFrame, products: DataFrame, categories: DataFrame, top: int) -> DataFrame:
    """The customer's top departments by net revenue (ties by name), most bought first."""
    department = (
        current(products)
        .select("product_id", "category_id")
        .join(categories.select("category_id", "department"), "category_id", "left")
        .select("product_id", F.coalesce("department", F.lit("Unknown")).alias("department"))
    )
    spend = (
        lines.where(F.col("customer_id").isNotNull())
        .join(F.broadcast(department), "product_id", "left")
        .withColumn("department", F.coalesce("department", F.lit("Unknown")))
        .groupBy("customer_id", "department")
        .agg(F.sum("net_amount").alias("_spend"))
    )
    ranked = spend.withColumn(
        "_rank",
        F.row_number().over(Window.partitionBy("customer_id").orderBy(F.col("_spend").desc(), "department")),
    ).where(F.col("_rank") <= top)
    return ranked.groupBy("customer_id").agg(
        F.transform(F.array_sort(F.collect_list(F.struct("_rank", "department"))), lambda s: s["department"]).alias(
            "preferred_categories"
        )
    )


def _per_customer_points(loyalty_events: DataFrame) -> DataFrame:
    return (
        loyalty_events.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(
            F.sum(F.when(F.col("event_type") == "earn", F.col("points")).otherwise(0))
            .cast("long")
            .alias("total_points_earned"),
            F.sum(F.when(F.col("event_type") == "redeem", F.col("points")).otherwise(0))
            .cast("long")
            .alias("total_points_redeemed"),
        )
    )


@transform(
    "gold.customer_360",
    description="transactions, lines, loyalty events, customers -> one row per customer with RFM segment",
)
def customer_360(
    transactions: DataFrame,
    lines: DataFrame,
    loyalty_events: DataFrame,
    customers: DataFrame,
    products: DataFrame,
    categories: DataFrame,
    params: Customer360Params,
) -> DataFrame:
    """One row per customer known to CRM or seen in a sale, with the current CRM attributes."""
    as_of = params.as_of_date
    if as_of is None:
        latest = transactions.agg(F.max("sale_date")).first()
        as_of = latest[0] if latest and latest[0] is not None else None
    profile = current(customers).select("customer_id", "gender", "segment", "city", "registration_date")
    facts = (
        _per_customer_transactions(transactions)
        .join(_preferred_categories(lines, products, categories, params.preferred_categories), "customer_id", "left")
        .join(_per_customer_points(loyalty_events), "customer_id", "full_outer")
    )
    days_since = F.datediff(F.lit(as_of), F.col("last_purchase_date")) if as_of else F.lit(None).cast("int")
    return (
        profile.join(facts, "customer_id", "full_outer")
        .withColumns(
            {
                "total_transactions": F.coalesce("total_transactions", F.lit(0)).cast("long"),
                "lifetime_value": F.coalesce("lifetime_value", F.lit(0).cast(MONEY)),
                "online_transactions": F.coalesce("online_transactions", F.lit(0)).cast("long"),
                "store_transactions": F.coalesce("store_transactions", F.lit(0)).cast("long"),
                "mobile_transactions": F.coalesce("mobile_transactions", F.lit(0)).cast("long"),
                "preferred_categories": F.coalesce("preferred_categories", F.array().cast("array<string>")),
                "total_points_earned": F.coalesce("total_points_earned", F.lit(0)).cast("long"),
                "total_points_redeemed": F.coalesce("total_points_redeemed", F.lit(0)).cast("long"),
                "days_since_purchase": days_since,
                "as_of_date": F.lit(as_of).cast("date"),
            }
        )
        .withColumn(
            "rfm_segment",
            rfm_segment(F.col("days_since_purchase"), F.col("total_transactions"), F.col("lifetime_value"), params.rfm),
        )
    )
