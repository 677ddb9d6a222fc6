"""The customer-insights page's data: products sold, revenue and customers by date, gender and category.

Everything comes from `gold/customer_category_daily` (one row per date, customer, gender and category), the
grain at which distinct customers over any date range can be counted; summing the daily distinct counts of
`gold/sales_by_gender_category` would count a customer once per day. Two tables are derived from it when it
loads: sums per date, gender and category (small: every sum reads it), and one integer key per customer
and day, gender and category. Distinct customers are counted from a bitmap of customer keys per date,
gender and category (an OR of the bitmaps in the filter, then its bits: exact, and a few times faster
than counting distinct keys), when the bitmaps fit the memory budget; else from the keys."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from retail_lakehouse.serve.gold import SNAPSHOT, Derived, GoldReader
from retail_lakehouse.serve.query import GENDER_LABEL, Row, Where, check_known, check_range, known_values, rows

TABLES = ("gold/customer_category_daily",)
# Loaded with the dashboard's gender labels, in date order.
SHAPES = {TABLES[0]: f"SELECT * REPLACE ({GENDER_LABEL} AS gender) FROM {SNAPSHOT} ORDER BY sale_date"}
DERIVED = (
    Derived(
        "insights_daily",
        ("customer_category_daily",),
        "SELECT sale_date, gender, category, sum(products_sold) AS products_sold, sum(revenue) AS revenue "
        "FROM customer_category_daily GROUP BY ALL ORDER BY sale_date",
    ),
    Derived(
        "insights_customers",
        ("customer_category_daily",),
        # Anonymous sales have no customer and count as none; an integer key counts distinct faster.
        "SELECT sale_date, gender, category, dense_rank() OVER (ORDER BY customer_id)::INTEGER AS customer_key "
        "FROM customer_category_daily WHERE customer_id IS NOT NULL ORDER BY sale_date",
    ),
)
BITMAPS = "insights_customer_bits"


def derived(bitmap_budget_bytes: int) -> tuple[Derived, ...]:
    """The derived tables, with the customer bitmaps only while cells x customers / 8 fit the budget.
    Keys run from 1 to the number of customers (dense_rank), so that is each bitmap's length."""
    bitmaps = Derived(
        BITMAPS,
        ("customer_category_daily",),
        "SELECT sale_date, gender, category, bitstring_agg(customer_key, 1, {last_key}) AS customers "
        "FROM insights_customers GROUP BY ALL ORDER BY sale_date",
        sizing="SELECT count(DISTINCT (sale_date, gender, category)) AS cells, max(customer_key) AS last_key "
        "FROM insights_customers",
        build_if=lambda size: size["last_key"] > 0 and size["cells"] * size["last_key"] / 8 <= bitmap_budget_bytes,
    )
    return (*DERIVED, bitmaps)


@dataclass(frozen=True)
class CustomerCounting:
    """Where distinct customers are counted from, and how."""

    table: str
    aggregate: str


BY_BITMAPS = CustomerCounting(BITMAPS, "bit_count(bit_or(customers))")
BY_KEYS = CustomerCounting("insights_customers", "count(DISTINCT customer_key)")


def customer_counting(reader: GoldReader) -> CustomerCounting:
    return BY_BITMAPS if reader.built(BITMAPS) else BY_KEYS


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
    first, last = cursor.execute("SELECT min(sale_date), max(sale_date) FROM insights_daily").fetchone() or (None, None)
    return {
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
        "gender": known_values(cursor, "insights_daily", "gender"),
        "category": known_values(cursor, "insights_daily", "category"),
    }


def check(reader: GoldReader, filters: InsightsFilters) -> None:
    """Refuses a backwards range or a gender or category the data has never had (before any query runs)."""
    check_range(filters.start, filters.end)
    choices = options(reader)
    check_known("gender", filters.gender, choices["gender"])
    check_known("category", filters.category, choices["category"])


def _where(filters: InsightsFilters) -> Where:
    return (
        Where()
        .between("sale_date", filters.start, filters.end)
        .any_of("gender", "gender", filters.gender)
        .any_of("category", "category", filters.category)
    )


def cards(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters, counting: CustomerCounting) -> dict[str, Any]:
    """Totals for the filter, and each gender's share of its distinct customers (shares add up to 100)."""
    where = _where(filters)
    split = rows(
        cursor,
        f"""WITH sums AS (
              SELECT gender, sum(products_sold) AS products_sold, sum(revenue) AS revenue
              FROM insights_daily {where.sql()} GROUP BY gender),
            people AS (
              SELECT gender, {counting.aggregate} AS customers, grouping(gender) AS everyone
              FROM {counting.table} {where.sql()} GROUP BY GROUPING SETS ((gender), ()))
            SELECT s.gender, coalesce(p.customers, 0) AS customers,
                   CASE WHEN sum(coalesce(p.customers, 0)) OVER () > 0
                        THEN round(100.0 * coalesce(p.customers, 0) / sum(coalesce(p.customers, 0)) OVER (), 2)
                   END AS customers_pct,
                   s.products_sold, s.revenue,
                   sum(s.products_sold) OVER () AS all_products_sold, sum(s.revenue) OVER () AS all_revenue,
                   (SELECT customers FROM people WHERE everyone = 1) AS all_customers
            FROM sums s LEFT JOIN people p ON p.gender = s.gender AND p.everyone = 0
            ORDER BY s.gender""",
        where.params,
    )
    totals = ("all_products_sold", "all_revenue", "all_customers")
    first = split[0] if split else dict.fromkeys(totals, 0)
    return {
        "products_sold": first["all_products_sold"],
        "revenue": first["all_revenue"],
        "customers": first["all_customers"] or 0,
        "gender_split": [{key: value for key, value in row.items() if key not in totals} for row in split],
    }


def trend(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters) -> list[Row]:
    """Revenue and units per day and gender."""
    where = _where(filters)
    return rows(
        cursor,
        f"SELECT sale_date, gender, sum(revenue) AS revenue, sum(products_sold) AS products_sold "
        f"FROM insights_daily {where.sql()} GROUP BY sale_date, gender ORDER BY sale_date, gender",
        where.params,
    )


def by_category(cursor: duckdb.DuckDBPyConnection, filters: InsightsFilters, counting: CustomerCounting) -> list[Row]:
    """Revenue, units and distinct customers per category and gender, with each gender's share of the
    category's customers and revenue (%)."""
    where = _where(filters)
    return rows(
        cursor,
        f"""WITH sums AS (
              SELECT category, gender, sum(revenue) AS revenue, sum(products_sold) AS products_sold
              FROM insights_daily {where.sql()} GROUP BY category, gender),
            people AS (
              SELECT category, gender, {counting.aggregate} AS customers
              FROM {counting.table} {where.sql()} GROUP BY category, gender),
            cells AS (
              SELECT s.*, coalesce(p.customers, 0) AS customers
              FROM sums s LEFT JOIN people p USING (category, gender))
            SELECT category, gender, revenue, products_sold, customers,
                   CASE WHEN sum(customers) OVER w > 0
                        THEN round(100.0 * customers / sum(customers) OVER w, 2) END AS customers_pct,
                   CASE WHEN sum(revenue) OVER w <> 0
                        THEN round(100.0 * revenue / sum(revenue) OVER w, 2) END AS revenue_pct
            FROM cells WINDOW w AS (PARTITION BY category) ORDER BY category, gender""",
        where.params,
    )
