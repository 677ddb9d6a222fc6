"""The customers, basket and pricing page's data: RFM segments, association rules, recommendations per product
and price recommendations. Customer data leaves only as segment aggregates (customer_360 holds PII-adjacent
columns; no customer row is ever answered)."""

from __future__ import annotations

import duckdb

from retail_lakehouse.serve.query import BadFilterError, Row, Where, rows

SEGMENT_TABLES = ("gold/customer_360",)
RULE_TABLES = ("gold/association_rules", "gold/product_performance")
RECOMMENDATION_TABLES = ("gold/product_recommendations", "gold/product_performance")
PRICE_TABLES = ("gold/price_recommendations", "gold/product_performance")
# Ordering a user may choose for price recommendations: the column expressions behind each name.
PRICE_ORDER = {
    "margin_gain": "projected_annual_margin - current_annual_margin DESC",
    "projected_annual_margin": "projected_annual_margin DESC",
    "product_id": "product_id",
}


def segments(cursor: duckdb.DuckDBPyConnection) -> list[Row]:
    """Customers, value and recency per RFM segment."""
    return rows(
        cursor,
        """SELECT rfm_segment, count(*) AS customers, sum(lifetime_value) AS lifetime_value,
                  round(avg(lifetime_value), 2) AS avg_lifetime_value,
                  round(avg(total_transactions), 2) AS avg_transactions,
                  round(avg(days_since_purchase), 1) AS avg_days_since_purchase,
                  round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customers_pct
           FROM customer_360 GROUP BY rfm_segment ORDER BY lifetime_value DESC, rfm_segment""",
    )


def _limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise BadFilterError("limit", f"{limit} is not between 1 and 1000")
    return limit


def association_rules(cursor: duckdb.DuckDBPyConnection, limit: int, product: str | None) -> list[Row]:
    """The strongest rules by lift (then confidence), optionally only those whose antecedent holds `product`;
    items are shown with their product names where they are products."""
    where = Where()
    if product is not None:
        where.clauses.append("list_contains(antecedent, $product)")
        where.params["product"] = product
    return rows(
        cursor,
        f"""WITH top AS (SELECT * FROM association_rules {where.sql()}
                         ORDER BY lift DESC, confidence DESC, consequent[1], antecedent LIMIT {_limit(limit)}),
            items AS (SELECT DISTINCT unnest(list_concat(antecedent, consequent)) AS item FROM top),
            names AS (SELECT map(list(i.item), list(coalesce(p.name, i.item))) AS of
                      FROM items i LEFT JOIN product_performance p ON p.product_id = i.item)
            SELECT antecedent, list_transform(antecedent, i -> coalesce(names.of[i], i)) AS antecedent_names,
                   consequent[1] AS consequent, coalesce(names.of[consequent[1]], consequent[1]) AS consequent_name,
                   confidence, lift, support, baskets
            FROM top CROSS JOIN names ORDER BY lift DESC, confidence DESC, consequent, antecedent""",
        where.params,
    )


def recommendations(cursor: duckdb.DuckDBPyConnection, product: str | None, limit: int) -> list[Row]:
    """What to recommend with a product (or the top recommendations of every product), best lift first."""
    where = Where().equals("r.item", "product", product)
    return rows(
        cursor,
        f"""SELECT r.item AS product_id, coalesce(a.name, r.item) AS product_name,
                   r.recommended_item AS recommended_product_id, coalesce(b.name, r.recommended_item)
                       AS recommended_product_name,
                   r.rank, r.lift, r.confidence, r.support
            FROM product_recommendations r
            LEFT JOIN product_performance a ON a.product_id = r.item
            LEFT JOIN product_performance b ON b.product_id = r.recommended_item
            {where.sql()} ORDER BY r.lift DESC, r.item, r.rank LIMIT {_limit(limit)}""",
        where.params,
    )


def price_recommendations(cursor: duckdb.DuckDBPyConnection, limit: int, order: str) -> list[Row]:
    """Recommended prices with their projected annual margins against today's, largest gain first."""
    if order not in PRICE_ORDER:
        raise BadFilterError("order", f"unknown value '{order}'; known: {', '.join(PRICE_ORDER)}")
    return rows(
        cursor,
        f"""SELECT r.product_id, coalesce(p.name, r.product_id) AS product_name, p.department AS category,
                   r.current_price, r.cost, r.competitor_price, r.elasticity, r.recommended_price, r.action,
                   r.current_annual_margin, r.projected_annual_margin,
                   r.projected_annual_margin - r.current_annual_margin AS margin_gain
            FROM price_recommendations r LEFT JOIN product_performance p USING (product_id)
            ORDER BY {PRICE_ORDER[order]}, r.product_id LIMIT {_limit(limit)}""",
    )
