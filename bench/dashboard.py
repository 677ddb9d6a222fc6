"""Benchmark: the dashboard's read API under 8 concurrent clients, the same queries through Spark SQL on the
same Delta tables, and the insights page's time to a drawn chart in headless Chromium.

    .venv/bin/python bench/dashboard.py [--root lakehouse] [--clients 8] [--requests 800] [--workers 2]

Run it on a lakehouse built by `make demo` (scale 1). Each API request carries filters (a date range, and
genders, categories, regions or channels drawn at random from the data's values), so no two requests in a
row are alike. Prints p50/p95 per endpoint, Spark's median for the equivalent query, and their ratio;
results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.runtime.local_process import free_port, stop_process, wait_until_listening
from retail_lakehouse.runtime.spark import get_spark_session

REPO = Path(__file__).resolve().parent.parent
LAKEHOUSE = Path(sys.executable).parent / "lakehouse"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

# Endpoint -> a function drawing its filter parameters from the data's filter values.
Draw = Callable[[random.Random, dict[str, Any]], list[tuple[str, str]]]


def date_range(rng: random.Random, options: dict[str, Any]) -> list[tuple[str, str]]:
    first, last = dt.date.fromisoformat(options["start"]), dt.date.fromisoformat(options["end"])
    span = (last - first).days
    start = first + dt.timedelta(days=rng.randrange(span // 2))
    end = start + dt.timedelta(days=rng.randrange(7, span // 2))
    return [("start", start.isoformat()), ("end", min(end, last).isoformat())]


def some(rng: random.Random, options: dict[str, Any], name: str) -> list[tuple[str, str]]:
    return [(name, value) for value in rng.sample(options[name], rng.randrange(1, 3))]


def insights(rng: random.Random, options: dict[str, Any]) -> list[tuple[str, str]]:
    return [*date_range(rng, options), *some(rng, options, "gender"), *some(rng, options, "category")]


def sales(rng: random.Random, options: dict[str, Any]) -> list[tuple[str, str]]:
    return [*date_range(rng, options), *some(rng, options, "region"), *some(rng, options, "channel")]


ENDPOINTS: dict[str, tuple[str, Draw]] = {
    "insights/cards": ("insights", insights),
    "insights/trend": ("insights", insights),
    "insights/by-category": ("insights", insights),
    "sales/by-region-category": ("sales", sales),
    "sales/stores": ("sales", sales),
    "sales/trend": ("sales", sales),
    "inventory/short-positions": ("inventory", lambda rng, options: []),
    "customers/segments": ("customers", lambda rng, options: []),
}

# The same aggregations in Spark SQL over the same tables (the filters of one typical request).
SPARK_QUERIES = {
    "insights/cards": """
        SELECT sum(products_sold), sum(revenue), count(DISTINCT customer_id) FROM ccd
        WHERE sale_date BETWEEN '2025-02-01' AND '2025-02-28' AND category IN ('Bikes', 'Clothing')
          AND (CASE gender WHEN 'F' THEN 'Female' WHEN 'M' THEN 'Male' WHEN 'O' THEN 'Other' ELSE 'Unknown' END)
              IN ('Female', 'Unknown')""",
    "insights/by-category": """
        SELECT category, gender, sum(revenue), sum(products_sold), count(DISTINCT customer_id) FROM ccd
        WHERE sale_date BETWEEN '2025-02-01' AND '2025-02-28' GROUP BY category, gender""",
    "sales/by-region-category": """
        SELECT st.region, p.department, sum(s.net_revenue), sum(s.quantity_sold)
        FROM sd s LEFT JOIN sp st USING (store_id) LEFT JOIN pp p USING (product_id)
        WHERE s.sale_date BETWEEN '2025-02-01' AND '2025-02-28' AND s.channel IN ('Store', 'Online')
        GROUP BY st.region, p.department""",
    "customers/segments": "SELECT rfm_segment, count(*), sum(lifetime_value) FROM c360 GROUP BY rfm_segment",
}
SPARK_VIEWS = {
    "ccd": "gold/customer_category_daily",
    "sd": "gold/sales_daily",
    "sp": "gold/store_performance",
    "pp": "gold/product_performance",
    "c360": "gold/customer_360",
}


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load_api(base: str, clients: int, requests: int) -> dict[str, list[float]]:
    options = {page: get(f"{base}/api/{page}/options") for page in ("insights", "sales", "inventory")}
    timings: dict[str, list[float]] = {endpoint: [] for endpoint in ENDPOINTS}
    lock = threading.Lock()

    def client(seed: int) -> None:
        # One kept-alive connection per client, as a browser keeps one per tab.
        connection = http.client.HTTPConnection(*urllib.parse.urlsplit(base).netloc.split(":"))
        rng = random.Random(seed)
        for index in range(requests // clients):
            endpoint = list(ENDPOINTS)[(seed + index) % len(ENDPOINTS)]
            page, draw = ENDPOINTS[endpoint]
            query = urllib.parse.urlencode(draw(rng, options.get(page, {})))
            started = time.perf_counter()
            connection.request("GET", f"/api/{endpoint}?{query}")
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status == 200, (endpoint, query, body[:200])
            with lock:
                timings[endpoint].append(elapsed)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def spark_medians(root: Path, repeat: int) -> dict[str, float]:
    spark = get_spark_session(SparkSettings(session="local", master="local[2]", shuffle_partitions=4))
    for view, table in SPARK_VIEWS.items():
        spark.read.format("delta").load(str(root / table)).createOrReplaceTempView(view)
    medians = {}
    for endpoint, sql in SPARK_QUERIES.items():
        spark.sql(sql).collect()  # warm-up: plans, JIT, file listing
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            spark.sql(sql).collect()
            runs.append((time.perf_counter() - started) * 1000)
        medians[endpoint] = statistics.median(runs)
    spark.stop()
    return medians


def page_to_chart(base: str, loads: int) -> list[float]:
    """Milliseconds from navigation to every chart of the insights page drawn (the page marks it)."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(loads):
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(f"{base}/insights")
            page.wait_for_function("document.body.dataset.state === 'ready'", timeout=30_000)
            times.append((time.perf_counter() - started) * 1000)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=REPO / "lakehouse")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=800, help="requests in all, spread over the clients")
    parser.add_argument("--spark-repeat", type=int, default=5)
    parser.add_argument("--page-loads", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="lakehouse serve --workers (one per core)")
    args = parser.parse_args()

    port = free_port()
    log = Path("/tmp") / f"bench-dashboard-{port}.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                *(str(LAKEHOUSE), "serve", "--port", str(port), "--workers", str(args.workers)),
                *("--set", f"storage.root={args.root.resolve()}"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(server, port, what="dashboard server", log=log, timeout_seconds=120)
        base = f"http://127.0.0.1:{port}"
        load_api(base, args.clients, len(ENDPOINTS) * args.clients)  # warm-up: every table loaded once
        started = time.perf_counter()
        timings = load_api(base, args.clients, args.requests)
        wall = time.perf_counter() - started
        chart_times = page_to_chart(base, args.page_loads)
    finally:
        stop_process(server)
    spark = spark_medians(args.root, args.spark_repeat)

    total = sum(len(values) for values in timings.values())
    print(f"lakehouse serve --workers {args.workers}")
    print(f"{args.clients} clients, {total} requests in {wall:.1f} s ({total / wall:.0f} requests/s)")
    print(f"{'endpoint':28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'spark p50 ms':>13} {'spark/api':>10}")
    for endpoint, values in timings.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        spark_ms = spark.get(endpoint)
        ratio = f"{spark_ms / p50:10.0f}" if spark_ms else f"{'':>10}"
        spark_text = f"{spark_ms:13.0f}" if spark_ms else f"{'':>13}"
        print(f"{endpoint:28} {len(values):4d} {p50:8.1f} {p95:8.1f} {spark_text} {ratio}")
    print(
        f"insights page to drawn charts: median {statistics.median(chart_times):.0f} ms, "
        f"max {max(chart_times):.0f} ms over {len(chart_times)} loads"
    )


if __name__ == "__main__":
    main()
