"""Customer-insights KPIs over `gold/customer_category_daily`, with the dashboard's definitions: products
sold and revenue summed; customers counted distinct over the whole range (never a sum of daily counts);
anonymous sales count no customer; gender labelled Female, Male, Other or Unknown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.serve.query import GENDER_LABEL

TABLE = "gold/customer_category_daily"


@dataclass(frozen=True)
class InsightsFilter:
    """A date range (inclusive; None: open) and genders and categories (empty: all)."""

    start: dt.date | None = None
    end: dt.date | None = None
    genders: Sequence[str] = field(default_factory=tuple)
    categories: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the date range runs backwards: {self.start} is after {self.end}")


def labelled(daily: DataFrame) -> DataFrame:
    return daily.withColumn("gender", F.expr(GENDER_LABEL))  # the dashboard's own labelling


def filtered(daily: DataFrame, selection: InsightsFilter) -> DataFrame:
    """The labelled rows of `gold/customer_category_daily` the filter selects."""
    rows = labelled(daily)
    if selection.start:
        rows = rows.where(F.col("sale_date") >= F.lit(selection.start))
    if selection.end:
        rows = rows.where(F.col("sale_date") <= F.lit(selection.end))
    if selection.genders:
        rows = rows.where(F.col("gender").isin(list(selection.genders)))
    if selection.categories:
        rows = rows.where(F.col("category").isin(list(selection.categories)))
    return rows


def _measures() -> list[Column]:
    return [
        F.coalesce(F.sum("products_sold"), F.lit(0)).alias("products_sold"),
        F.coalesce(F.sum("revenue"), F.lit(0)).alias("revenue"),
        F.count_distinct("customer_id").alias("customers"),
    ]


def totals(rows: DataFrame) -> DataFrame:
    """One row: products sold, revenue and distinct customers of the selection."""
    return rows.agg(*_measures())


def by_gender(rows: DataFrame) -> DataFrame:
    """Per gender, with its share (%) of the selection's customers (the shares add up to 100)."""
    everyone = Window.partitionBy()  # a handful of genders: one partition is fine
    return (
        rows.groupBy("gender")
        .agg(*_measures())
        .withColumn(
            "customers_pct",
            F.when(
                F.sum("customers").over(everyone) > 0,
                F.round(100.0 * F.col("customers") / F.sum("customers").over(everyone), 2),
            ),
        )
        .orderBy("gender")
    )


def by_category(rows: DataFrame) -> DataFrame:
    """Per category and gender, with the gender's share (%) of the category's revenue."""
    cells = rows.groupBy("category", "gender").agg(*_measures())
    category = Window.partitionBy("category")
    return cells.withColumn(
        "revenue_pct",
        F.when(
            F.sum("revenue").over(category) != 0,
            F.round(100.0 * F.col("revenue") / F.sum("revenue").over(category), 2),
        ),
    ).orderBy(F.desc("revenue"), "category", "gender")


def trend(rows: DataFrame) -> DataFrame:
    """Revenue and products sold per day and gender."""
    return (
        rows.groupBy("sale_date", "gender")
        .agg(F.sum("revenue").alias("revenue"), F.sum("products_sold").alias("products_sold"))
        .orderBy("sale_date", "gender")
    )
