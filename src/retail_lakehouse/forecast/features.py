"""gold/demand_features: one row per store, product and day of every active series, point-in-time correct.

A series is a (store, product) pair that sold within `active_days` of the last sale date (and, with
`top_products`, whose product is among the top by revenue over that window). Its rows run from its
first sale on, every day: a day without sales is 0, not a missing row. Each row's features are what was
known before the day began: lags 1/7/14/28 and rolling 7/28-day means of the demand signal (days before
it only), the day's list price (SCD2 version in force) and promotion (its discount share of gross
revenue over all stores, 0 on a day the product sold nowhere), weekday, public holiday of the store's
country and subdivision, and the region's weather.

Stock-outs: `closing_stock` is the store's stock of the item at the end of the day (latest count + the
changes since, as the inventory stream counts), and `stock_out` is true when it is 0 or less: that day's
sales are censored by the stock. The demand signal is null on those days, so no lag or mean carries a
censored value.

Incremental by date: `source` is the change feed of silver transaction lines since the last run; the
dates from its earliest sale date to the last sale date are recomputed (a day's features depend on the
28 days before it) and written by replace-where on `date`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.forecast.calendar import store_holidays
from retail_lakehouse.forecast.models import LAGS, ROLLING_WINDOWS, SERIES
from retail_lakehouse.gold.sales import SALE_DATE, touched_dates
from retail_lakehouse.gold.versions import attributes_at

LOOKBACK_DAYS = max(*LAGS, *ROLLING_WINDOWS)
SALE_CHANGE_TYPES = (1, 4)  # sale, BOPIS: the inventory feed's codes that move stock to a customer
SNAPSHOT, CHANGE = 0, 1


class DemandFeatureParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    active_days: int = Field(90, ge=1, description="A series is active when it sold within this many days.")
    top_products: int | None = Field(
        None, ge=1, description="Only the top products by revenue over active_days (None: every product)."
    )
    online_store_id: str = Field("0", description="The online store: its BOPIS events move no stock of its own.")


def _day_range(first: dt.date, last: dt.date) -> Column:
    return F.explode(F.sequence(F.lit(first), F.lit(last)))


def closing_stock(changes: DataFrame, snapshots: DataFrame, first: dt.date, last: dt.date, online: str) -> DataFrame:
    """store_id, product_id, date, closing_stock for every day in [first, last] on which some event or
    count touched the item, and for first - 1 (the level the period starts from). Reads counts up to
    `last` and only the changes since each item's latest count before `first` (the change table is
    partitioned by change_date: a literal lower bound prunes the older history)."""
    counts = snapshots.where(F.to_date("snapshot_ts") <= F.lit(last)).select(
        F.col("store_id"), F.col("item_id").alias("product_id"), F.col("snapshot_ts").alias("ts"), "quantity"
    )
    anchors = counts.where(F.to_date("ts") < F.lit(first)).groupBy(*SERIES).agg(F.max("ts").alias("anchor_ts"))
    earliest = anchors.agg(F.min("anchor_ts")).first()
    since = earliest[0].date() if earliest and earliest[0] is not None else first
    moves = changes.where(
        (F.col("change_date") >= F.lit(min(since, first)))
        & (F.col("change_date") <= F.lit(last))
        & ~((F.col("change_type_id") == 4) & (F.col("store_id") == online))
    ).select(F.col("store_id"), F.col("item_id").alias("product_id"), F.col("change_ts").alias("ts"), "quantity")
    events = (
        counts.withColumn("kind", F.lit(SNAPSHOT))
        .unionByName(moves.withColumn("kind", F.lit(CHANGE)))
        .join(anchors, SERIES, "left")
        .where(F.col("anchor_ts").isNull() | (F.col("ts") >= F.col("anchor_ts")))
    )
    # A count resets the level; changes at or after its time add to it (a count first at the same second).
    order = Window.partitionBy(*SERIES).orderBy("ts", "kind")
    segment = F.sum(F.when(F.col("kind") == SNAPSHOT, 1).otherwise(0)).over(
        order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    in_segment = Window.partitionBy(*SERIES, "segment").orderBy("ts", "kind")
    leveled = (
        events.withColumn("segment", segment)
        .where(F.col("segment") > 0)  # before an item's first count its level is unknown
        .withColumn(
            "level",
            F.max(F.when(F.col("kind") == SNAPSHOT, F.col("quantity"))).over(Window.partitionBy(*SERIES, "segment"))
            + F.sum(F.when(F.col("kind") == CHANGE, F.col("quantity")).otherwise(0)).over(in_segment),
        )
        .withColumn("date", F.greatest(F.to_date("ts"), F.lit(first - dt.timedelta(days=1))))
    )
    return leveled.groupBy(*SERIES, "date").agg(F.max_by("level", F.struct("ts", "kind")).alias("closing_stock"))


def active_series(sales: DataFrame, last: dt.date, params: DemandFeatureParams) -> DataFrame:
    """store_id, product_id, first_sale of the series in scope. The first sale reads the whole sales table
    (three columns of the daily aggregate): a series' rows start there."""
    spans = sales.groupBy("store_id", "product_id").agg(
        F.min(SALE_DATE).alias("first_sale"), F.max(SALE_DATE).alias("last_sale")
    )
    window_start = F.lit(last - dt.timedelta(days=params.active_days - 1))
    active = spans.where(F.col("last_sale") >= window_start)
    if params.top_products is not None:
        revenue = (
            sales.where(F.col(SALE_DATE) >= window_start)
            .groupBy("product_id")
            .agg(F.sum("net_revenue").alias("_revenue"))
            .withColumn("_rank", F.row_number().over(Window.orderBy(F.desc("_revenue"), "product_id")))
            .where(F.col("_rank") <= params.top_products)
            .select("product_id")
        )
        active = active.join(revenue, "product_id", "left_semi")
    return active.select("store_id", "product_id", "first_sale")


@transform(
    "forecast.demand_features",
    description="changed transaction lines -> store x product x day demand features for the dates touched",
)
def demand_features(
    source: DataFrame,
    sales: DataFrame,
    stores: DataFrame,
    products: DataFrame,
    categories: DataFrame,
    weather: DataFrame,
    inventory_changes: DataFrame,
    inventory_snapshots: DataFrame,
    params: DemandFeatureParams,
) -> DataFrame:
    touched = touched_dates(source)
    if not touched:
        return _empty(sales)
    latest = sales.agg(F.max(SALE_DATE)).first()
    last: dt.date = max(latest[0], touched[-1]) if latest and latest[0] else touched[-1]  # type: ignore[assignment]
    first: dt.date = touched[0]  # type: ignore[assignment]
    start = first - dt.timedelta(days=LOOKBACK_DAYS)

    series = active_series(sales, last, params)
    grid = series.withColumn("date", _day_range(start, last)).where(F.col("date") >= F.col("first_sale"))
    window = sales.where(F.col(SALE_DATE).between(F.lit(start), F.lit(last)))
    sold = window.groupBy("store_id", "product_id", F.col(SALE_DATE).alias("date")).agg(
        F.sum("quantity_sold").alias("quantity_sold")
    )
    promoted = window.groupBy("product_id", F.col(SALE_DATE).alias("date")).agg(
        # Rounded: the share is a ratio of rounded money (a 10% discount reads 0.100001 unrounded).
        F.round((F.sum("discount_amount") / F.sum("gross_revenue")).cast("double"), 3).alias("promotion")
    )
    stock = closing_stock(inventory_changes, inventory_snapshots, start, last, params.online_store_id)
    # The level carried into the period from before it (a day before `start` has no grid row).
    opening = stock.where(F.col("date") < F.lit(start)).select(*SERIES, F.col("closing_stock").alias("_opening"))
    order = Window.partitionBy(*SERIES).orderBy("date")
    days = (
        grid.join(sold, [*SERIES, "date"], "left")
        .join(stock, [*SERIES, "date"], "left")
        .join(opening, SERIES, "left")
        .withColumn("quantity_sold", F.coalesce("quantity_sold", F.lit(0)).cast("long"))
        .withColumn(
            "closing_stock", F.coalesce(F.last("closing_stock", ignorenulls=True).over(order), F.col("_opening"))
        )
        .withColumn("stock_out", F.coalesce(F.col("closing_stock") <= 0, F.lit(False)))
        .withColumn("_signal", F.when(~F.col("stock_out"), F.col("quantity_sold").cast("double")))
    )
    features = days.withColumns(
        {
            **{f"lag_{k}": F.lag("_signal", k).over(order) for k in LAGS},
            **{f"rolling_mean_{w}": F.avg("_signal").over(order.rowsBetween(-w, -1)) for w in ROLLING_WINDOWS},
        }
    ).where(F.col("date") >= F.lit(first))
    return _with_day_facts(features, products, categories, stores, weather, promoted, first, last)


def _with_day_facts(
    features: DataFrame,
    products: DataFrame,
    categories: DataFrame,
    stores: DataFrame,
    weather: DataFrame,
    promoted: DataFrame,
    first: dt.date,
    last: dt.date,
) -> DataFrame:
    priced = attributes_at(
        features,
        products,
        key="product_id",
        at=F.col("date").cast("timestamp"),
        columns=["list_price", "category_id"],
        prefix="product_",
    )
    departments = categories.select(F.col("category_id").alias("_category"), F.col("department").alias("category"))
    places = stores.select("store_id", "region")
    holiday = store_holidays(features.sparkSession, stores, first, last)
    climate = weather.select(
        "region", "date", F.col("temperature_c").alias("temperature"), F.col("precipitation_mm").alias("precipitation")
    )
    return (
        priced.join(F.broadcast(departments), F.col("product_category_id") == F.col("_category"), "left")
        .join(promoted, ["product_id", "date"], "left")
        .join(F.broadcast(places), "store_id", "left")
        .join(F.broadcast(holiday), ["store_id", "date"], "left")
        .join(climate, ["region", "date"], "left")
        .select(
            "store_id",
            "product_id",
            "date",
            F.coalesce("category", F.lit("Unknown")).alias("category"),
            "quantity_sold",
            "stock_out",
            F.col("closing_stock").cast("long").alias("closing_stock"),
            *(F.col(f"lag_{k}") for k in LAGS),
            *(F.col(f"rolling_mean_{w}") for w in ROLLING_WINDOWS),
            F.col("product_list_price").cast("double").alias("price"),
            F.coalesce("promotion", F.lit(0.0)).alias("promotion"),
            F.dayofweek("date").alias("_dow"),
            F.col("holiday_name").isNotNull().alias("is_holiday"),
            "holiday_name",
            "temperature",
            "precipitation",
        )
        # ISO weekday: 1 Monday .. 7 Sunday (Spark's dayofweek counts from Sunday).
        .withColumn("day_of_week", ((F.col("_dow") + 5) % 7 + 1).cast("int"))
        .drop("_dow")
    )


def _empty(sales: DataFrame) -> DataFrame:
    """No touched date: no rows, in the table's columns."""
    return sales.sparkSession.createDataFrame([], FEATURE_SCHEMA)


FEATURE_SCHEMA = (
    "store_id string, product_id string, date date, category string, quantity_sold bigint, stock_out boolean, "
    "closing_stock bigint, lag_1 double, lag_7 double, lag_14 double, lag_28 double, rolling_mean_7 double, "
    "rolling_mean_28 double, price double, promotion double, is_holiday boolean, holiday_name string, "
    "temperature double, precipitation double, day_of_week int"
)
