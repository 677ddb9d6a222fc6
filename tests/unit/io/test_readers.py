from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.io.readers import read_feed
from retail_lakehouse.runner.jobs import describe_error
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
        "store_id STRING, name STRING, _corrupt_record STRING, _source STRING",
    )
    assert_df_equality(df, expected, ignore_row_order=True, ignore_nullable=True)


ORDERS = FeedSettings.model_validate({"path": "orders", "format": "json", "schema": "order_id STRING, total STRING"})


def test_json_lines_keep_undeclared_fields_and_malformed_lines(spark: SparkSession) -> None:
    df = read_feed(spark, ORDERS, str(FIXTURES / "landing" / "orders"), incremental=False).drop("_source")
    expected = spark.createDataFrame(
        [
            ("o1", "12.5", None, None),
            ("o2", "3", None, '{"order_id":"o2","total":3,"coupon":"SPRING"}'),
            (None, None, '{"order_id":"o3",', None),
        ],
        "order_id STRING, total STRING, _corrupt_record STRING, _rescued_data STRING",
    )
    assert_df_equality(df, expected, ignore_row_order=True, ignore_nullable=True)


def test_csv_whose_header_differs_from_the_schema_fails_naming_the_file(spark: SparkSession) -> None:
    df = read_feed(spark, STORES, str(FIXTURES / "landing" / "stores_renamed"), incremental=False)
    with pytest.raises(Exception) as error:
        df.collect()
    message = describe_error(error.value)  # what the run record and the terminal show
    assert "\n" not in message
    assert "CSV header does not conform to the schema. Header: store_id, store_name Schema: store_id, name" in message
    assert "stores_renamed/2025-01-01/stores.csv" in message
