"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against `lakehouse serve` in a
subprocess: what the insights page shows under a date range, a gender and a category equals DuckDB's own
computation over the same Delta files (its Delta extension, not the `deltalake` reader the server uses).
A screenshot of every page is saved under artifacts/dashboard/."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from deltalake import write_deltalake

from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.serve.app import PAGES
from tests.integration.conftest import LAKEHOUSE, Workspace
from tests.integration.dashboard_browser import (
    chromium,
    dashboard_server,
    duckdb_over_delta,
    screenshot,
    wait_for_query,
)
from tests.integration.test_inventory_restart import wait_for_version
from tests.unit.serve.gold_lakehouse import arrow_table, gold_tables, write_gold

pytestmark = [pytest.mark.integration, pytest.mark.browser]

FACTS = "gold/customer_category_daily"
GENDERS = ["F", "M", "O", "Not recorded", "Unknown"]
CATEGORIES = ["Accessories", "Bikes", "Clothing", "Components", "Nutrition"]
# The dashboard's labels, written here again on purpose: the expected figures do not reuse the app's SQL.
LABEL = "CASE gender WHEN 'F' THEN 'Female' WHEN 'M' THEN 'Male' WHEN 'O' THEN 'Other' ELSE 'Unknown' END"


def random_facts(seed: int, days: int = 60, rows_per_day: int = 40) -> list[list[Any]]:
    """Sales by date, customer, gender and category: 300 customers (some buy on many days), anonymous sales
    (no customer, gender Unknown) and customers without a recorded gender."""
    rng = random.Random(seed)
    rows = []
    for day in range(days):
        date = (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat()
        for _ in range(rows_per_day):
            anonymous = rng.random() < 0.15
            customer = None if anonymous else f"K{rng.randrange(300):03d}"
            gender = "Unknown" if anonymous else GENDERS[int(customer[1:]) % 4]  # type: ignore[index]
            units = rng.randrange(1, 6)
            revenue = Decimal(rng.randrange(500, 50_000)) / 100
            rows.append([date, customer, gender, rng.choice(CATEGORIES), units, str(revenue)])
    return rows


def write_lakehouse(root: Path) -> None:
    write_gold(root, only=[name for name in gold_tables() if name != FACTS])
    spec = gold_tables()[FACTS]
    # Three commits, as three daily runs would leave: the reader must see the latest version whole.
    for seed in (1, 2, 3):
        write_deltalake(str(root / FACTS), arrow_table(spec, random_facts(seed, days=20 * seed)), mode="append")


def expected_figures(root: Path, start: str, end: str, gender: str, category: str) -> dict[str, Any]:
    db = duckdb_over_delta()
    db.execute(
        f"CREATE VIEW facts AS SELECT sale_date, customer_id, {LABEL} AS gender, category, products_sold, revenue "
        f"FROM delta_scan('{root / FACTS}') "
        f"WHERE sale_date BETWEEN '{start}' AND '{end}' AND {LABEL} = '{gender}' AND category = '{category}'"
    )
    totals = db.execute(
        "SELECT sum(products_sold), sum(revenue)::DOUBLE, count(DISTINCT customer_id) FROM facts"
    ).fetchone()
    assert totals is not None
    per_day = dict(db.execute("SELECT sale_date::VARCHAR, sum(revenue)::DOUBLE FROM facts GROUP BY 1").fetchall())
    units_per_day = dict(db.execute("SELECT sale_date::VARCHAR, sum(products_sold) FROM facts GROUP BY 1").fetchall())
    return {
        "products_sold": totals[0],
        "revenue": totals[1],
        "customers": totals[2],
        "revenue_per_day": per_day,
        "units_per_day": units_per_day,
    }


def chart(page: Any, name: str) -> dict[str, dict[str, float]]:
    """A chart's data as drawn: series label -> x label -> value."""
    data = page.evaluate(
        "name => { const c = window.dashboard.charts[name]; "
        "return { labels: c.data.labels, datasets: c.data.datasets.map(d => ({ label: d.label, data: d.data })) }; }",
        name,
    )
    return {dataset["label"]: dict(zip(data["labels"], dataset["data"], strict=True)) for dataset in data["datasets"]}


def test_insights_page_under_filters_equals_duckdb_over_the_same_delta_files(
    workspace: Workspace, tmp_path: Path
) -> None:
    write_lakehouse(workspace.root)
    start, end, gender, category = "2025-01-10", "2025-02-20", "Female", "Bikes"
    expected = expected_figures(workspace.root, start, end, gender, category)
    assert expected["customers"] > 10  # a real filter over many rows, not a lucky single one

    with dashboard_server(workspace, tmp_path / "serve.log") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/insights")
        wait_for_query(page, "")
        page.fill("#filter-start", start)
        page.fill("#filter-end", end)
        page.select_option("#filter-gender", [gender])
        page.select_option("#filter-category", [category])
        page.dispatch_event("#filters", "change")
        wait_for_query(page, f"start={start}&end={end}&gender={gender}&category={category}")

        def card(name: str) -> Any:
            return page.eval_on_selector(f"#card-{name}", "node => JSON.parse(node.dataset.value)")

        assert card("products-sold") == expected["products_sold"]
        assert card("revenue") == pytest.approx(expected["revenue"], abs=1e-6)
        assert card("customers") == expected["customers"]
        split = page.eval_on_selector_all(
            "#card-gender-split li", "items => items.map(i => [i.dataset.gender, JSON.parse(i.dataset.value)])"
        )
        assert split == [[gender, 100.0]]

        revenue_trend = chart(page, "revenue-trend")
        assert list(revenue_trend) == [gender]
        assert revenue_trend[gender] == pytest.approx(expected["revenue_per_day"], abs=1e-6)
        assert chart(page, "units-trend")[gender] == expected["units_per_day"]
        by_category = chart(page, "category-revenue")
        assert by_category == {gender: {category: pytest.approx(expected["revenue"], abs=1e-6)}}
        assert chart(page, "category-split") == {gender: {category: 100.0}}
        assert page.url.endswith(f"/insights?start={start}&end={end}&gender={gender}&category={category}")
        screenshot(page, "insights")

        for other in PAGES[1:]:
            page.goto(f"{url}/{other.path}")
            page.wait_for_function("document.body.dataset.state === 'ready'", timeout=20_000)
            assert page.query_selector("#missing-tables") is None
            assert page.eval_on_selector_all(".panel.error", "nodes => nodes.length") == 0
            screenshot(page, other.path)


def reorder_points_from_landing(workspace: Workspace) -> None:
    """gold/inventory_reorder_points as its batch job writes it (the largest point per store and item),
    written here with `deltalake` so that the test starts one Spark application only: the stream's."""
    import pandas as pd

    files = sorted((workspace.landing / "inventory/reorder_point").rglob("*.csv"))
    points = pd.concat(pd.read_csv(file, dtype=str) for file in files)
    points["reorder_point_quantity"] = points["reorder_point_quantity"].astype("int32")
    largest = points.groupby(["store_id", "item_id"], as_index=False)["reorder_point_quantity"].max()
    write_deltalake(
        str(workspace.root / "gold/inventory_reorder_points"),
        largest.rename(columns={"item_id": "product_id"}),
    )


def latest_version(table: Path) -> int:
    return max(int(log.stem) for log in (table / "_delta_log").glob("*.json"))


@pytest.mark.long
def test_inventory_page_follows_a_running_stream_without_a_reload(workspace: Workspace, tmp_path: Path) -> None:
    generate_landing(workspace.landing, GeneratorOptions(scale=0.02, days=2))
    reorder_points_from_landing(workspace)
    held = tmp_path / "held"
    for feed in ("changes", "snapshots"):  # the second day's files arrive while the page is open
        (held / feed).mkdir(parents=True)
        (workspace.landing / "inventory" / feed / "2025-01-02").rename(held / feed / "2025-01-02")
    positions = workspace.root / "gold/inventory_positions"

    stream = subprocess.Popen(
        [str(LAKEHOUSE), "stream", "inventory", "--trigger", "1"],
        cwd=workspace.cwd,
        env=workspace.env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stream.log").open("wb"),
        start_new_session=True,
    )
    try:
        wait_for_version(positions / "_delta_log", 1, stream)  # version 0 creates the table, 1 is the first batch
        with dashboard_server(workspace, tmp_path / "serve.log") as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/inventory")
            page.wait_for_function("document.body.dataset.state === 'ready'", timeout=20_000)
            page.evaluate("window.sameDocument = true")
            first = stock_by_store(page)
            assert first == stock_in_delta(positions)

            for feed in ("changes", "snapshots"):
                (held / feed / "2025-01-02").rename(workspace.landing / "inventory" / feed / "2025-01-02")
            page.wait_for_function(
                "JSON.parse(document.getElementById('card-positions-version').dataset.value || '0') >= 2",
                timeout=120_000,
            )
            screenshot(page, "inventory-live")
            os.killpg(stream.pid, signal.SIGKILL)
            stream.wait()
            # The page keeps refreshing; once it shows the last committed version, its figures are that version's.
            last = latest_version(positions)
            page.wait_for_function(
                f"JSON.parse(document.getElementById('card-positions-version').dataset.value) === {last}",
                timeout=30_000,
            )
            assert page.evaluate("window.sameDocument") is True  # refreshed in place, never reloaded
            second = stock_by_store(page)
            assert second == stock_in_delta(positions)
            assert second != first
    finally:
        if stream.poll() is None:
            os.killpg(stream.pid, signal.SIGKILL)
            stream.wait()


def stock_by_store(page: Any) -> dict[str, int]:
    return {store: int(value) for store, value in chart(page, "stock-by-store")["quantity_on_hand"].items()}


def stock_in_delta(positions: Path) -> dict[str, int]:
    found = duckdb_over_delta().execute(
        f"SELECT store_id, sum(quantity_on_hand) FROM delta_scan('{positions}') GROUP BY store_id"
    )
    return {store: int(total) for store, total in found.fetchall()}
