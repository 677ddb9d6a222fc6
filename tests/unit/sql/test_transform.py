"""The SQL transform as a function: inputs as views, typed named parameters, Spark's message for a query
that does not parse or analyse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pydantic import ValidationError
from pyspark.sql import SparkSession

from retail_lakehouse.sql.transform import SqlParams, SqlQueryError, sql


def params(query: str, **parameters: dict[str, object]) -> SqlParams:
    return SqlParams.model_validate({"query": query, "parameters": parameters})


def test_inputs_are_views_and_parameters_are_bound_by_name(spark: SparkSession) -> None:
    orders = spark.createDataFrame(
        [
            ("o1", "c1", dt.date(2025, 1, 1), Decimal("10.50")),
            ("o2", "c2", dt.date(2025, 1, 3), Decimal("99.99")),
            ("o3", "c1", dt.date(2025, 1, 4), Decimal("5.00")),
        ],
        "order_id string, customer_id string, order_date date, amount decimal(10,2)",
    )
    customers = spark.createDataFrame([("c1", "F"), ("c2", "M")], "customer_id string, gender string")
    query = """
        SELECT c.gender, count(*) AS orders, sum(o.amount) AS revenue
        FROM orders o JOIN customers c USING (customer_id)
        WHERE o.order_date >= :since AND o.amount >= :at_least AND c.gender <> :excluded
        GROUP BY c.gender"""
    found = sql(
        {"orders": orders, "customers": customers},
        params(
            query,
            since={"type": "date", "value": "2025-01-02"},
            at_least={"type": "decimal", "value": "5.00"},
            excluded={"type": "string", "value": "X"},
        ),
    )
    expected = spark.createDataFrame(
        [("F", 1, Decimal("5.00")), ("M", 1, Decimal("99.99"))], "gender string, orders long, revenue decimal(20,2)"
    )
    assert_df_equality(found.drop("_raw"), expected, ignore_row_order=True, ignore_nullable=True)
    # The helper a quarantine keeps of a rejected row: the row as JSON (dropped before a table is written).
    assert sorted(row._raw for row in found.collect()) == [
        '{"gender":"F","orders":1,"revenue":5.00}',
        '{"gender":"M","orders":1,"revenue":99.99}',
    ]


def test_pii_columns_are_masked_in_the_quarantine_record(spark: SparkSession) -> None:
    people = spark.createDataFrame([("c1", "ann@example.com")], "customer_id string, email string")
    found = sql({"people": people}, SqlParams.model_validate({"query": "SELECT * FROM people", "pii": ["email"]}))
    (row,) = found.collect()
    assert row.email == "ann@example.com"  # the query's own column is the query's business
    assert "ann@example.com" not in row._raw


def test_a_parameter_is_a_value_never_sql_text(spark: SparkSession) -> None:
    names = spark.createDataFrame([("a",), ("b' OR '1'='1",)], "name string")
    found = sql(
        {"names": names},
        params("SELECT name FROM names WHERE name = :wanted", wanted={"type": "string", "value": "b' OR '1'='1"}),
    )
    assert [row.name for row in found.collect()] == ["b' OR '1'='1"]


def test_a_query_that_does_not_analyse_names_its_source_and_sparks_message(spark: SparkSession) -> None:
    orders = spark.createDataFrame([("o1",)], "order_id string")
    bad = SqlParams.model_validate({"query": "SELECT order_total FROM orders", "query_file": "kpis.sql"})
    with pytest.raises(SqlQueryError, match=r"the query in kpis\.sql does not analyse: .*order_total"):
        sql({"orders": orders}, bad)
    with pytest.raises(
        SqlQueryError, match=r"the query in the inline query does not analyse: .*(PARSE_SYNTAX_ERROR|syntax)"
    ):
        sql({"orders": orders}, params("SELEC order_id FROM orders"))


@pytest.mark.parametrize(
    ("parameter", "says"),
    [
        ({"type": "date", "value": "2025-13-01"}, "is not a date"),
        ({"type": "int", "value": 1.5}, "is not a int"),
        ({"type": "boolean", "value": "yes"}, "expected true or false"),
        ({"type": "money", "value": 1}, "Input should be 'string', 'int'"),
    ],
)
def test_a_parameter_value_must_have_its_type(parameter: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        SqlParams.model_validate({"query": "SELECT 1", "parameters": {"p": parameter}})


def test_a_query_is_required() -> None:
    with pytest.raises(ValidationError, match="give the query: query"):
        SqlParams.model_validate({"parameters": {}})
