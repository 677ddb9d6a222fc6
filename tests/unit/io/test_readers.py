from __future__ import annotations

import base64
import json
from pathlib import Path

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


def test_bytes_that_are_not_utf8_are_kept_raw_and_flagged_never_replaced(spark: SparkSession, tmp_path: Path) -> None:
    day = tmp_path / "customers" / "2025-01-02"
    day.mkdir(parents=True)
    # A CRM export in Latin-1: é and á are single bytes that UTF-8 cannot decode; the second row is UTF-8.
    (day / "crm.csv").write_bytes(b"customer_id,name,city\nC1,Jos\xe9,M\xe1laga\nC2,Zo\xc3\xab,Gij\xc3\xb3n\n")
    settings = {"path": "customers", "format": "csv", "schema": "customer_id STRING, name STRING, city STRING"}
    utf8 = FeedSettings.model_validate({**settings, "options": {"header": "true"}})
    rows = {r.customer_id: r for r in read_feed(spark, utf8, str(tmp_path / "customers"), incremental=False).collect()}
    assert (rows["C2"].name, rows["C2"].city, rows["C2"]._corrupt_record) == ("Zoë", "Gijón", None)
    assert (rows["C1"].name, rows["C1"].city) == (None, None)
    prefix, kept = rows["C1"]._corrupt_record.split(": ", 1)
    assert prefix == "undecodable fields, base64"
    assert {k: base64.b64decode(v) for k, v in json.loads(kept).items()} == {
        "customer_id": b"C1", "name": b"Jos\xe9", "city": b"M\xe1laga"
    }  # fmt: skip

    latin1 = FeedSettings.model_validate({**settings, "options": {"header": "true"}, "encoding": "ISO-8859-1"})
    read = read_feed(spark, latin1, str(tmp_path / "customers"), incremental=False)
    assert sorted((r.customer_id, r.name, r._corrupt_record) for r in read.collect())[0] == ("C1", "José", None)


def test_a_json_line_that_is_not_utf8_is_kept_in_base64(spark: SparkSession, tmp_path: Path) -> None:
    day = tmp_path / "events" / "2025-01-02"
    day.mkdir(parents=True)
    (day / "events.jsonl").write_bytes(b'{"id": "E1", "note": "caf\xe9"}\n{"id": "E2", "note": "caf\xc3\xa9"}\n')
    feed = FeedSettings.model_validate({"path": "events", "format": "json", "schema": "id STRING, note STRING"})
    rows = sorted(
        read_feed(spark, feed, str(tmp_path / "events"), incremental=False).collect(), key=lambda r: str(r.id)
    )
    assert [(r.id, r.note) for r in rows] == [("E2", "café"), (None, None)]
    assert rows[0]._corrupt_record is None
    assert (
        rows[1]._corrupt_record
        == "undecodable line, base64: " + base64.b64encode(b'{"id": "E1", "note": "caf\xe9"}').decode()
    )
