from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.io.readers import read_feed
from tests.conftest import FIXTURES

STORES = FeedSettings.model_validate(
    {"path": "stores", "format": "csv", "schema": "store_id STRING, name STRING", "options": {"header": "true"}}
)


def test_csv_feed_keeps_malformed_lines_raw_and_names_the_file(spark: SparkSession) -> None:
    df = read_feed(spark, STORES, str(FIXTURES / "landing" / "stores"), incremental=False)
    source = f"file:{FIXTURES / 'landing' / 'stores' / '2025-01-01' / 'stores.csv'}"
    expected = spark.createDataFrame(
        [
            ("0", "online", None, source),
            ("1", "store_001", None, source),
            ("2", "store_002", "2,store_002,extra-column", source),
            # An unterminated quote: the parser's best guess stays, and the raw line beside it.
            ("3,broken quote", None, '"3,broken quote', source),
        ],
        "store_id STRING, name STRING, _corrupt_record STRING, _source_file STRING",
    )
    assert_df_equality(df, expected, ignore_row_order=True, ignore_nullable=True)
