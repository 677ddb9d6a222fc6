"""The customer-insights endpoints on the hand-built lakehouse: figures worked out by hand from
tests/fixtures/dashboard/gold.json (customer_category_daily: 9 rows over 3 days, 5 known customer ids and
one anonymous sale)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/{path}", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def split(body: dict[str, Any]) -> dict[str, tuple[int, float | None]]:
    return {row["gender"]: (row["customers"], row["customers_pct"]) for row in body["gender_split"]}


def test_options_list_the_labels_and_the_date_range(client: TestClient) -> None:
    assert get(client, "insights/options") == {
        "start": "2025-01-01",
        "end": "2025-01-03",
        "gender": ["Female", "Male", "Other", "Unknown"],
        "category": ["Accessories", "Bikes", "Clothing"],
    }


def test_cards_without_filter_count_every_sale_and_distinct_customers_over_the_range(client: TestClient) -> None:
    body = get(client, "insights/cards")
    assert (body["products_sold"], body["revenue"]) == (21, 588.30)
    # C1 bought on all three days: counted once (the sum of the daily distinct counts would be 2 + 3 + 3 = 8).
    assert body["customers"] == 5
    # 'Not recorded' (C3) and a customer CRM does not know (C5) both read Unknown; the anonymous sale has
    # no customer, so it counts in revenue but not among customers.
    assert split(body) == {"Female": (1, 20.0), "Male": (1, 20.0), "Other": (1, 20.0), "Unknown": (2, 40.0)}
    unknown = next(row for row in body["gender_split"] if row["gender"] == "Unknown")
    assert (unknown["products_sold"], unknown["revenue"]) == (9, 242.0)
    assert sum(row["revenue"] for row in body["gender_split"]) == 588.30


def test_cards_apply_the_date_range_genders_and_categories_together(client: TestClient) -> None:
    body = get(
        client, "insights/cards", start="2025-01-02", end="2025-01-03", gender=["Female", "Unknown"], category="Bikes"
    )
    assert body["filters"] == {
        "start": "2025-01-02",
        "end": "2025-01-03",
        "gender": ["Female", "Unknown"],
        "category": ["Bikes"],
    }
    assert (body["products_sold"], body["revenue"], body["customers"]) == (5, 250.0, 2)
    assert split(body) == {"Female": (1, 50.0), "Unknown": (1, 50.0)}


def test_a_gender_with_sales_but_no_known_customer_shows_with_zero_customers(client: TestClient) -> None:
    body = get(client, "insights/cards", category="Clothing")
    assert (body["products_sold"], body["revenue"], body["customers"]) == (9, 105.80, 2)
    assert split(body) == {"Female": (1, 50.0), "Other": (1, 50.0), "Unknown": (0, 0.0)}


def test_an_empty_range_gives_zeros_not_an_error(client: TestClient) -> None:
    body = get(client, "insights/cards", start="2025-02-01")
    assert (body["products_sold"], body["revenue"], body["customers"], body["gender_split"]) == (0, 0, 0, [])
    assert get(client, "insights/trend", start="2025-02-01")["rows"] == []


def test_trend_is_revenue_and_units_per_day_and_gender(client: TestClient) -> None:
    rows = get(client, "insights/trend", end="2025-01-02")["rows"]
    assert rows == [
        {"sale_date": "2025-01-01", "gender": "Female", "revenue": 100.5, "products_sold": 2},
        {"sale_date": "2025-01-01", "gender": "Male", "revenue": 40.0, "products_sold": 1},
        {"sale_date": "2025-01-01", "gender": "Unknown", "revenue": 30.0, "products_sold": 3},
        {"sale_date": "2025-01-02", "gender": "Female", "revenue": 20.25, "products_sold": 1},
        {"sale_date": "2025-01-02", "gender": "Male", "revenue": 80.0, "products_sold": 2},
        {"sale_date": "2025-01-02", "gender": "Unknown", "revenue": 200.0, "products_sold": 4},
    ]


def test_by_category_gives_each_genders_share_within_the_category(client: TestClient) -> None:
    rows = get(client, "insights/by-category")["rows"]
    table = {
        (r["category"], r["gender"]): (r["revenue"], r["customers"], r["customers_pct"], r["revenue_pct"]) for r in rows
    }
    assert table == {
        ("Accessories", "Unknown"): (12.0, 1, 100.0, 100.0),
        ("Bikes", "Female"): (150.5, 1, 33.33, 31.99),
        ("Bikes", "Male"): (120.0, 1, 33.33, 25.5),
        ("Bikes", "Unknown"): (200.0, 1, 33.33, 42.51),
        ("Clothing", "Female"): (20.25, 1, 50.0, 19.14),
        ("Clothing", "Other"): (55.55, 1, 50.0, 52.5),
        ("Clothing", "Unknown"): (30.0, 0, 0.0, 28.36),
    }


def test_csv_download_has_the_same_rows(client: TestClient) -> None:
    response = client.get("/api/insights/by-category", params={"category": "Accessories", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="insights_by_category.csv"' in response.headers["content-disposition"]
    assert response.text == (
        "category,gender,revenue,products_sold,customers,customers_pct,revenue_pct\n"
        "Accessories,Unknown,12.0,2,1,100.0,100.0\n"
    )
    cards = client.get("/api/insights/cards", params={"gender": "Other", "format": "csv"})
    assert cards.text == "gender,customers,customers_pct,products_sold,revenue\nOther,1,100.0,5,55.55\n"
