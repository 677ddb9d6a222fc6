"""What the app promises beyond the figures: 400 naming a bad parameter, pages and 503s that say which
tables are missing and how to build them, new table versions seen without a restart, no PII in any
answer, an OpenAPI document of every endpoint, and no asset fetched from the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from deltalake import write_deltalake
from fastapi.testclient import TestClient

from retail_lakehouse.serve.app import DASHBOARD_TABLES, PAGES, STATIC, app_for
from tests.unit.serve.conftest import config_for
from tests.unit.serve.gold_lakehouse import arrow_table, gold_tables, write_gold


@pytest.mark.parametrize(
    ("path", "params", "parameter", "says"),
    [
        ("insights/cards", {"start": "2025-13-01"}, "start", "month value is outside expected range"),
        ("insights/trend", {"start": "2025-01-03", "end": "2025-01-01"}, "end", "is before start 2025-01-03"),
        ("insights/by-category", {"gender": "Robot"}, "gender", "unknown value(s) 'Robot'; known: Female, Male"),
        ("insights/cards", {"category": ["Bikes", "Bikez"]}, "category", "unknown value(s) 'Bikez'"),
        ("sales/stores", {"region": "Atlantis"}, "region", "unknown value(s) 'Atlantis'"),
        ("sales/trend", {"channel": "store"}, "channel", "known: Mobile, Online, Store"),
        ("inventory/short-positions", {"limit": "0"}, "limit", "0 is not between 1 and 5000"),
        ("inventory/stores", {"store": "99"}, "store", "unknown value(s) '99'"),
        ("basket/rules", {"limit": "many"}, "limit", "valid integer"),
        ("pricing/recommendations", {"order": "price"}, "order", "known: margin_gain"),
        ("sales/trend", {"format": "xml"}, "format", "'json' or 'csv'"),
    ],
)
def test_a_bad_filter_gets_400_naming_the_parameter(
    client: TestClient, path: str, params: dict[str, object], parameter: str, says: str
) -> None:
    response = client.get(f"/api/{path}", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert body["error"].startswith(f"query parameter '{parameter}': ")
    assert says in body["error"]


def test_a_lakehouse_without_gold_tables_says_what_to_build(tmp_path: Path) -> None:
    with TestClient(app_for(config_for(tmp_path / "empty"))) as client:
        response = client.get("/api/insights/cards")
        assert response.status_code == 503
        assert response.json() == {
            "error": "not built yet: gold/customer_category_daily: lakehouse pipeline daily",
            "missing_tables": ["gold/customer_category_daily"],
            "build": [
                {
                    "table": "gold/customer_category_daily",
                    "job": "gold_customer_category_daily",
                    "command": "lakehouse pipeline daily",
                }
            ],
        }
        alerts = client.get("/api/inventory/alerts").json()
        assert alerts["build"][0]["command"] == "lakehouse stream inventory --available-now"
        for page in PAGES:
            html = client.get(f"/{page.path}").text
            assert 'id="missing-tables"' in html
            for table in page.tables:
                assert f"<code>{table}</code>" in html


def test_a_page_lists_only_the_tables_it_lacks(tmp_path: Path) -> None:
    root = tmp_path / "lakehouse"
    write_gold(root, only=["gold/customer_360", "gold/product_performance"])
    with TestClient(app_for(config_for(root))) as client:
        html = client.get("/customers").text
        # Nothing upstream exists either (no silver): only the pipeline of every job builds it.
        assert "<code>gold/association_rules</code>: run <code>lakehouse pipeline all</code>" in html
        assert "<code>gold/customer_360</code>" not in html
        assert client.get("/api/customers/segments").status_code == 200
        assert "<code>gold/customer_category_daily</code>: run <code>lakehouse pipeline daily</code>" in (
            client.get("/insights").text
        )


def test_a_new_table_version_is_read_without_a_restart(client: TestClient, lakehouse: Path) -> None:
    assert client.get("/api/insights/cards").json()["revenue"] == 588.30
    spec = gold_tables()["gold/customer_category_daily"]
    write_deltalake(
        str(lakehouse / "gold/customer_category_daily"),
        arrow_table(spec, [["2025-01-04", "C6", "M", "Bikes", 1, "11.70"]]),
        mode="append",
    )
    body = client.get("/api/insights/cards").json()
    assert (body["revenue"], body["customers"], body["versions"]) == (600.0, 6, {"gold/customer_category_daily": 1})
    assert client.get("/api/insights/options").json()["end"] == "2025-01-04"


def every_get_endpoint(client: TestClient) -> list[str]:
    paths = client.get("/openapi.json").json()["paths"]
    return [path for path, methods in paths.items() if "get" in methods]


def test_openapi_documents_every_endpoint_and_its_filters(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(every_get_endpoint(client)) == {
        "/api/insights/options",
        "/api/insights/cards",
        "/api/insights/trend",
        "/api/insights/by-category",
        "/api/sales/options",
        "/api/sales/by-region-category",
        "/api/sales/stores",
        "/api/sales/trend",
        "/api/inventory/options",
        "/api/inventory/short-positions",
        "/api/inventory/alerts",
        "/api/inventory/stores",
        "/api/inventory/replenishment",
        "/api/customers/segments",
        "/api/basket/rules",
        "/api/basket/recommendations",
        "/api/pricing/recommendations",
    }
    cards = {p["name"] for p in spec["paths"]["/api/insights/cards"]["get"]["parameters"]}
    assert cards == {"start", "end", "gender", "category", "format"}
    sales = {p["name"] for p in spec["paths"]["/api/sales/stores"]["get"]["parameters"]}
    assert sales == {"start", "end", "region", "category", "channel", "format"}
    assert all(methods.keys() == {"get"} for methods in spec["paths"].values())  # read-only


def test_no_answer_carries_customer_level_data(client: TestClient) -> None:
    """customer_360 and customer_category_daily hold customer ids, cities and birth-like dates; only
    aggregates may leave the server."""
    personal = {"C1", "C2", "C3", "C4", "C5", "Springfield", "Shelbyville", "1980-05-17", "1975-11-02"}
    for path in every_get_endpoint(client):
        for fmt in ("json", "csv"):
            response = client.get(path, params={"format": fmt} if not path.endswith("options") else {})
            assert response.status_code == 200, path
            found = {value for value in personal if re.search(rf"\b{re.escape(value)}\b", response.text)}
            assert not found, f"{path} ({fmt}) answers {found}"


def test_every_asset_is_served_from_the_package(client: TestClient) -> None:
    pages = [client.get(f"/{page.path}").text for page in PAGES] + [client.get("/docs").text]
    for html in pages:
        for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert reference.startswith("/"), reference
            if reference.startswith("/static/"):
                assert client.get(reference).status_code == 200, reference
    assert "fetch(" in (STATIC / "dashboard.js").read_text()
    assert not re.search(r"https?://", (STATIC / "dashboard.js").read_text())


def test_the_dashboard_reads_every_table_its_pages_name() -> None:
    assert set(DASHBOARD_TABLES) == {table for page in PAGES for table in page.tables}
    assert set(DASHBOARD_TABLES) <= set(gold_tables())
