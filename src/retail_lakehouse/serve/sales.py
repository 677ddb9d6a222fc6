"""The sales-performance page's data: revenue by region and category, store benchmarking, the daily trend.

Facts are `gold/sales_daily`; a store's region and format come from `gold/store_performance` and a
product's category (its top-level department) from `gold/product_performance`, as they are today. When any
of the three loads, their join is summed by date, store, category and channel (every query here reads at
that grain, a few percent of the product grain's rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from retail_lakehouse.serve.gold import SNAPSHOT, Derived, GoldReader
from retail_lakehouse.serve.query import UNKNOWN, Row, Where, check_known, check_range, known_values, rows

TABLES = ("gold/sales_daily", "gold/store_performance", "gold/product_performance")
SHAPES = {TABLES[0]: f"SELECT * FROM {SNAPSHOT} ORDER BY sale_date"}  # date order: a date filter skips row groups
DERIVED = (
    Derived(
        "sales_facts",
        ("sales_daily", "store_performance", "product_performance"),
        f"""SELECT s.sale_date, s.store_id, coalesce(st.region, '{UNKNOWN}') AS region,
                   coalesce(p.department, '{UNKNOWN}') AS category, s.channel,
                   sum(s.quantity_sold) AS quantity_sold, sum(s.gross_revenue) AS gross_revenue,
                   sum(s.net_revenue) AS net_revenue
            FROM sales_daily s
            LEFT JOIN store_performance st USING (store_id)
            LEFT JOIN product_performance p USING (product_id)
            GROUP BY ALL ORDER BY s.sale_date""",
    ),
)
REGION = f"coalesce(region, '{UNKNOWN}')"
CATEGORY = f"coalesce(department, '{UNKNOWN}')"


@dataclass(frozen=True)
class SalesFilters:
    start: dt.date | None = None
    end: dt.date | None = None
    region: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()


def options(reader: GoldReader) -> dict[str, Any]:
    """What the filters may take: the date range with sales, the regions, categories and channels."""
    return reader.memo("sales.options", TABLES, _options)


def _options(cursor: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    first, last = cursor.execute("SELECT min(sale_date), max(sale_date) FROM sales_facts").fetchone() or (None, None)
    return {
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
        "region": sorted({*known_values(cursor, "store_performance", REGION), UNKNOWN}),
        "category": sorted({*known_values(cursor, "product_performance", CATEGORY), UNKNOWN}),
        "channel": known_values(cursor, "sales_facts", "channel"),
    }


def check(reader: GoldReader, filters: SalesFilters) -> None:
    """Refuses a backwards range or a region, category or channel the data has never had."""
    check_range(filters.start, filters.end)
    choices = options(reader)
    for name in ("region", "category", "channel"):
        check_known(name, getattr(filters, name), choices[name])


def _where(filters: SalesFilters) -> Where:
    return (
        Where()
        .between("sale_date", filters.start, filters.end)
        .any_of("region", "region", filters.region)
        .any_of("category", "category", filters.category)
        .any_of("channel", "channel", filters.channel)
    )


def by_region_category(cursor: duckdb.DuckDBPyConnection, filters: SalesFilters) -> list[Row]:
    where = _where(filters)
    return rows(
        cursor,
        f"""SELECT region, category, sum(net_revenue) AS net_revenue, sum(gross_revenue) AS gross_revenue,
                   sum(quantity_sold) AS quantity_sold
            FROM sales_facts {where.sql()} GROUP BY region, category ORDER BY region, category""",
        where.params,
    )


def trend(cursor: duckdb.DuckDBPyConnection, filters: SalesFilters) -> list[Row]:
    where = _where(filters)
    return rows(
        cursor,
        f"""SELECT sale_date, channel, sum(net_revenue) AS net_revenue, sum(quantity_sold) AS quantity_sold
            FROM sales_facts {where.sql()} GROUP BY sale_date, channel ORDER BY sale_date, channel""",
        where.params,
    )


def stores(cursor: duckdb.DuckDBPyConnection, filters: SalesFilters) -> list[Row]:
    """Every store of the chosen regions with its revenue under the filter, ranked within its peers (stores
    of the same region and format) and indexed against their median (100 = the median), as
    `gold/store_performance` does over the whole history. A store without sales counts as 0."""
    where = _where(filters)
    store_where = Where().any_of(REGION, "region", filters.region)
    return rows(
        cursor,
        f"""WITH per_store AS (
              SELECT store_id, sum(net_revenue) AS net_revenue, sum(quantity_sold) AS quantity_sold
              FROM sales_facts {where.sql()} GROUP BY store_id),
            measured AS (
              SELECT st.store_id, st.name, {REGION} AS region, st.format,
                     coalesce(p.net_revenue, 0) AS net_revenue, coalesce(p.quantity_sold, 0) AS quantity_sold
              FROM store_performance st LEFT JOIN per_store p USING (store_id) {store_where.sql()})
            SELECT store_id, name, region, format, net_revenue, quantity_sold,
                   count(*) OVER peers AS peer_stores,
                   rank() OVER (peers ORDER BY net_revenue DESC) AS peer_rank,
                   CASE WHEN median(net_revenue) OVER peers > 0
                        THEN round(net_revenue / median(net_revenue) OVER peers * 100, 2) END AS revenue_index
            FROM measured WINDOW peers AS (PARTITION BY region, format)
            ORDER BY region, format, peer_rank, store_id""",
        {**where.params, **store_where.params},
    )
