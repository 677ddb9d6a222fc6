"""The Great Expectations expectations a suite may name, and whether each judges single rows.

Known without importing Great Expectations, so configuration is checked before anything heavy starts.
A row-level (column map) expectation names the rows it rejects; those rows go to quarantine. The others
judge the batch as a whole and can only pass or fail it.
"""

from __future__ import annotations

ROW_LEVEL_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_value_lengths_to_be_between",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
    }
)
BATCH_EXPECTATIONS = frozenset(
    {
        "expect_column_to_exist",
        "expect_column_values_to_be_of_type",
        "expect_table_row_count_to_be_between",
        "expect_column_min_to_be_between",
        "expect_column_max_to_be_between",
        "expect_column_mean_to_be_between",
        "expect_column_distinct_values_to_be_in_set",
    }
)
SUPPORTED_EXPECTATIONS = ROW_LEVEL_EXPECTATIONS | BATCH_EXPECTATIONS


def class_name(expectation: str) -> str:
    """expect_column_values_to_not_be_null -> ExpectColumnValuesToNotBeNull (the GX class)."""
    return "".join(part.capitalize() for part in expectation.split("_"))


def is_row_level(expectation: str) -> bool:
    return expectation in ROW_LEVEL_EXPECTATIONS
