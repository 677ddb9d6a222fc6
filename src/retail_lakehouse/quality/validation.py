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

from retail_lakehouse.config.models import QualityRuleSettings, QualitySuiteSettings
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
    *,
    row_count: int,
) -> SuiteOutcome:
    """Validates `df` (which has ROW_ID and `row_count` rows) against the suite; `value_sets` holds the
    allowed values of the rules that take them from another input (by rule name).

    In two passes, because listing the rows a rule rejects costs about four Spark jobs per rule and most
    rules of most batches reject none. The first asks only whether each row-level rule holds (one
    aggregate each); a rule that holds without `mostly` or `row_condition` rejected no row, so its counts
    are known: it judged `row_count` rows and rejected none. The second lists the rejected rows of the
    rules that failed, and runs the rest (batch-level rules, rules with `mostly` or `row_condition`)."""
    # Imported here: it takes seconds, and only jobs with a suite need it.
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_great_expectations()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = context.data_sources.add_spark(suite_name).add_dataframe_asset(suite_name)
    batch = batch_definition.add_batch_definition_whole_dataframe(suite_name).get_batch(
        batch_parameters={"dataframe": df}
    )

    def run(rules: Sequence[QualityRuleSettings], result_format: dict[str, Any]) -> dict[str, Any]:
        if not rules:
            return {}
        expectations = []
        for rule in rules:
            kwargs = dict(rule.kwargs)
            if rule.value_set_from is not None:
                kwargs["value_set"] = list(value_sets[rule.name])
            expectation_class = getattr(gx.expectations, class_name(rule.expectation))
            expectations.append(expectation_class(**kwargs, meta={"rule": rule.name}))
        gx_suite = gx.ExpectationSuite(name=f"{suite_name}-{uuid.uuid4().hex[:8]}", expectations=expectations)
        outcomes = {}
        for outcome in batch.validate(context.suites.add(gx_suite), result_format=result_format).results:
            assert outcome.expectation_config is not None  # GX sets it on every result of a suite
            rule_name = (outcome.expectation_config.meta or {})["rule"]
            if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                rule = next(r for r in rules if r.name == rule_name)
                raise QualityRuleError(
                    f"quality rule {suite_name}.{rule.name} ({rule.expectation}) could not run: "
                    f"{outcome.exception_info.get('exception_message')}"
                )
            outcomes[rule_name] = outcome
        return outcomes

    settleable = [rule for rule in suite.rules if _holding_means_no_row_rejected(rule)]
    held = {name for name, outcome in run(settleable, {"result_format": "BOOLEAN_ONLY"}).items() if outcome.success}
    detailed = run(
        [rule for rule in suite.rules if rule.name not in held],
        {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )
    results: list[RuleResult] = []
    failures: dict[int, list[str]] = {}
    for rule in suite.rules:
        row_level = is_row_level(rule.expectation)
        detail: dict[str, Any]
        if rule.name in held:
            success, detail = True, {"element_count": row_count}  # it judged every row and rejected none
        else:
            success, detail = bool(detailed[rule.name].success), detailed[rule.name].result or {}
        results.append(
            RuleResult(
                rule=rule.name,
                expectation=rule.expectation,
                severity=suite.severity_of(rule),
                row_level=row_level,
                success=success,
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


def _holding_means_no_row_rejected(rule: QualityRuleSettings) -> bool:
    """A row-level rule that holds only when it rejects no row (no `mostly` below 1) and judges every row
    of the batch (no `row_condition` narrowing them)."""
    mostly = rule.kwargs.get("mostly", 1)
    whole = isinstance(mostly, (int, float)) and mostly >= 1
    return is_row_level(rule.expectation) and whole and "row_condition" not in rule.kwargs


def _quiet_great_expectations() -> None:
    # GX logs every metric it computes at INFO; the runner reports the results itself.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def with_row_ids(df: DataFrame) -> DataFrame:
    """`df` with a unique ROW_ID, materialised so the ids stay the same across the validation's jobs."""
    return df.withColumn(ROW_ID, F.monotonically_increasing_id()).localCheckpoint(eager=True)
