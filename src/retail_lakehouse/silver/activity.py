"""Customer and market activity: loyalty events and competitor price checks."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.registry import TransformSpec, of_source_with
from retail_lakehouse.silver.standardize import SourceFormats, identifier, text, typed_integer, typed_rows


def loyalty_events(source: DataFrame, params: SourceFormats) -> DataFrame:
    event_ts = params.timestamp("event_ts")
    return typed_rows(
        source,
        {
            "event_id": identifier("event_id"),
            "customer_id": identifier("customer_id"),
            "event_ts": event_ts,
            "event_date": F.to_date(event_ts.value),
            "event_type": F.lower(text("event_type")),
            "points": typed_integer("points"),
            "transaction_id": identifier("transaction_id"),
        },
        params,
    )


def competitor_prices(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "product_id": identifier("product_id"),
            "competitor": text("competitor"),
            "price": params.money("price"),
            "observed_date": params.date("observed_date"),
        },
        params,
    )


SILVER_LOYALTY_EVENTS = TransformSpec(
    name="silver.loyalty_events",
    description="loyalty rows -> typed points earned and redeemed",
    inputs=("source",),
    apply=of_source_with(loyalty_events, SourceFormats),
    params_model=SourceFormats,
)
SILVER_COMPETITOR_PRICES = TransformSpec(
    name="silver.competitor_prices",
    description="competitor price checks -> typed prices",
    inputs=("source",),
    apply=of_source_with(competitor_prices, SourceFormats),
    params_model=SourceFormats,
)
