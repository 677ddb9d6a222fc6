"""A short text summary of the gold tables for people: top stores, RFM segments, rules, price moves,
inventory, and the demand forecast's backtest accuracy."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.io.delta_tables import exists, read

TOP = 5


def _top_stores(table: DataFrame) -> list[str]:
    rows = table.orderBy(F.col("net_revenue").desc(), "store_id").limit(TOP).collect()
    return [
        f"{r.store_id:>5} {r.name or '?':<24} {r.region or '?':<10} net {r.net_revenue:>14,.2f}"
        f"  basket {r.avg_basket_value or 0:>8,.2f}  index vs peers {r.revenue_index or 0:>7.1f}"
        for r in rows
    ]


def _segments(table: DataFrame) -> list[str]:
    rows = table.groupBy("rfm_segment").agg(F.count(F.lit(1)).alias("n")).orderBy(F.col("n").desc()).collect()
    return [f"{r.rfm_segment:<10} {r.n:>8,} customers" for r in rows]


def _rules(table: DataFrame) -> list[str]:
    rows = table.orderBy(F.col("lift").desc(), F.col("confidence").desc()).limit(TOP).collect()
    return [
        f"{{{', '.join(r.antecedent)}}} => {{{', '.join(r.consequent)}}}"
        f"  lift {r.lift:.2f}  confidence {r.confidence:.2f}  support {r.support:.4f}"
        for r in rows
    ]


def _price_moves(table: DataFrame) -> list[str]:
    gain = F.col("projected_annual_margin") - F.col("current_annual_margin")
    rows = table.where(F.col("action") != "keep").orderBy(gain.desc()).limit(TOP).collect()
    return [
        f"{r.product_id:>8} elasticity {r.elasticity:>6.2f}  {r.current_price:>8,.2f} -> {r.recommended_price:>8,.2f}"
        f"  ({r.action})  projected margin/year {r.projected_annual_margin:>12,.0f}"
        for r in rows
    ]


def _positions(table: DataFrame) -> list[str]:
    totals = table.agg(
        F.count(F.lit(1)).alias("positions"),
        F.sum("quantity_on_hand").alias("units"),
        F.count_if("below_safety_stock").alias("below"),
    ).first()
    if totals is None or not totals.positions:
        return []
    lowest = table.where("below_safety_stock").orderBy("quantity_on_hand", "store_id", "product_id").limit(TOP)
    return [
        f"{totals.positions:,} store x item positions, {totals.units:,} units on hand, "
        f"{totals.below:,} below safety stock; lowest:",
        *(
            f"  store {r.store_id:>4} item {r.product_id:>8} on hand {r.quantity_on_hand:>6} "
            f"(safety {r.safety_stock_quantity}, counted {r.snapshot_quantity} at {r.snapshot_ts})"
            for r in lowest.collect()
        ),
    ]


def _alerts(table: DataFrame) -> list[str]:
    kinds = table.groupBy("alert_type").count().orderBy("alert_type").collect()
    latest = table.orderBy(F.col("alert_ts").desc(), "store_id", "product_id", "alert_type").limit(TOP).collect()
    falls = ", ".join(f"{r['count']:,} below {r.alert_type.replace('_', ' ')}" for r in kinds)
    return [
        f"falls: {falls}; latest:",
        *(
            f"  {r.alert_ts} store {r.store_id:>4} item {r.product_id:>8} on hand {r.quantity_on_hand} < {r.threshold}"
            f" ({r.alert_type.replace('_', ' ')})"
            for r in latest
        ),
    ]


def _forecast_accuracy(table: DataFrame) -> list[str]:
    """Each model's backtest over every origin, the whole horizon and every department, against the
    seasonal naive baseline."""
    overall = table.where(F.col("origin_date").isNull() & (F.col("horizon_week") == 0) & (F.col("category") == "All"))
    rows = {r.model: r for r in overall.collect()}
    naive = rows.get("seasonal_naive")
    lines = []
    for model in sorted(rows, key=lambda m: rows[m].wape if rows[m].wape is not None else float("inf")):
        r = rows[model]
        if r.wape is None:
            continue
        below = f"  WAPE {1 - r.wape / naive.wape:.0%} below seasonal naive" if naive and naive.wape else ""
        against = below if model != "seasonal_naive" else ""
        lines.append(
            f"{model:<15} WAPE {r.wape:.3f}  MASE {r.mase or 0:.3f}  bias {r.bias:+.3f}"
            f"  P10-P90 coverage {r.coverage_p10_p90:.0%}  ({r.observations:,} store-product-days){against}"
        )
    return lines


SECTIONS: list[tuple[str, str, Callable[[DataFrame], list[str]]]] = [
    ("Top stores by net revenue", "gold/store_performance", _top_stores),
    ("Customers by RFM segment", "gold/customer_360", _segments),
    ("Top association rules by lift", "gold/association_rules", _rules),
    ("Price recommendations with the largest margin gain", "gold/price_recommendations", _price_moves),
    ("Inventory positions", "gold/inventory_positions", _positions),
    ("Inventory alerts", "gold/inventory_alerts", _alerts),
    ("Demand forecast accuracy in the backtest", "gold/forecast_accuracy", _forecast_accuracy),
]
# What builds each table, for a section whose table is not there yet.
BUILT_BY = {
    "gold/inventory_positions": "lakehouse stream inventory --available-now",
    "gold/inventory_alerts": "lakehouse stream inventory --available-now (none yet if no stock fell below a threshold)",
    "gold/forecast_accuracy": "lakehouse pipeline forecast",
}


def summary_lines(spark: SparkSession, config: LakehouseConfig) -> list[str]:
    lines: list[str] = []
    for title, table, render in SECTIONS:
        ref = config.storage.table_ref(table)
        lines.append(f"{title} ({table}):")
        if not exists(spark, ref):
            lines.append(f"  not built yet: run `{BUILT_BY.get(table, 'lakehouse pipeline analytics')}`")
            continue
        body = render(read(spark, ref))
        lines.extend(f"  {line}" for line in body or ["(empty)"])
    return lines
