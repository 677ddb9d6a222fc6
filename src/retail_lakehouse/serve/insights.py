"""The customer-insights page's data: products sold, revenue and customers by date, gender and category.

Everything is computed from `gold/customer_category_daily` (one row per date, customer, gender and
category), the grain at which distinct customers over any date range can be counted; summing the daily
distinct counts of `gold/sales_by_gender_category` would count a customer once per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from retail_lakehouse.serve.gold import SNAPSHOT, GoldReader
from retail_lakehouse.serve.query import GENDER_LABEL, Row, Where, check_known, check_range, known_values, rows

TABLES = ("gold/customer_category_daily",)
# Loaded with the dashboard's gender labels, in date order.
SHAPES = {TABLES[0]: f"SELECT * REPLACE ({GENDER_LABEL} AS gender) FROM {SNAPSHOT} ORDER BY sale_date"}


@dataclass(frozen=True)
class InsightsFilters:
    start: dt.date | None = None
    end: dt.date | None = None
    gender: tuple[str, ...] = ()
    category: tuple[str, ...] = ()


def options(reader: GoldReader) -> dict[str, Any]:
    """What the filters may take: the date range with sales, the genders and the categories."""
    return reader.memo("insights.options", TABLES, _options)


def _options(cursor: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    first, last = cursor.execute("SELECT min(sale_date), max(sale_date) FROM customer_category_daily").fetchone() or (
        None,
        None,
    )
    return {
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
        "gender": known_values(cursor, "customer_category_daily", "gender"),
        "category": known_values(cursor, "customer_category_daily", "category"),
    }


def check(reader: GoldReader, filters: InsightsFilters) -> None:
    """Refuses a backwards range or a gender or category the data has never had (before any query runs)."""
    check_range(filters.start, filters.end)
    choices = options(reader)
    check_known("gender", filters.gender, choices["gender"])
    check_known("category", filters.category, choices["category"])


def _scoped(filters: InsightsFilters) -> tuple[str, dict[str, Any]]:
    where = (
        Where()
        .between("sale_date", filters.start, filters.end)
        .any_of("gender", "gender", filters.gender)
        .any_of("category", "category", filters.category)
    )
    return f"WITH scoped AS (SELECT * FROM customer_category_daily {where.sql()})", where.params


def cards(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters) -> dict[str, Any]:
    """Totals for the filter, and each gender's share of its distinct customers (shares add up to 100)."""
    scoped, params = _scoped(filters)
    totals = rows(
        cursor,
        f"{scoped} SELECT coalesce(sum(products_sold), 0) AS products_sold, coalesce(sum(revenue), 0) AS revenue, "
        "count(DISTINCT customer_id) AS customers FROM scoped",
        params,
    )[0]
    split = rows(
        cursor,
        f"""{scoped}, per_gender AS (
              SELECT gender, count(DISTINCT customer_id) AS customers, sum(products_sold) AS products_sold,
                     sum(revenue) AS revenue
              FROM scoped GROUP BY gender)
            SELECT gender, customers,
                   CASE WHEN sum(customers) OVER () > 0
                        THEN round(100.0 * customers / sum(customers) OVER (), 2) END AS customers_pct,
                   products_sold, revenue
            FROM per_gender ORDER BY gender""",
        params,
    )
    return {**totals, "gender_split": split}


def trend(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters) -> list[Row]:
    """Revenue and units per day and gender."""
    scoped, params = _scoped(filters)
    return rows(
        cursor,
        f"{scoped} SELECT sale_date, gender, sum(revenue) AS revenue, sum(products_sold) AS products_sold "
        "FROM scoped GROUP BY sale_date, gender ORDER BY sale_date, gender",
        params,
    )


def by_category(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters) -> list[Row]:
    """Revenue, units and distinct customers per category and gender, with each gender's share of the
    category's customers and revenue (%)."""
    scoped, params = _scoped(filters)
    return rows(
        cursor,
        f"""{scoped}, cells AS (
              SELECT category, gender, sum(revenue) AS revenue, sum(products_sold) AS products_sold,
                     count(DISTINCT customer_id) AS customers
              FROM scoped GROUP BY category, gender)
            SELECT category, gender, revenue, products_sold, customers,
                   CASE WHEN sum(customers) OVER w > 0
                        THEN round(100.0 * customers / sum(customers) OVER w, 2) END AS customers_pct,
                   CASE WHEN sum(revenue) OVER w <> 0
                        THEN round(100.0 * revenue / sum(revenue) OVER w, 2) END AS revenue_pct
            FROM cells WINDOW w AS (PARTITION BY category) ORDER BY category, gender""",
        params,
    )
