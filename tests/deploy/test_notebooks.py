"""Every notebook under notebooks/ runs top to bottom on a local Spark session (the runner stands in for
Databricks' spark, display and dbutils.widgets) against a small lakehouse: the dashboard's hand-built
gold tables plus hand-written run records, rule results and quarantine rows. What the notebooks display
is checked against figures worked out by hand (the same as the dashboard's tests, for the same data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.explore.notebooks import NotebookRun, run_notebook
from retail_lakehouse.ops.run_history import JOB_RUNS_SCHEMA
from retail_lakehouse.quality.quarantine import QUARANTINE_SCHEMA
from retail_lakehouse.quality.results import DQ_RESULTS_SCHEMA
from tests.conftest import REPO_ROOT
from tests.unit.serve.gold_lakehouse import write_gold

NOTEBOOKS = REPO_ROOT / "notebooks"
UTC = dt.UTC


def at(day: int, hour: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 1, day, hour, 0, second, tzinfo=UTC)


def run_row(run_id: str, job: str, status: str, start: dt.datetime, seconds: int, **counts: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(JOB_RUNS_SCHEMA.fieldNames())
    row.update(run_id=run_id, job=job, env="local", status=status, started_at=start)
    row["ended_at"] = start + dt.timedelta(seconds=seconds)
    row.update(counts)
    return row


def dq_row(run_id: str, rule: str, severity: str, checked: int, rejected: int) -> tuple[Any, ...]:
    return (
        run_id, "silver/customers", "customers", "expect_" + rule, rule, severity, rejected == 0,
        checked, rejected, 100.0 * rejected / checked, at(1, 1),
    )  # fmt: skip


@pytest.fixture(scope="module")
def lakehouse(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("notebook-lakehouse")
    write_gold(root)
    runs = [
        run_row("r1", "silver_customers", "succeeded", at(1, 1), 30, rows_read=10, rows_written=8,
                rows_quarantined=2, duplicates_dropped=0, quality_score=0.9, rule_evaluations=20, rule_passes=18),
        run_row("r2", "silver_customers", "failed", at(2, 1), 5, error="boom"),
        run_row("r3", "gold_sales_daily", "succeeded", at(2, 2), 60, rows_read=100, rows_written=40),
    ]  # fmt: skip
    spark.createDataFrame(runs, JOB_RUNS_SCHEMA).write.format("delta").save(str(root / "_ops/job_runs"))
    results = [
        dq_row("r1", "email_format", "warning", 10, 2),
        dq_row("r1", "id_not_null", "critical", 10, 0),
        dq_row("r2", "email_format", "warning", 5, 1),
    ]
    spark.createDataFrame(results, DQ_RESULTS_SCHEMA).write.format("delta").save(str(root / "_ops/dq_results"))
    quarantined = [
        ("r1", "silver_customers", ["email_format"], "C7", '{"email": "x"}', "customers.csv", at(1, 1)),
        ("r1", "silver_customers", ["email_format", "id_not_null"], None, '{"email": "y"}', "customers.csv", at(1, 1)),
    ]
    spark.createDataFrame(quarantined, QUARANTINE_SCHEMA).write.format("delta").save(
        str(root / "silver/customers_quarantine")
    )
    yield root


def run(name: str, lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession,
        **widgets: str) -> NotebookRun:  # fmt: skip
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(lakehouse))
    monkeypatch.setenv("LAKEHOUSE_LANDING", str(lakehouse / "landing"))
    given = {"env": "local", "conf_dir": str(REPO_ROOT / "conf"), **widgets}
    return run_notebook(NOTEBOOKS / name, spark, given, tmp_path / "figures")


def tables(result: NotebookRun) -> list[pd.DataFrame]:
    return [value for kind, value in result.displayed.items if kind == "table"]


def figures(result: NotebookRun) -> list[Path]:
    paths = [value for kind, value in result.displayed.items if kind == "figure"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000, path
    return paths


def records(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in frame[list(columns)].itertuples(index=False)]


def test_the_notebooks_are_databricks_source_notebooks() -> None:
    names = sorted(path.name for path in NOTEBOOKS.glob("*.py"))
    assert names == [
        "customer_insights.py",
        "data_quality.py",
        "gold_tour.py",
        "inventory_monitor.py",
        "run_history.py",
    ]
    for name in names:
        text = (NOTEBOOKS / name).read_text()
        assert text.startswith("# Databricks notebook source\n"), name
        assert text.count("\n# COMMAND ----------\n") >= 3, name


def test_gold_tour_shows_every_gold_table_with_its_row_count_and_plots(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run("gold_tour.py", lakehouse, tmp_path, monkeypatch, spark)
    sizes = tables(result)[0]
    written = sorted(f"gold/{path.name}" for path in (lakehouse / "gold").iterdir())
    assert sorted(sizes["table"]) == written
    # Row counts as an independent reader (delta-rs) counts them.
    for name, rows in zip(sizes["table"], sizes["rows"], strict=True):
        assert rows == DeltaTable(str(lakehouse / name)).to_pyarrow_table().num_rows, name
    # A sample per table, the top stores and the rules; plots: revenue per channel, top stores (no
    # elasticity or forecast table in this lakehouse, so no plot of them).
    assert len(tables(result)) == 1 + len(written) + 2
    assert len(figures(result)) == 2


def test_customer_insights_kpis_without_a_filter(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run("customer_insights.py", lakehouse, tmp_path, monkeypatch, spark)
    totals, genders, categories = tables(result)
    assert records(totals, "products_sold", "customers") == [(21, 5)]
    assert float(totals["revenue"][0]) == 588.30
    # C1 bought on all three days and counts once; 'Not recorded' and an unknown customer read Unknown.
    assert records(genders, "gender", "customers", "customers_pct") == [
        ("Female", 1, 20.0), ("Male", 1, 20.0), ("Other", 1, 20.0), ("Unknown", 2, 40.0)
    ]  # fmt: skip
    assert float(categories["revenue"].sum()) == 588.30
    assert len(figures(result)) == 2


def test_customer_insights_widgets_filter_dates_genders_and_categories(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run(
        "customer_insights.py", lakehouse, tmp_path, monkeypatch, spark,
        start="2025-01-02", end="2025-01-03", gender="Female,Unknown", category="Bikes",
    )  # fmt: skip
    totals, genders, categories = tables(result)
    assert records(totals, "products_sold", "customers") == [(5, 2)]
    assert float(totals["revenue"][0]) == 250.0
    assert records(genders, "gender", "customers", "customers_pct") == [("Female", 1, 50.0), ("Unknown", 1, 50.0)]
    assert set(categories["category"]) == {"Bikes"}


def test_customer_insights_refuses_a_gender_the_data_never_had(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    with pytest.raises(Exception, match=r"customer_insights.py: cell 3 failed: ValueError: widget 'gender'"):
        run("customer_insights.py", lakehouse, tmp_path, monkeypatch, spark, gender="Nobody")


def test_inventory_monitor_lists_short_positions_stock_by_store_and_alerts(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run("inventory_monitor.py", lakehouse, tmp_path, monkeypatch, spark)
    short, by_store, alerts = tables(result)
    # 1/A below safety (10) and its reorder point (20); 2/A below its reorder point only; 2/C below safety,
    # with no reorder point; 1/B above both.
    assert records(short, "store_id", "product_id", "shortfall") == [("1", "A", 15), ("2", "A", 4), ("2", "C", 2)]
    assert records(by_store, "store_id", "positions", "quantity_on_hand", "below_safety_stock",
                   "below_reorder_point") == [("1", 2, 35, 1, 1), ("2", 2, 10, 1, 1)]  # fmt: skip
    assert records(alerts, "store_id", "product_id", "alert_type")[:2] == [
        ("2", "C", "safety_stock"), ("2", "A", "reorder_point")
    ]  # fmt: skip
    assert len(figures(result)) == 1
    one_store = run("inventory_monitor.py", lakehouse, tmp_path, monkeypatch, spark, store="2")
    assert records(tables(one_store)[0], "store_id", "product_id") == [("2", "A"), ("2", "C")]


def test_data_quality_review_sums_rule_results_and_quarantine(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run("data_quality.py", lakehouse, tmp_path, monkeypatch, spark)
    rules, by_rule, sample = tables(result)
    assert records(rules, "rule", "runs", "rows_checked", "rows_rejected", "runs_failed", "rejected_pct") == [
        ("email_format", 2, 15, 3, 2, 20.0), ("id_not_null", 1, 10, 0, 0, 0.0)
    ]  # fmt: skip
    # The row that broke two rules counts under both.
    assert records(by_rule, "quarantine", "rule", "rows") == [
        ("silver/customers_quarantine", "email_format", 2), ("silver/customers_quarantine", "id_not_null", 1)
    ]  # fmt: skip
    assert len(sample) == 2
    assert len(figures(result)) == 1


def test_run_history_shows_the_latest_run_per_job_and_runs_per_day(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark: SparkSession
) -> None:
    result = run("run_history.py", lakehouse, tmp_path, monkeypatch, spark)
    latest, per_day = tables(result)
    assert records(latest, "job", "status", "seconds", "error") == [
        ("gold_sales_daily", "succeeded", 60.0, None), ("silver_customers", "failed", 5.0, "boom")
    ]  # fmt: skip
    assert [(str(day), status, count) for day, status, count in records(per_day, "day", "status", "runs")] == [
        ("2025-01-01", "succeeded", 1), ("2025-01-02", "failed", 1), ("2025-01-02", "succeeded", 1)
    ]  # fmt: skip
    assert len(figures(result)) == 1
