"""The live inventory page's data: positions short of stock, the latest alerts, stock by store and
replenishment suggestions, from the tables the inventory stream keeps current."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from retail_lakehouse.serve.gold import Derived, GoldReader
from retail_lakehouse.serve.query import BadFilterError, Row, Where, check_known, known_values, rows

POSITION_TABLES = ("gold/inventory_positions", "gold/inventory_reorder_points")
ALERT_TABLES = ("gold/inventory_alerts",)
# Built when positions or reorder points load: each position with its reorder point (null where none is
# set), whether it is below either threshold and by how much, and the order that would restore it - the
# reorder point minus on hand, the safety stock standing in where there is no reorder point.
STATUS = Derived(
    "inventory_status",
    ("inventory_positions", "inventory_reorder_points"),
    """WITH positions AS (
         SELECT p.store_id, p.product_id, p.quantity_on_hand, p.safety_stock_quantity, r.reorder_point_quantity,
                coalesce(p.below_safety_stock, false) AS below_safety_stock,
                coalesce(p.quantity_on_hand < r.reorder_point_quantity, false) AS below_reorder_point,
                p.last_change_ts, p.updated_at
         FROM inventory_positions p LEFT JOIN inventory_reorder_points r USING (store_id, product_id))
       SELECT *,
              greatest(coalesce(safety_stock_quantity, 0), coalesce(reorder_point_quantity, 0)) - quantity_on_hand
                  AS shortfall,
              CASE WHEN reorder_point_quantity IS NOT NULL THEN 'reorder_point'
                   WHEN safety_stock_quantity IS NOT NULL THEN 'safety_stock' END AS basis,
              coalesce(reorder_point_quantity, safety_stock_quantity) - quantity_on_hand AS order_quantity
       FROM positions ORDER BY store_id""",
)
# The positions short of stock, largest shortfall first: the page's busiest list reads a few rows of it.
SHORT = Derived(
    "inventory_short",
    ("inventory_positions", "inventory_reorder_points"),
    "SELECT * FROM inventory_status WHERE below_safety_stock OR below_reorder_point "
    "ORDER BY shortfall DESC, store_id, product_id",
)
DERIVED = (STATUS, SHORT)


def _limit(limit: int) -> int:
    if not 1 <= limit <= 5000:
        raise BadFilterError("limit", f"{limit} is not between 1 and 5000")
    return limit


def _stores(stores: Sequence[str]) -> Where:
    return Where().any_of("store_id", "store", stores)


def options(reader: GoldReader) -> dict[str, Any]:
    """The stores with positions."""
    return reader.memo(
        "inventory.options",
        POSITION_TABLES[:1],
        lambda cursor: {"store": known_values(cursor, "inventory_positions", "store_id")},
    )


def check(reader: GoldReader, stores: Sequence[str]) -> None:
    check_known("store", stores, options(reader)["store"])


def short_positions(cursor: duckdb.DuckDBPyConnection, stores: Sequence[str], limit: int) -> list[Row]:
    """Positions below safety stock or below their reorder point, the largest shortfall first."""
    where = _stores(stores)
    return rows(
        cursor,
        f"""SELECT store_id, product_id, quantity_on_hand, safety_stock_quantity, reorder_point_quantity,
                   below_safety_stock, below_reorder_point, shortfall, last_change_ts, updated_at
            FROM inventory_short {where.sql()}
            ORDER BY shortfall DESC, store_id, product_id LIMIT {_limit(limit)}""",
        where.params,
    )


def latest_alerts(cursor: duckdb.DuckDBPyConnection, stores: Sequence[str], limit: int) -> list[Row]:
    # A store without alerts is a valid filter with no rows (the store list comes from the positions).
    where = Where().any_of("store_id", "store", stores)
    return rows(
        cursor,
        f"""SELECT store_id, product_id, alert_type, quantity_on_hand, threshold, alert_ts, detected_at
            FROM inventory_alerts {where.sql()}
            ORDER BY alert_ts DESC, detected_at DESC, store_id, product_id, alert_type LIMIT {_limit(limit)}""",
        where.params,
    )


def stock_by_store(cursor: duckdb.DuckDBPyConnection, stores: Sequence[str]) -> list[Row]:
    where = _stores(stores)
    return rows(
        cursor,
        f"""SELECT store_id, count(*) AS positions, sum(quantity_on_hand) AS quantity_on_hand,
                   count(*) FILTER (WHERE below_safety_stock) AS below_safety_stock,
                   count(*) FILTER (WHERE below_reorder_point) AS below_reorder_point,
                   max(last_change_ts) AS last_change_ts
            FROM inventory_status {where.sql()} GROUP BY store_id ORDER BY store_id""",
        where.params,
    )


def replenishment(cursor: duckdb.DuckDBPyConnection, stores: Sequence[str], limit: int) -> list[Row]:
    """What to order until a forecast exists: the reorder point minus what is on hand, where that is positive
    (the safety stock stands in for a position without a reorder point)."""
    where = _stores(stores)
    where.clauses.append("order_quantity > 0")
    return rows(
        cursor,
        f"""SELECT store_id, product_id, quantity_on_hand, reorder_point_quantity, safety_stock_quantity, basis,
                   order_quantity
            FROM inventory_status {where.sql()}
            ORDER BY order_quantity DESC, store_id, product_id LIMIT {_limit(limit)}""",
        where.params,
    )
