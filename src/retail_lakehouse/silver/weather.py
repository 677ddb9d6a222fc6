"""Daily weather per region: a demand feature (temperature, precipitation)."""

from __future__ import annotations

from pyspark.sql import DataFrame

from retail_lakehouse.core.columns import HELPER_PREFIX
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.silver.standardize import SourceFormats, text, typed_double, typed_rows


@transform(
    "silver.weather",
    description="weather rows -> typed temperature and precipitation per date and region",
    helper_prefix=HELPER_PREFIX,
)
def weather(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "date": params.date("date"),
            "region": text("region"),
            "temperature_c": typed_double("temperature_c"),
            "precipitation_mm": typed_double("precipitation_mm"),
        },
        params,
    )
