"""The forecast jobs through the CLI on generated data, each table checked against a recomputation in pandas
from the landing files (sales, stock) or from the tables it is made of (accuracy, replenishment)."""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from statistics import NormalDist

import pandas as pd
import pytest
from deltalake import DeltaTable

from tests.conftest import REPO_ROOT
from tests.integration.conftest import Workspace

pytestmark = pytest.mark.integration

JOBS = [
    "bronze_stores", "bronze_categories", "bronze_suppliers", "bronze_products", "bronze_pos_transactions",
    "bronze_inventory_changes", "bronze_inventory_snapshots", "bronze_weather",
    "silver_stores", "silver_suppliers", "silver_categories", "silver_products", "silver_transaction_lines",
    "silver_inventory_changes", "silver_inventory_snapshots", "silver_weather", "gold_sales_daily",
    "gold_demand_features", "gold_forecast_backtest", "gold_forecast_accuracy", "gold_demand_forecast",
    "gold_replenishment",
]  # fmt: skip
HORIZON = 7
TOP = 5
SETTINGS = [
    f"--set=jobs.gold_demand_features.params.top_products={TOP}",
    *(
        f"--set=jobs.{job}.params={{horizon_days: {HORIZON}, backtest_origins: 3, partitions: 2}}"
        for job in ("gold_forecast_backtest", "gold_forecast_accuracy", "gold_demand_forecast")
    ),
]


def table(root: Path, name: str) -> pd.DataFrame:
    return DeltaTable(str(root / name)).to_pandas()


def landed_sales(landing: Path) -> pd.DataFrame:
    """Units and net revenue per store, product and day, summed from the POS files."""
    rows = []
    for file in sorted((landing / "pos_transactions").rglob("*.jsonl")):
        for line in file.read_text().splitlines():
            sale = json.loads(line)
            for item in sale["lines"]:
                quantity = int(item["quantity"])
                net = quantity * float(item["unit_price"]) - float(item["discount"])
                rows.append((str(sale["store_id"]), str(item["product_id"]), sale["timestamp"][:10], quantity, net))
    frame = pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity", "net"])
    return frame.groupby(["store_id", "product_id", "date"], as_index=False)[["quantity", "net"]].sum()


def landed_closing_stock(landing: Path) -> dict[tuple[str, str, str], int]:
    """Stock per store, item and day with events, replayed from the counts and change events: a count sets
    the level, every change at or after its time adds to it; BOPIS at the online store moves nothing."""
    events: list[tuple[str, str, str, int, int]] = []  # store, item, time, order (count first), quantity
    for file in (landing / "inventory/snapshots").rglob("*.csv"):
        counts = pd.read_csv(file, dtype=str)
        events += [(r.store_id, r.item_id, r.date_time, 0, int(r.quantity)) for r in counts.itertuples()]
    for file in (landing / "inventory/changes").rglob("*.jsonl"):
        for line in file.read_text().splitlines():
            change = json.loads(line)
            if change["change_type_id"] == 4 and str(change["store_id"]) == "0":
                continue
            for item in change["items"]:
                events.append((str(change["store_id"]), str(item["item_id"]), change["date_time"], 1, item["quantity"]))
    levels: dict[tuple[str, str], int] = {}
    closing: dict[tuple[str, str, str], int] = {}
    for store, item, time, order, quantity in sorted(events, key=lambda e: (e[0], e[1], e[2], e[3])):
        if order == 0:
            levels[(store, item)] = quantity
        elif (store, item) in levels:
            levels[(store, item)] += quantity
        if (store, item) in levels:
            closing[(store, item, time[:10])] = levels[(store, item)]
    return closing


@pytest.mark.long
def test_forecast_jobs_on_generated_data_match_recomputations(workspace: Workspace) -> None:
    root, landing = workspace.root, workspace.landing
    generated = workspace.run("generate", "--scale", "0.02", "--days", "60", "--dirty-rate", "0")
    assert generated.returncode == 0, generated.stderr
    first = workspace.run("run", *JOBS, *SETTINGS)
    assert first.returncode == 0, first.stderr

    # Features: the top products by net revenue; every day from a series' first sale, 0 without sales.
    sales = landed_sales(landing)
    top = sales.groupby("product_id")["net"].sum().sort_values(ascending=False).index[:TOP]
    scoped = sales[sales["product_id"].isin(top)]
    last = sales["date"].max()
    expected: dict[tuple[str, str, str], int] = {}
    for (store, product), rows in scoped.groupby(["store_id", "product_id"]):
        sold = dict(zip(rows["date"], rows["quantity"], strict=True))
        for day in pd.date_range(rows["date"].min(), last).strftime("%Y-%m-%d"):
            expected[(store, product, day)] = int(sold.get(day, 0))
    features = table(root, "gold/demand_features")
    got = {(r.store_id, r.product_id, str(r.date)): r.quantity_sold for r in features.itertuples()}
    assert got == expected

    # Stock: the closing level carried over days without events; a day ending with none is a stock-out.
    closing = landed_closing_stock(landing)
    carried: dict[tuple[str, str], int] = {}
    stock_outs = 0
    for r in features.sort_values(["store_id", "product_id", "date"]).itertuples():
        key = (r.store_id, r.product_id)
        carried[key] = closing.get((r.store_id, r.product_id, str(r.date)), carried.get(key, -1))
        assert carried[key] >= 0, r  # every item is counted on the first day: its level is always known
        assert r.closing_stock == carried[key], r
        assert r.stock_out == (carried[key] <= 0), r
        stock_outs += r.stock_out
    planted = json.loads((landing / "_manifest.json").read_text())["planted"]["demand"]["stock_outs"]
    assert stock_outs <= planted["store_product_days"]  # the scope holds some of the generator's stock-outs

    # Backtest: 3 origins x 7 days x every model, for each series with history before the origin.
    backtest = table(root, "gold/forecast_backtest")
    series = {(s, p) for s, p, _ in expected}
    assert set(zip(backtest["store_id"], backtest["product_id"], strict=True)) <= series
    assert sorted(backtest["model"].unique()) == ["ets", "lightgbm", "seasonal_naive"]
    assert sorted(backtest["horizon_day"].unique()) == list(range(1, HORIZON + 1))
    truth = {(r.store_id, r.product_id, str(r.date)): r.quantity_sold for r in features.itertuples()}
    assert all(truth[(r.store_id, r.product_id, str(r.date))] == r.actual for r in backtest.itertuples())

    # Accuracy: WAPE and coverage per model over the whole backtest, recomputed from its rows.
    accuracy = table(root, "gold/forecast_accuracy")
    overall = accuracy[
        accuracy["origin_date"].isna() & (accuracy["horizon_week"] == 0) & (accuracy["category"] == "All")
    ]
    clean = backtest[~backtest["stock_out"]]
    for model, rows in clean.groupby("model"):
        row = overall[overall["model"] == model].iloc[0]
        assert row["wape"] == pytest.approx((rows["p50"] - rows["actual"]).abs().sum() / rows["actual"].sum())
        covered = ((rows["p10"] <= rows["actual"]) & (rows["actual"] <= rows["p90"])).mean()
        assert row["coverage_p10_p90"] == pytest.approx(covered)

    # Forecast: every active series, each of the 7 days, by the model with the least backtest error.
    forecast = table(root, "gold/demand_forecast")
    assert len(forecast) == len(series) * HORIZON
    errors: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (store, product, model), rows in clean.groupby(["store_id", "product_id", "model"]):
        errors[(store, product)][model] = float((rows["p50"] - rows["actual"]).abs().sum())
    for (store, product), rows in forecast.groupby(["store_id", "product_id"]):
        by_model = errors.get((store, product))
        if by_model:
            order = ["lightgbm", "seasonal_naive", "ets"]
            best = min(by_model, key=lambda m: (round(by_model[m], 9), order.index(m)))
            assert set(rows["model"]) == {best}

    # Replenishment: lead-time demand + safety stock, no stock position yet (the stream has not run).
    replenishment = table(root, "gold/replenishment")
    suppliers = pd.concat(pd.read_csv(f, dtype=str) for f in (landing / "suppliers").rglob("*.csv"))
    products = pd.concat(pd.read_csv(f, dtype=str) for f in (landing / "products").rglob("*.csv"))
    lead = products.drop_duplicates("product_id", keep="last").merge(suppliers, on="supplier_id")
    lead_days = dict(zip(lead["product_id"], lead["lead_time_days"].astype(int), strict=True))
    z = NormalDist().inv_cdf(0.95)
    assert len(replenishment) == len(series)
    for r in replenishment.itertuples():
        days = forecast[(forecast["store_id"] == r.store_id) & (forecast["product_id"] == r.product_id)]
        model = days["model"].iloc[0]
        within = days[days["horizon_day"] <= lead_days[r.product_id]]["mean"].sum()
        demand = within + max(lead_days[r.product_id] - HORIZON, 0) * days["mean"].mean()
        errors_of = clean[(clean["store_id"] == r.store_id) & (clean["product_id"] == r.product_id)]
        errors_of = errors_of[errors_of["model"] == model]
        rmse = math.sqrt(((errors_of["mean"] - errors_of["actual"]) ** 2).mean()) if len(errors_of) else 0.0
        safety = z * rmse * math.sqrt(lead_days[r.product_id])
        assert r.forecast_lead_time_demand == pytest.approx(round(demand, 3), abs=1e-3)
        assert r.safety_stock == pytest.approx(round(safety, 3), abs=1e-3)
        assert pd.isna(r.quantity_on_hand)
        assert r.order_quantity == max(math.ceil(demand + safety), 0)

    # Nothing new: the feature job, run all the same, keeps the table's version.
    version = DeltaTable(str(root / "gold/demand_features")).version()
    again = workspace.run("run", "gold_demand_features", "--force", *SETTINGS)
    assert again.returncode == 0, again.stderr
    assert DeltaTable(str(root / "gold/demand_features")).version() == version

    # The notebooks run top to bottom on the lakehouse these jobs wrote (real schemas, a real forecast).
    notebooks = [str(REPO_ROOT / "notebooks" / name) for name in ("gold_tour.py", "data_quality.py", "run_history.py")]
    ran = workspace.run(
        "-m", "retail_lakehouse.explore.notebooks", *notebooks, "--widget", "env=local",
        "--output", str(workspace.cwd / "figures"), command=[sys.executable],
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    for notebook in notebooks:
        assert f"{notebook}: " in ran.stderr
    # Plots of revenue per channel and of the forecast band (no store, elasticity or rule table here).
    assert len(list((workspace.cwd / "figures" / "gold_tour").glob("*.png"))) == 2
