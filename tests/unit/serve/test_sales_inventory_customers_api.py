"""The sales, inventory and customers/basket/pricing endpoints on the hand-built lakehouse (figures by hand
from tests/fixtures/dashboard/gold.json)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.unit.serve.test_insights_api import get


def rows(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    return list(get(client, path, **params)["rows"])


def test_sales_options_include_unknown_for_stores_and_products_gold_does_not_describe(client: TestClient) -> None:
    assert get(client, "sales/options") == {
        "start": "2025-01-01",
        "end": "2025-01-03",
        "region": ["North", "South", "Unknown"],
        "category": ["Bikes", "Clothing", "Unknown"],
        "channel": ["Mobile", "Online", "Store"],
    }


def test_revenue_by_region_and_category(client: TestClient) -> None:
    found = {
        (r["region"], r["category"]): (r["net_revenue"], r["quantity_sold"])
        for r in rows(client, "sales/by-region-category")
    }
    # S9 is in no store table (region Unknown); P3 in no product table (category Unknown).
    assert found == {
        ("North", "Bikes"): (200.0, 2),
        ("North", "Clothing"): (135.0, 4),
        ("North", "Unknown"): (40.0, 4),
        ("South", "Bikes"): (90.0, 1),
        ("Unknown", "Bikes"): (100.0, 1),
    }
    filtered = rows(client, "sales/by-region-category", region="North", category="Clothing", channel="Online")
    assert [(r["region"], r["category"], r["net_revenue"]) for r in filtered] == [("North", "Clothing", 90.0)]


def test_store_benchmark_indexes_each_store_against_the_median_of_its_peers(client: TestClient) -> None:
    found = [
        (r["store_id"], r["net_revenue"], r["peer_stores"], r["peer_rank"], r["revenue_index"])
        for r in rows(client, "sales/stores", region="North")
    ]
    # North/Flagship: S1 290, S2 85, S4 no sales (0); the median is 85.
    assert found == [("S1", 290.0, 3, 1, 341.18), ("S2", 85.0, 3, 2, 100.0), ("S4", 0.0, 3, 3, 0.0)]
    day_one = {r["store_id"]: r["revenue_index"] for r in rows(client, "sales/stores", end="2025-01-01")}
    # On 2025-01-01 North/Flagship took 200 (S1), 45 (S2), 0 (S4): median 45. South/Express S3 sold nothing.
    assert day_one == {"S1": 444.44, "S2": 100.0, "S4": 0.0, "S3": None}


def test_sales_trend_per_day_and_channel(client: TestClient) -> None:
    found = [
        (r["sale_date"], r["channel"], r["net_revenue"], r["quantity_sold"])
        for r in rows(client, "sales/trend", channel="Store")
    ]
    assert found == [("2025-01-01", "Store", 245.0, 3), ("2025-01-02", "Store", 90.0, 1)]


def test_short_positions_largest_shortfall_first(client: TestClient) -> None:
    found = [
        (r["store_id"], r["product_id"], r["quantity_on_hand"], r["reorder_point_quantity"], r["shortfall"])
        for r in rows(client, "inventory/short-positions")
    ]
    # 1/A: below safety (10) and reorder point (20); 2/A: below its reorder point only; 2/C: below safety, no
    # reorder point; 1/B is above both.
    assert found == [("1", "A", 5, 20, 15), ("2", "A", 8, 12, 4), ("2", "C", 2, None, 2)]
    assert [r["product_id"] for r in rows(client, "inventory/short-positions", store="2", limit=1)] == ["A"]


def test_replenishment_is_the_reorder_point_minus_on_hand(client: TestClient) -> None:
    found = [
        (r["store_id"], r["product_id"], r["basis"], r["order_quantity"])
        for r in rows(client, "inventory/replenishment")
    ]
    assert found == [("1", "A", "reorder_point", 15), ("2", "A", "reorder_point", 4), ("2", "C", "safety_stock", 2)]


def test_stock_by_store_and_latest_alerts(client: TestClient) -> None:
    stock = [
        (r["store_id"], r["positions"], r["quantity_on_hand"], r["below_safety_stock"], r["below_reorder_point"])
        for r in rows(client, "inventory/stores")
    ]
    assert stock == [("1", 2, 35, 1, 1), ("2", 2, 10, 1, 1)]
    alerts = [
        (r["store_id"], r["product_id"], r["alert_type"], r["alert_ts"])
        for r in rows(client, "inventory/alerts", limit=2)
    ]
    assert alerts == [
        ("2", "C", "safety_stock", "2025-01-01T12:00:00+00:00"),
        ("2", "A", "reorder_point", "2025-01-01T11:00:00+00:00"),
    ]


def test_rfm_segments_are_aggregates(client: TestClient) -> None:
    found = [
        (r["rfm_segment"], r["customers"], r["lifetime_value"], r["avg_lifetime_value"], r["customers_pct"])
        for r in rows(client, "customers/segments")
    ]
    assert found == [
        ("Champion", 2, 400.0, 200.0, 40.0),
        ("Loyal", 1, 50.0, 50.0, 20.0),
        ("At risk", 2, 40.0, 20.0, 40.0),
    ]


def test_association_rules_by_lift_with_product_names(client: TestClient) -> None:
    found = [(r["antecedent_names"], r["consequent_name"], r["lift"]) for r in rows(client, "basket/rules")]
    # Ties on lift go to the higher confidence; a product gold has no name for shows its id.
    assert found == [
        (["Road bike", "Jersey"], "P3", 4.0),
        (["Road bike"], "Jersey", 2.0),
        (["Jersey"], "Road bike", 2.0),
    ]
    assert [r["consequent"] for r in rows(client, "basket/rules", product="P2")] == ["P3", "P1"]
    csv = client.get("/api/basket/rules", params={"limit": 1, "format": "csv"}).text.splitlines()
    assert csv[1].startswith('"[""P1"", ""P2""]","[""Road bike"", ""Jersey""]",P3,P3,0.8,4.0')


def test_recommendations_for_one_product(client: TestClient) -> None:
    found = [
        (r["recommended_product_id"], r["recommended_product_name"], r["rank"])
        for r in rows(client, "basket/recommendations", product="P2")
    ]
    assert found == [("P1", "Road bike", 1), ("P3", "P3", 2)]


def test_price_recommendations_largest_margin_gain_first(client: TestClient) -> None:
    found = [
        (r["product_id"], r["recommended_price"], r["margin_gain"], r["category"])
        for r in rows(client, "pricing/recommendations")
    ]
    assert found == [("P1", 110.0, 1000.0, "Bikes"), ("P2", 28.0, -100.0, "Clothing")]
    by_id = rows(client, "pricing/recommendations", order="product_id", limit=1)
    assert [r["product_id"] for r in by_id] == ["P1"]
