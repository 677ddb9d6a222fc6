"""Runs a configured suite with the Great Expectations engine over a DataFrame and says, per rule,
whether it passed and which rows it rejected."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

from retail_lakehouse.config.models import QualitySuiteSettings
from retail_lakehouse.core.errors import QualityRuleError
from retail_lakehouse.core.expectations import class_name, is_row_level

# Every row validated carries a unique id in this column, so the rows an expectation rejects can be found.
ROW_ID = "_row_id"
FAILED_RULES = "_failed_rules"
FAILED_ROWS_SCHEMA = StructType(
    [StructField(ROW_ID, LongType(), False), StructField(FAILED_RULES, ArrayType(StringType(), False), False)]
)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    expectation: str
    severity: str
    row_level: bool
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float


@dataclass(frozen=True)
class SuiteOutcome:
    results: list[RuleResult]
    failed_rows: DataFrame  # ROW_ID, FAILED_RULES (sorted names of every row-level rule the row broke)
    failed_row_count: int  # rows of failed_rows: distinct rows some row-level rule rejected

    def failed_critical(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and r.severity == "critical"]


def validate(
    spark: SparkSession,
    df: DataFrame,
    suite_name: str,
    suite: QualitySuiteSettings,
    value_sets: Mapping[str, Sequence[Any]],
) -> SuiteOutcome:
    """Validates `df` (which has ROW_ID) against the suite; `value_sets` holds the allowed values of the
    rules that take them from another input (by rule name)."""
    # Imported here: it takes seconds, and only jobs with a suite need it.
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_great_expectations()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    name = f"{suite_name}-{uuid.uuid4().hex[:8]}"
    batch_definition = (
        context.data_sources.add_spark(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    )
    expectations = []
    for rule in suite.rules:
        kwargs = dict(rule.kwargs)
        if rule.value_set_from is not None:
            kwargs["value_set"] = list(value_sets[rule.name])
        expectation_class = getattr(gx.expectations, class_name(rule.expectation))
        expectations.append(expectation_class(**kwargs, meta={"rule": rule.name}))
    gx_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
    validation = batch.validate(
        gx_suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )
    rules = {rule.name: rule for rule in suite.rules}
    results: list[RuleResult] = []
    failures: dict[int, list[str]] = {}
    for outcome in validation.results:
        assert outcome.expectation_config is not None  # GX sets it on every result of a suite
        rule = rules[(outcome.expectation_config.meta or {})["rule"]]
        detail = outcome.result or {}
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise QualityRuleError(
                f"quality rule {suite_name}.{rule.name} ({rule.expectation}) could not run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        row_level = is_row_level(rule.expectation)
        results.append(
            RuleResult(
                rule=rule.name,
                expectation=rule.expectation,
                severity=suite.severity_of(rule),
                row_level=row_level,
                success=bool(outcome.success),
                element_count=int(detail.get("element_count") or 0),
                unexpected_count=int(detail.get("unexpected_count") or 0),
                unexpected_percent=float(detail.get("unexpected_percent") or 0.0),
            )
        )
        if row_level:
            for index in detail.get("unexpected_index_list") or []:
                failures.setdefault(int(index[ROW_ID]), []).append(rule.name)
    failed_rows = spark.createDataFrame(
        [(row_id, sorted(names)) for row_id, names in failures.items()], FAILED_ROWS_SCHEMA
    )
    return SuiteOutcome(results=results, failed_rows=failed_rows, failed_row_count=len(failures))


def _quiet_great_expectations() -> None:
    # GX logs every metric it computes at INFO; the runner reports the results itself.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def with_row_ids(df: DataFrame) -> DataFrame:
    """`df` with a unique ROW_ID, materialised so the ids stay the same across the validation's jobs."""
    return df.withColumn(ROW_ID, F.monotonically_increasing_id()).localCheckpoint(eager=True)
