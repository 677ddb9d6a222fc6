"""Master data transforms on hand-built bronze rows: exact typed rows, PII protected, paths flattened."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.silver.dimensions import (
    CategoryParams,
    categories,
    customers,
    products,
    stores,
    suppliers,
)
from retail_lakehouse.silver.standardize import SourceFormats
from tests.unit.silver.bronze import INGESTED, bronze_rows, text_columns

MADRID = SourceFormats(source_time_zone="Europe/Madrid")


def typed(result: DataFrame, columns: list[str]) -> DataFrame:
    return result.select(*columns)


def test_customers_hash_and_mask_pii_and_leave_names_out(spark: SparkSession) -> None:
    schema = text_columns(
        "customer_id", "first_name", "last_name", "email", "phone", "gender", "birth_date", "registration_date",
        "segment", "city", "updated_at",
    )  # fmt: skip
    source = bronze_rows(
        spark,
        schema,
        [
            (" C1 ", "Ann", "Lee", " Ann.Lee@Example.com ", "+34 (600) 123-456", "f", "1990-02-14", "2024-05-01",
             "loyal ", " Madrid", "2025-01-02 10:00:00"),
            ("C2", "Bo", "Ng", "", "12", "x", "1990-02-30", "someday", "NEW", "", "2025-07-01 10:00:00"),
        ],
    )  # fmt: skip
    result = customers(source, MADRID)
    assert not {"first_name", "last_name", "email", "phone"} & set(result.columns)
    columns = [
        "customer_id", "gender", "birth_date", "registration_date", "segment", "city", "email_sha256",
        "email_masked", "phone_masked", "valid_from",
    ]  # fmt: skip
    email_hash = hashlib.sha256(b"ann.lee@example.com").hexdigest()
    expected = spark.createDataFrame(
        [
            # 10:00 in Madrid is 09:00 UTC in winter and 08:00 UTC in summer
            ("C1", "F", date(1990, 2, 14), date(2024, 5, 1), "Loyal", "Madrid", email_hash, "a***@example.com",
             "***3456", datetime(2025, 1, 2, 9, 0)),
            # an unknown gender stays as given (a rule rejects it); dates that do not parse become null
            ("C2", "X", None, None, "New", None, None, None, None, datetime(2025, 7, 1, 8, 0)),
        ],
        typed(result, columns).schema,
    )  # fmt: skip
    assert_df_equality(typed(result, columns), expected, ignore_row_order=True, ignore_nullable=True)


def test_products_keep_money_at_the_source_precision_and_name_what_did_not_parse(spark: SparkSession) -> None:
    schema = text_columns("product_id", "sku", "name", "category_id", "cost", "list_price", "supplier_id", "updated_at")
    source = bronze_rows(
        spark,
        schema,
        [
            ("100001", " sku-100001 ", " Road Bike  ", "12", "412.5", "899.99", "3", "2025-01-01 00:00:00"),
            ("100002", "SKU-100002", "Bell", "40", "cheap", "9.991", "3", "2025-01-01 00:00:00"),
            # Five decimals in a column that keeps four: not rounded, named; a date in no accepted format.
            ("100003", "SKU-100003", "Lamp", "40", "1.23456", "33.6442", "3", "01/01/2025 00:00"),
        ],
    )
    columns = ["product_id", "sku", "cost", "list_price", "valid_from", "_unparsed_fields"]
    result = typed(products(source, SourceFormats()), columns)
    expected = spark.createDataFrame(
        [
            ("100001", "SKU-100001", Decimal("412.5"), Decimal("899.99"), datetime(2025, 1, 1), None),
            ("100002", "SKU-100002", None, Decimal("9.991"), datetime(2025, 1, 1), ["cost"]),
            ("100003", "SKU-100003", None, Decimal("33.6442"), None, ["cost", "valid_from"]),
        ],
        result.schema,
    )  # fmt: skip
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)

    # A declared scale and another timestamp format; with unparsed_values: flag the row is kept and says so.
    formats = SourceFormats(
        decimal_scales={"cost": 5},
        timestamp_formats={"valid_from": ["yyyy-MM-dd HH:mm:ss", "MM/dd/yyyy HH:mm"]},
        unparsed_values="flag",
    )
    flagged = typed(
        products(source, formats), ["product_id", "cost", "valid_from", "unparsed_fields", "_unparsed_fields"]
    )
    assert sorted(tuple(r) for r in flagged.collect()) == [
        ("100001", Decimal("412.50000"), datetime(2025, 1, 1), None, None),
        ("100002", None, datetime(2025, 1, 1), ["cost"], None),
        ("100003", Decimal("1.23456"), datetime(2025, 1, 1), None, None),
    ]


def test_stores_know_the_online_store_and_suppliers_have_upper_case_countries(spark: SparkSession) -> None:
    store_schema = text_columns(
        "store_id", "name", "region", "format", "square_feet", "city", "opened_date", "country", "subdivision"
    )
    source = bronze_rows(
        spark,
        store_schema,
        [
            ("0", "Online", "", "online", "0", "", "2020-01-01", "", ""),
            ("1", "Store 001", "North", "Mall", "12000", "Bilbao", "2019-03-04", "es", "pv"),
            ("2", "Store 002", "South", None, "12,000", "Sevilla", "2019-13-01", "ES", None),
        ],
    )
    columns = [
        "store_id",
        "name",
        "region",
        "format",
        "square_feet",
        "city",
        "opened_date",
        "country",
        "subdivision",
        "is_online",
    ]
    result = typed(stores(source, SourceFormats()), columns)
    expected = spark.createDataFrame(
        [
            ("0", "Online", None, "online", 0, None, date(2020, 1, 1), None, None, True),
            ("1", "Store 001", "North", "Mall", 12000, "Bilbao", date(2019, 3, 4), "ES", "PV", False),
            ("2", "Store 002", "South", None, None, "Sevilla", None, "ES", None, False),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)

    source = bronze_rows(spark, text_columns("supplier_id", "name", "country", "lead_time_days"), [
        ("7", "Supplier 0007", " es", "12"), ("8", "Supplier 0008", "DE", "two weeks"),
    ])  # fmt: skip
    result = typed(suppliers(source, SourceFormats()), ["supplier_id", "name", "country", "lead_time_days"])
    expected = spark.createDataFrame(
        [("7", "Supplier 0007", "ES", 12), ("8", "Supplier 0008", "DE", None)], result.schema
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_categories_get_department_depth_and_path_from_the_latest_names(spark: SparkSession) -> None:
    schema = text_columns("category_id", "name", "parent_id", "level")
    first = bronze_rows(
        spark,
        schema,
        [
            ("1", "Bikes", None, "department"),
            ("10", "Road", "1", "category"),
            ("100", "Racing", "10", "Subcategory"),
            ("200", "Orphan", "99", "subcategory"),  # its parent never arrives
        ],
        file="file:/landing/categories/2025-01-01/categories.csv",
    )
    renamed = bronze_rows(
        spark,
        schema,
        [("1", "Bicycles", None, "department")],
        file="file:/landing/categories/2025-01-02/categories.csv",
        ingested=INGESTED.replace(day=4),
    )
    columns = ["category_id", "name", "parent_id", "level", "department", "path", "depth", "_path_complete"]
    result = typed(categories(first.unionByName(renamed), CategoryParams()), columns)
    expected = spark.createDataFrame(
        [
            # the later delivery renames the department; its descendants' paths follow
            ("1", "Bicycles", None, "department", "Bicycles", "Bicycles", 1, True),
            ("10", "Road", "1", "category", "Bicycles", "Bicycles > Road", 2, True),
            ("100", "Racing", "10", "subcategory", "Bicycles", "Bicycles > Road > Racing", 3, True),
            ("200", "Orphan", "99", "subcategory", "Orphan", "Orphan", 1, False),
        ],
        result.schema,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)

    # A chain deeper than max_depth is left open too.
    shallow = typed(categories(first, CategoryParams(max_depth=2)), ["category_id", "path", "_path_complete"])
    assert sorted(tuple(r) for r in shallow.collect()) == [
        ("1", "Bikes", True),
        ("10", "Bikes > Road", True),
        ("100", "Road > Racing", False),
        ("200", "Orphan", False),
    ]
