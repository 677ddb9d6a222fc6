"""Customer and market activity: loyalty events and competitor price checks."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import HELPER_PREFIX
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.silver.standardize import SourceFormats, identifier, text, typed_integer, typed_rows


@transform(
    "silver.loyalty_events",
    description="loyalty rows -> typed points earned and redeemed",
    helper_prefix=HELPER_PREFIX,
)
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


@transform(
    "silver.competitor_prices",
    description="competitor price checks -> typed prices",
    helper_prefix=HELPER_PREFIX,
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
