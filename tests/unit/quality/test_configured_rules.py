"""Every row-level rule of the configured suites (conf/base/quality.yaml), run by the real Great Expectations
engine on its silver job's real transform: a bronze row built to break that rule is quarantined naming it,
and a valid row of the same batch goes on.

Each bad row carries the name of the rule it breaks in a column no rule looks at (the marker), so its
quarantine record says which case it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.config.loader import transform_params
from retail_lakehouse.core.contracts import TransformContext
from retail_lakehouse.quality.quarantine import flag_failed_rows, split_flagged
from retail_lakehouse.quality.validation import validate, with_row_ids
from tests.conftest import REPO_ROOT
from tests.unit.silver.bronze import text_columns

PARSES = "record_parses"
FILE = "file:/landing/feed/2025-01-02/feed.txt"  # delivered by 2025-01-03 00:00: later times are in the future
INGESTED = datetime(2025, 1, 3, 6, 0)
LINE = "STRUCT<line_number: STRING, product_id: STRING, quantity: STRING, unit_price: STRING, discount: STRING>"
GOOD_LINE = ("1", "P1", "2", "10.00", "1.00")


@dataclass(frozen=True)
class Case:
    job: str
    schema: str  # the feed's columns, Spark DDL
    valid: dict[str, Any]
    marker: str  # a column no rule of the suite looks at
    breaking: dict[str, dict[str, Any]]  # rule -> the fields that break it
    inputs: dict[str, list[str]] = field(default_factory=dict)  # other inputs: alias -> its key values
    # rule -> every rule its row breaks, where it cannot break alone (a required value that does not parse)
    together: dict[str, list[str]] = field(default_factory=dict)


CASES = [
    Case(
        "silver_stores",
        text_columns(
            "store_id", "name", "region", "format", "square_feet", "city", "opened_date", "country", "subdivision"
        ),
        {"store_id": "1", "name": "x", "region": "North", "format": "Mall", "square_feet": "900", "city": "Bilbao",
         "opened_date": "2020-01-01", "country": "ES", "subdivision": "PV"},
        "name",
        {"store_id_present": {"store_id": None}, "square_feet_not_negative": {"square_feet": "-5"},
         "values_parse": {"opened_date": "01/01/2020"}},
    ),
    Case(
        "silver_suppliers",
        text_columns("supplier_id", "name", "country", "lead_time_days"),
        {"supplier_id": "7", "name": "x", "country": "ES", "lead_time_days": "12"},
        "name",
        {"supplier_id_present": {"supplier_id": None}, "lead_time_not_negative": {"lead_time_days": "-1"},
         "values_parse": {"lead_time_days": "12 days"}},
    ),
    Case(
        "silver_categories",
        text_columns("category_id", "name", "parent_id", "level"),
        {"category_id": "1", "name": "x", "parent_id": None, "level": "department"},
        "name",
        {"category_id_present": {"category_id": None}, "parent_exists": {"category_id": "20", "parent_id": "99"}},
    ),
    Case(
        "silver_products",
        text_columns("product_id", "sku", "name", "category_id", "cost", "list_price", "supplier_id", "updated_at"),
        {"product_id": "P1", "sku": "SKU-1", "name": "x", "category_id": "10", "cost": "4.00", "list_price": "9.99",
         "supplier_id": "7", "updated_at": "2025-01-01 07:00:00"},
        "name",
        {
            "product_id_present": {"product_id": None},
            "updated_at_present": {"updated_at": None},
            "list_price_positive": {"list_price": "0"},
            "cost_not_negative": {"cost": "-1"},
            "values_parse": {"cost": "4.00001"},  # five decimals where the column keeps four
        },
    ),
    Case(
        "silver_customers",
        text_columns("customer_id", "first_name", "last_name", "email", "phone", "gender", "birth_date",
             "registration_date", "segment", "city", "updated_at"),
        {"customer_id": "C1", "first_name": "Ann", "last_name": "Lee", "email": "a@b.c", "phone": "600123456",
         "gender": "F", "birth_date": "1990-01-01", "registration_date": "2024-01-01", "segment": "Consumer",
         "city": "x", "updated_at": "2025-01-02 12:00:00"},
        "city",
        {
            "customer_id_present": {"customer_id": None},
            "updated_at_present": {"updated_at": None},
            "gender_known": {"gender": "Z"},
            "updated_at_not_in_future": {"updated_at": "2025-02-01 12:00:00"},
            "values_parse": {"birth_date": "01.01.1990"},  # none of the configured formats
        },
    ),
    Case(
        "silver_transactions",
        f"{text_columns('transaction_id', 'store_id', 'customer_id', 'timestamp', 'channel', 'payment_method')}, "
        f"card_number STRING, lines ARRAY<{LINE}>",
        {"transaction_id": "T1", "store_id": "1", "customer_id": "x", "timestamp": "2025-01-02 10:00:00",
         "channel": "Store", "payment_method": "cash", "card_number": None, "lines": [GOOD_LINE]},
        "customer_id",
        {
            "transaction_id_present": {"transaction_id": None},
            "store_id_present": {"store_id": None},
            "store_exists": {"store_id": "404"},
            "timestamp_present": {"timestamp": None},
            "timestamp_not_in_future": {"timestamp": "2025-01-05 10:00:00"},
            "channel_known": {"channel": "Fax"},
            "has_lines": {"lines": []},
            "quantity_is_a_number": {"lines": [("1", "P1", "two", "10.00", "0")]},
            "quantity_positive": {"lines": [("1", "P1", "0", "10.00", "0")]},
            "price_positive": {"lines": [("1", "P1", "1", "0", "0")]},
            "discount_not_above_amount": {"lines": [("1", "P1", "1", "10.00", "10.01")]},
            "product_exists": {"lines": [GOOD_LINE, ("2", "P404", "1", "10.00", "0")]},
            "amounts_parse": {"lines": [("1", "P1", "1", "ten", "0")]},
            "values_parse": {"timestamp": "2025-01-02T10:00"},
        },
        inputs={"products": ["P1"], "stores": ["1"]},
        together={"values_parse": ["timestamp_present", "values_parse"]},
    ),
    Case(
        "silver_loyalty_events",
        text_columns("event_id", "customer_id", "event_ts", "event_type", "points", "transaction_id"),
        {"event_id": "L1", "customer_id": "C1", "event_ts": "2025-01-02 10:00:00", "event_type": "earn",
         "points": "10", "transaction_id": "x"},
        "transaction_id",
        {
            "event_id_present": {"event_id": None},
            "event_type_known": {"event_type": "gift"},
            "points_positive": {"points": "0"},
            "timestamp_not_in_future": {"event_ts": "2025-01-04 10:00:00"},
            "values_parse": {"points": "10.5"},
        },
    ),
    Case(
        "silver_competitor_prices",
        text_columns("product_id", "competitor", "price", "observed_date"),
        {"product_id": "P1", "competitor": "x", "price": "9.50", "observed_date": "2025-01-02"},
        "competitor",
        {
            "product_id_present": {"product_id": None},
            "price_positive": {"price": "0"},
            "observed_date_present": {"observed_date": None},
            "values_parse": {"price": "9.50001"},
        },
    ),
    Case(
        "silver_inventory_changes",
        f"{text_columns('trans_id', 'store_id', 'date_time', 'change_type_id')}, "
        "items ARRAY<STRUCT<item_id: STRING, quantity: STRING>>",
        {"trans_id": "R1", "store_id": "x", "date_time": "2025-01-02 06:00:00", "change_type_id": "3",
         "items": [("100001", "5")]},
        "store_id",
        {
            "trans_id_present": {"trans_id": None},
            "item_id_present": {"items": [(None, "5")]},
            "quantity_is_a_number": {"items": [("100001", None)]},
            "change_type_known": {"change_type_id": "9"},
            "timestamp_not_in_future": {"date_time": "2025-01-04 06:00:00"},
            "values_parse": {"change_type_id": "3.5"},
        },
    ),
    Case(
        "silver_inventory_snapshots",
        text_columns("item_id", "employee_id", "store_id", "date_time", "quantity"),
        {"item_id": "100001", "employee_id": "x", "store_id": "1", "date_time": "2025-01-02 22:00:00",
         "quantity": "7"},
        "employee_id",
        {
            "item_id_present": {"item_id": None},
            "store_id_present": {"store_id": None},
            "snapshot_ts_present": {"date_time": None},
            "quantity_not_negative": {"quantity": "-1"},
            "values_parse": {"quantity": "7 units"},
        },
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded() -> LoadedConfig:
    return load_config(
        transforms=catalogue(),
        conf_dir=REPO_ROOT / "conf",
        environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "rules-test-key"},
    )


def bronze(spark: SparkSession, case: Case) -> DataFrame:
    """The valid row, one row per rule, and a record that did not parse."""
    columns = spark.createDataFrame([], case.schema).columns
    rows = [(*case.valid.values(), None)]
    for rule, fields in case.breaking.items():
        row = {**case.valid, **fields, case.marker: rule}
        rows.append((*[row[c] for c in columns], None))
    rows.append((*[None] * len(columns), PARSES))
    frame = spark.createDataFrame(rows, f"{case.schema}, _corrupt_record STRING")
    return frame.selectExpr("*", f"'{FILE}' AS _source", f"TIMESTAMP'{INGESTED}' AS _ingested_at")


@pytest.mark.parametrize("case", CASES, ids=[case.job for case in CASES])
def test_each_rule_quarantines_the_row_that_breaks_it(spark: SparkSession, loaded: LoadedConfig, case: Case) -> None:
    config = loaded.config
    job = config.jobs[case.job]
    suite_name = str(job.quality)
    suite = config.quality[suite_name]
    assert {rule.name for rule in suite.rules} == {PARSES, *case.breaking}, "every rule of the suite has a case"

    inputs = {"source": bronze(spark, case)}
    for alias, keys in case.inputs.items():
        column = {"products": "product_id", "stores": "store_id"}[alias]
        inputs[alias] = spark.createDataFrame([(key,) for key in keys], f"{column} STRING")
    context = TransformContext("run-1", INGESTED, transform_params(loaded, case.job))
    rows = loaded.transforms[job.transform].apply(inputs, context)
    value_sets = {
        rule.name: case.inputs[rule.value_set_from.split(".")[0]] for rule in suite.rules if rule.value_set_from
    }
    validated = with_row_ids(rows)
    outcome = validate(spark, validated, suite_name, suite, value_sets, row_count=validated.count())
    split = split_flagged(
        flag_failed_rows(validated, outcome.failed_rows), run_id="run-1", job=case.job,
        key_columns=job.write.keys, quarantined_at=INGESTED,
    )  # fmt: skip

    quarantined: dict[str, list[str]] = {}
    for row in split.quarantine.collect():
        marker = PARSES if row.record == PARSES else json.loads(row.record)[case.marker]
        quarantined[marker] = row.rules
    broken_alone = {rule: quarantined.get(rule) for rule in case.breaking}
    assert broken_alone == {rule: case.together.get(rule, [rule]) for rule in case.breaking}
    assert PARSES in quarantined[PARSES]
    assert set(quarantined) == {PARSES, *case.breaking}  # the valid row is not among them
    assert split.valid.count() == 1
