"""Customer and market activity: loyalty events and competitor price checks."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.registry import TransformSpec, of_source, of_source_with
from retail_lakehouse.silver.dimensions import TimeZoneParams
from retail_lakehouse.silver.standardize import date, identifier, integer, money, text, typed_rows, utc_timestamp


def loyalty_events(source: DataFrame, params: TimeZoneParams) -> DataFrame:
    event_ts = utc_timestamp("event_ts", params.source_time_zone)
    return typed_rows(
        source,
        {
            "event_id": identifier("event_id"),
            "customer_id": identifier("customer_id"),
            "event_ts": event_ts,
            "event_date": F.to_date(event_ts),
            "event_type": F.lower(text("event_type")),
            "points": integer("points"),
            "transaction_id": identifier("transaction_id"),
        },
    )


def competitor_prices(source: DataFrame) -> DataFrame:
    return typed_rows(
        source,
        {
            "product_id": identifier("product_id"),
            "competitor": text("competitor"),
            "price": money("price"),
            "observed_date": date("observed_date"),
        },
    )


SILVER_LOYALTY_EVENTS = TransformSpec(
    name="silver.loyalty_events",
    description="loyalty rows -> typed points earned and redeemed",
    inputs=("source",),
    apply=of_source_with(loyalty_events, TimeZoneParams),
    params_model=TimeZoneParams,
)
SILVER_COMPETITOR_PRICES = TransformSpec(
    name="silver.competitor_prices",
    description="competitor price checks -> typed prices",
    inputs=("source",),
    apply=of_source(competitor_prices),
)
