"""The gold_sales_daily job through the runner: it reads the change feed of silver lines, so a new day
rewrites only that day's rows, and a run with nothing new commits nothing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.delta_tables import current_version
from retail_lakehouse.ops.run_history import SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from tests.helpers import minimal_base, write_conf
from tests.unit.gold import silver_rows as rows

LINES_TABLE = "silver/transaction_lines"
DAY_1_AND_2: list[rows.Sale] = [
    ("T1", "C1", "2025-01-01 10:00:00", "Store", "1", [("P1", 2, "10.00", "1.00"), ("P2", 1, "5.00", "0.00")]),
    ("T2", None, "2025-01-01 11:00:00", "Store", "1", [("P1", 1, "10.00", "0.00")]),
    ("T3", "C2", "2025-01-02 10:00:00", "Online", "0", [("P2", 3, "5.00", "0.00")]),
]
DAY_3: list[rows.Sale] = [
    ("T4", "C1", "2025-01-03 09:00:00", "Store", "2", [("P1", 1, "12.00", "0.00"), ("P1", 2, "12.00", "2.00")]),
]


def config(tmp_path: Path) -> LoadedConfig:
    base = minimal_base(tmp_path / "lake", tmp_path / "landing")
    base["tables"]["tables"].update(
        {
            LINES_TABLE: {"partition_by": ["sale_date"], "properties": {"delta.enableChangeDataFeed": "true"}},
            "gold/sales_daily": {"partition_by": ["sale_date"]},
        }
    )
    base["jobs"]["jobs"]["gold_sales_daily"] = {
        "description": "daily sales",
        "transform": "gold.sales_daily",
        "incremental": True,
        "inputs": {"source": LINES_TABLE, "lines": LINES_TABLE},
        "output": "gold/sales_daily",
        "write": {"mode": "replace_where", "replace_column": "sale_date"},
    }
    return load_config(transforms=catalogue(), conf_dir=write_conf(tmp_path / "conf", base), environ={})


def merge_lines(spark: SparkSession, loaded: LoadedConfig, lines: DataFrame) -> None:
    """What silver_transaction_lines does: a MERGE on the line key."""
    path = loaded.config.storage.table_path(LINES_TABLE)
    delta_tables.ensure_table(spark, TableRef(path), lines.schema, loaded.config.tables[LINES_TABLE])
    delta_tables.merge(lines, TableRef(path), ["transaction_id", "line_number"])


def independent_totals(spark: SparkSession, path: str) -> dict[tuple[Any, ...], list[Any]]:
    """Net revenue and quantity per (date, store, product, channel), summed in Python from silver."""
    totals: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal("0")])
    for line in spark.read.format("delta").load(path).collect():
        key = (line.sale_date, line.store_id, line.product_id, line.channel)
        totals[key][0] += line.quantity
        totals[key][1] += line.net_amount
    return dict(totals)


def test_a_new_day_rewrites_only_that_day_and_a_rerun_commits_nothing(spark: SparkSession, tmp_path: Path) -> None:
    loaded = config(tmp_path)
    runner = JobRunner(spark, loaded)
    gold = loaded.config.storage.table_path("gold/sales_daily")
    merge_lines(spark, loaded, rows.lines(spark, DAY_1_AND_2))

    first = runner.run("gold_sales_daily")
    assert (first.status, first.rows_read, first.rows_written) == (SUCCEEDED, 4, 3), first.error
    version = current_version(spark, TableRef(gold))
    again = runner.run("gold_sales_daily", force=True)  # run although nothing is new (else: skipped)
    assert (again.status, again.rows_read, again.rows_written) == (SUCCEEDED, 0, 0)
    assert current_version(spark, TableRef(gold)) == version

    merge_lines(spark, loaded, rows.lines(spark, DAY_3))
    third = runner.run("gold_sales_daily")
    assert (third.status, third.rows_read, third.rows_written) == (SUCCEEDED, 2, 1), third.error
    last = DeltaTable.forPath(spark, gold).history(1).first()
    assert last is not None
    predicate = last.operationParameters["predicate"]
    assert "2025-01-03" in predicate and "2025-01-01" not in predicate and "2025-01-02" not in predicate
    assert int(last.operationMetrics["numRemovedFiles"]) == 0  # no file of an earlier day was rewritten

    ours = {
        (r.sale_date, r.store_id, r.product_id, r.channel): [r.quantity_sold, r.net_revenue]
        for r in spark.read.format("delta").load(gold).collect()
    }
    assert ours == independent_totals(spark, loaded.config.storage.table_path(LINES_TABLE))
