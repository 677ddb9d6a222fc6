"""POS transforms: typed headers and lines, card tokens, and the per-transaction line problem counts."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Any

from chispa import assert_df_equality
from pydantic import SecretStr
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.silver.pos import PosParams, transaction_lines, transactions

BRONZE_POS = (
    "transaction_id STRING, store_id STRING, customer_id STRING, timestamp STRING, channel STRING, "
    "payment_method STRING, card_number STRING, "
    "lines ARRAY<STRUCT<line_number: STRING, product_id: STRING, quantity: STRING, unit_price: STRING, "
    "discount: STRING>>, _corrupt_record STRING, _rescued_data STRING, _source_file STRING, "
    "_ingested_at TIMESTAMP"
)
KEY = "unit-test-key"
PARAMS = PosParams(card_token_key=SecretStr(KEY), source_time_zone="Europe/Madrid")
CARD = "4111111111111111"
FILE = "file:/landing/pos_transactions/2025-01-02/pos.jsonl"
INGESTED = datetime(2025, 1, 3, 6, 0)


def bronze(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame([(*row, None, None, FILE, INGESTED) for row in rows], BRONZE_POS)


def products(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([("P1",), ("P2",)], "product_id STRING")


def sample(spark: SparkSession) -> DataFrame:
    return bronze(
        spark,
        [
            (
                " T1 ", "1", "C9", "2025-01-02 10:00:00", "store", "CARD", CARD,
                [("1", "P1", "2", "10.50", "1.00"), ("2", "P2", "1", "3.00", "0.00")],
            ),
            (
                "T2", "1", None, "2025-01-02 11:30:00", "Online", "cash", None,
                [("1", "P1", "two", "10.50", "0"), ("2", "P404", "0", "1.00", "0")],
            ),
        ],
    )  # fmt: skip


def test_transactions_are_typed_with_amounts_a_card_token_and_line_problem_counts(spark: SparkSession) -> None:
    result = transactions(sample(spark), products(spark), PARAMS).select(
        "transaction_id", "store_id", "customer_id", "transaction_ts", "sale_date", "channel", "payment_method",
        "card_token", "card_last4", "card_brand", "line_count", "total_quantity", "gross_amount",
        "discount_amount", "net_amount", "_lines_quantity_not_a_number", "_lines_quantity_not_positive",
        "_lines_product_unknown",
    )  # fmt: skip
    token = hmac.new(KEY.encode(), CARD.encode(), hashlib.sha256).hexdigest()
    expected = spark.createDataFrame(
        [
            # 10:00 in Madrid (UTC+1 in winter) is 09:00 UTC.
            ("T1", "1", "C9", datetime(2025, 1, 2, 9, 0), datetime(2025, 1, 2).date(), "Store", "card", token,
             "1111", "visa", 2, 3, Decimal("24.00"), Decimal("1.00"), Decimal("23.00"), 0, 0, 0),
            ("T2", "1", None, datetime(2025, 1, 2, 10, 30), datetime(2025, 1, 2).date(), "Online", "cash", None,
             None, None, 2, 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), 1, 1, 1),
        ],
        result.schema,
    )  # fmt: skip
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_lines_carry_their_transaction_problem_counts_so_a_bad_transaction_fails_whole(spark: SparkSession) -> None:
    result = transaction_lines(sample(spark), products(spark), PARAMS).select(
        "transaction_id", "line_number", "product_id", "quantity", "unit_price", "discount", "net_amount",
        "_lines_quantity_not_a_number", "_lines_product_unknown",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("T1", 1, "P1", 2, Decimal("10.50"), Decimal("1.00"), Decimal("20.00"), 0, 0),
            ("T1", 2, "P2", 1, Decimal("3.00"), Decimal("0.00"), Decimal("3.00"), 0, 0),
            ("T2", 1, "P1", None, Decimal("10.50"), Decimal("0.00"), None, 1, 1),
            ("T2", 2, "P404", 0, Decimal("1.00"), Decimal("0.00"), Decimal("0.00"), 1, 1),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_no_column_of_either_table_holds_the_card_number(spark: SparkSession) -> None:
    for table in (transactions, transaction_lines):
        rows = table(sample(spark), products(spark), PARAMS).drop("_raw", "_corrupt_record").collect()
        assert not [value for row in rows for value in row if isinstance(value, str) and CARD in value]
