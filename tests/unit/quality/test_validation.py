"""The Great Expectations engine judges rows; quarantine rows name every rule broken, cards masked."""

from __future__ import annotations

from datetime import datetime

import great_expectations as gx
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.config.models import QualitySuiteSettings
from retail_lakehouse.core.expectations import class_name
from retail_lakehouse.quality.quarantine import flag_failed_rows, split_flagged
from retail_lakehouse.quality.validation import FAILED_RULES, ROW_ID, SuiteOutcome, validate, with_row_ids

SUITE = QualitySuiteSettings.model_validate(
    {
        "rules": [
            {"name": "id_present", "expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
            {
                "name": "quantity_positive",
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"column": "quantity", "min_value": 1},
            },
            {
                "name": "store_exists",
                "expectation": "expect_column_values_to_be_in_set",
                "value_set_from": "stores.store_id",
                "kwargs": {"column": "store_id"},
            },
            {
                "name": "discount_not_above_price",
                "expectation": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": "price", "column_B": "discount", "or_equal": True},
            },
            {
                "name": "enough_rows",
                "expectation": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 1},
                "severity": "critical",
            },
        ]
    }
)
SCHEMA = "id STRING, quantity INT, store_id STRING, price DOUBLE, discount DOUBLE, _raw STRING, _source STRING"


def test_each_rejected_row_names_every_rule_it_broke_and_counts_match(spark: SparkSession) -> None:
    rows = [
        ("1", 2, "S1", 5.0, 1.0, '{"id":"1"}', "f"),
        ("2", 0, "S1", 5.0, 1.0, '{"id":"2"}', "f"),
        (None, -1, "S9", 5.0, 6.0, '{"card":"4111111111111111","id":"T20250102000001"}', "f"),
        ("4", 3, "S2", 2.0, 2.0, '{"id":"4"}', "f"),
    ]
    validated = with_row_ids(spark.createDataFrame(rows, SCHEMA))
    outcome = validate(spark, validated, "sales", SUITE, {"store_exists": ["S1", "S2"]}, row_count=len(rows))

    assert counts_of(outcome) == one_pass_counts(validated, SUITE, {"store_exists": ["S1", "S2"]})
    counts = {r.rule: (r.success, r.element_count, r.unexpected_count) for r in outcome.results}
    assert counts == {
        "id_present": (False, 4, 1),
        "quantity_positive": (False, 4, 2),
        "store_exists": (False, 4, 1),
        "discount_not_above_price": (False, 4, 1),
        "enough_rows": (True, 0, 0),
    }
    assert outcome.failed_critical() == []
    assert outcome.failed_row_count == 2  # rows "2" and the one without an id; row 3 broke four rules
    flagged = flag_failed_rows(validated, outcome.failed_rows)
    split = split_flagged(flagged, run_id="r1", job="j", key_columns=["id"], quarantined_at=datetime(2025, 1, 1))
    assert sorted(r.id for r in split.valid.collect()) == ["1", "4"]
    quarantine = {r.record_key: (r.rules, r.record) for r in split.quarantine.collect()}
    assert quarantine == {
        '{"id":"2"}': (["quantity_positive"], '{"id":"2"}'),
        "{}": (
            ["discount_not_above_price", "id_present", "quantity_positive", "store_exists"],
            '{"card":"************1111","id":"T20250102000001"}',
        ),
    }


def test_rows_that_break_no_row_level_rule_leave_no_failed_rows(spark: SparkSession) -> None:
    rows = [("1", 2, "S1", 5.0, 1.0, '{"id":"1"}', "f"), ("2", 1, "S2", 3.0, 0.0, '{"id":"2"}', "f")]
    validated = with_row_ids(spark.createDataFrame(rows, SCHEMA))
    outcome = validate(spark, validated, "sales", SUITE, {"store_exists": ["S1", "S2"]}, row_count=len(rows))

    assert all(r.success for r in outcome.results)
    assert outcome.failed_row_count == 0
    assert outcome.failed_rows.collect() == []
    # The rules that held were settled by the first pass alone, with the counts GX's full report gives.
    assert counts_of(outcome) == one_pass_counts(validated, SUITE, {"store_exists": ["S1", "S2"]})
    assert counts_of(outcome)["id_present"] == (True, 2, 0, 0.0)


def test_a_rule_that_holds_by_mostly_still_names_the_rows_it_rejected(spark: SparkSession) -> None:
    suite = QualitySuiteSettings.model_validate(
        {
            "rules": [
                {
                    "name": "id_present",
                    "expectation": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "id"},
                },
                {
                    "name": "mostly_positive",
                    "expectation": "expect_column_values_to_be_between",
                    "kwargs": {"column": "quantity", "min_value": 1, "mostly": 0.5},
                },
            ]
        }
    )
    rows = [
        ("1", 2, "S1", 5.0, 1.0, "{}", "f"),
        ("2", 0, "S1", 5.0, 1.0, "{}", "f"),
        ("3", 4, "S1", 5.0, 1.0, "{}", "f"),
    ]
    validated = with_row_ids(spark.createDataFrame(rows, SCHEMA))
    outcome = validate(spark, validated, "sales", suite, {}, row_count=len(rows))

    assert counts_of(outcome) == {
        "id_present": (True, 3, 0, 0.0),
        "mostly_positive": (True, 3, 1, 1 / 3 * 100),
    }  # GX: share x 100
    assert counts_of(outcome) == one_pass_counts(validated, suite, {})
    assert outcome.failed_row_count == 1
    rejected = validated.join(outcome.failed_rows, ROW_ID).select("id", FAILED_RULES).collect()
    assert [tuple(r) for r in rejected] == [("2", ["mostly_positive"])]


def counts_of(outcome: SuiteOutcome) -> dict[str, tuple[bool, int, int, float]]:
    return {r.rule: (r.success, r.element_count, r.unexpected_count, r.unexpected_percent) for r in outcome.results}


def one_pass_counts(
    df: DataFrame, suite: QualitySuiteSettings, value_sets: dict[str, list[str]]
) -> dict[str, tuple[bool, int, int, float]]:
    """Every rule of the suite run by GX in one pass with its full report: the independent reference."""
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_spark("reference")
        .add_dataframe_asset("reference")
        .add_batch_definition_whole_dataframe("reference")
        .get_batch(batch_parameters={"dataframe": df})
    )
    expectations = [
        getattr(gx.expectations, class_name(rule.expectation))(
            **rule.kwargs,
            **({"value_set": value_sets[rule.name]} if rule.value_set_from else {}),
            meta={"rule": rule.name},
        )
        for rule in suite.rules
    ]
    gx_suite = context.suites.add(gx.ExpectationSuite(name="reference", expectations=expectations))
    counts = {}
    for result in batch.validate(gx_suite, result_format={"result_format": "COMPLETE"}).results:
        assert result.expectation_config is not None
        detail = result.result or {}
        counts[result.expectation_config.meta["rule"]] = (
            bool(result.success),
            int(detail.get("element_count") or 0),
            int(detail.get("unexpected_count") or 0),
            float(detail.get("unexpected_percent") or 0.0),
        )
    return counts
