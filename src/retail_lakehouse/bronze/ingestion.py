"""Bronze ingestion: the source rows as received plus ingestion metadata."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import INGEST_DATE, INGESTED_AT, RUN_ID
from retail_lakehouse.core.contracts import NoParams, TransformContext, transform


def add_ingestion_metadata(df: DataFrame, *, run_id: str, ingested_at: datetime) -> DataFrame:
    """Adds when (and the date bronze partitions by) and in which run the rows were ingested."""
    ingested = F.lit(ingested_at).cast("timestamp")
    return df.withColumns({INGESTED_AT: ingested, INGEST_DATE: F.to_date(ingested), RUN_ID: F.lit(run_id)})


@transform(
    "bronze.ingest",
    description="raw rows as received + _source, _ingested_at, _ingest_date, _run_id",
    preserves_rows=True,
)
def ingest(source: DataFrame, context: TransformContext[NoParams]) -> DataFrame:
    return add_ingestion_metadata(source, run_id=context.run_id, ingested_at=context.run_started_at)
