"""Full and incremental extraction from a real embedded database (SQLite through its JDBC driver)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.ops import watermarks
from retail_lakehouse.ops.run_history import FAILED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from tests.helpers import write_conf
from tests.unit.io.test_jdbc import crm_database


def extraction_config(tmp_path: Path, database: Path, watermark_column: str = "updated_at") -> LoadedConfig:
    ingest = {"transform": "bronze.ingest", "inputs": {"source": "feed:crm_customers"}}
    base: dict[str, dict[str, Any]] = {
        "lakehouse": {"storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path / "lake")}},
        "feeds": {
            "feeds": {
                "crm_customers": {
                    "format": "jdbc",
                    "url": f"jdbc:sqlite:{database}",
                    "table": "customers",
                    "watermark_column": watermark_column,
                }
            }
        },
        "tables": {
            "tables": {"bronze/crm_customers": {"partition_by": ["_ingest_date"]}, "bronze/crm_customers_full": {}}
        },
        "jobs": {
            "jobs": {
                "bronze_crm_customers": {
                    "description": "changed rows",
                    **ingest,
                    "output": "bronze/crm_customers",
                    "incremental": True,
                    "write": {"mode": "append"},
                },
                "bronze_crm_customers_full": {
                    "description": "whole table",
                    **ingest,
                    "output": "bronze/crm_customers_full",
                    "write": {"mode": "overwrite"},
                },
            }
        },
    }
    return load_config(transforms=catalogue(), conf_dir=write_conf(tmp_path / "conf", base), environ={})


def bronze_ids(spark: SparkSession, loaded: LoadedConfig, table: str = "bronze/crm_customers") -> list[tuple[int, str]]:
    rows = spark.read.format("delta").load(loaded.config.storage.table_path(table)).collect()
    return sorted((r.customer_id, r.segment) for r in rows)


def test_full_extraction_replaces_the_table(spark: SparkSession, tmp_path: Path) -> None:
    database = crm_database(tmp_path / "crm.db")
    loaded = extraction_config(tmp_path, database)
    runner = JobRunner(spark, loaded)
    assert (runner.run("bronze_crm_customers_full").rows_written) == 3
    crm_database(database, [(2, "Bob", "Gold", "2025-01-05 08:00:00", 13)])
    run = runner.run("bronze_crm_customers_full")
    assert (run.rows_read, run.rows_written) == (3, 3)
    assert bronze_ids(spark, loaded, "bronze/crm_customers_full") == [(1, "Gold"), (2, "Gold"), (3, "Bronze")]


@pytest.mark.parametrize("watermark_column", ["updated_at", "row_version"])
def test_incremental_extraction_takes_only_new_and_changed_rows(
    spark: SparkSession, tmp_path: Path, watermark_column: str
) -> None:
    database = crm_database(tmp_path / "crm.db")
    loaded = extraction_config(tmp_path, database, watermark_column)
    runner = JobRunner(spark, loaded)

    first = runner.run("bronze_crm_customers")
    assert (first.status, first.rows_read, first.rows_written) == (SUCCEEDED, 3, 3)
    nothing_new = runner.run("bronze_crm_customers")
    assert (nothing_new.rows_read, nothing_new.rows_written) == (0, 0)

    crm_database(
        database, [(2, "Bob", "Gold", "2025-01-05 08:00:00", 13), (4, "Dee", "Silver", "2025-01-05 09:00:00", 14)]
    )
    changed = runner.run("bronze_crm_customers")
    assert (changed.rows_read, changed.rows_written) == (2, 2)
    # Bronze keeps every version it received: Bob as Silver, then as Gold.
    assert bronze_ids(spark, loaded) == [(1, "Gold"), (2, "Gold"), (2, "Silver"), (3, "Bronze"), (4, "Silver")]

    marks = spark.read.format("delta").load(f"{loaded.config.storage.ops_root}/jdbc_watermarks")
    committed = marks.where("status = 'committed'").orderBy("extraction").collect()
    highs = [r.high for r in committed]
    assert highs == (
        ["2025-01-03T09:00:00", "2025-01-05T09:00:00"] if watermark_column == "updated_at" else ["12", "14"]
    )
    assert [r.low for r in committed] == [None, highs[0]]


def test_a_crash_after_the_bronze_write_is_not_repeated(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = crm_database(tmp_path / "crm.db")
    loaded = extraction_config(tmp_path, database)
    runner = JobRunner(spark, loaded)
    original = watermarks.WatermarkStore.record

    def crash_on_commit(self: watermarks.WatermarkStore, extraction: watermarks.Extraction, run_id: str) -> None:
        if extraction.committed:
            raise RuntimeError("killed before the watermark was committed")
        original(self, extraction, run_id)

    monkeypatch.setattr(watermarks.WatermarkStore, "record", crash_on_commit)
    crashed = runner.run("bronze_crm_customers")
    assert (crashed.status, crashed.error) == (FAILED, "RuntimeError: killed before the watermark was committed")
    assert len(bronze_ids(spark, loaded)) == 3  # bronze was written, the watermark was not

    monkeypatch.setattr(watermarks.WatermarkStore, "record", original)
    crm_database(database, [(5, "Eve", "Gold", "2025-01-06 10:00:00", 15)])
    redo = runner.run("bronze_crm_customers")
    assert (redo.status, redo.rows_read, redo.rows_written) == (SUCCEEDED, 0, 0)
    after = runner.run("bronze_crm_customers")
    assert (after.rows_read, after.rows_written) == (1, 1)
    assert bronze_ids(spark, loaded) == [(1, "Gold"), (2, "Silver"), (3, "Bronze"), (5, "Gold")]


def test_silver_reads_bronze_written_by_a_database_feed(spark: SparkSession, tmp_path: Path) -> None:
    database = tmp_path / "erp.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE suppliers (supplier_id TEXT, name TEXT, country TEXT, lead_time_days TEXT)")
        connection.executemany(
            "INSERT INTO suppliers VALUES (?, ?, ?, ?)", [("S1", " Acme ", "es", "5"), ("S2", "Bolt", "fr", "-1")]
        )
    base: dict[str, dict[str, Any]] = {
        "lakehouse": {"storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path / "lake")}},
        # No driver: the URL names SQLite's.
        "feeds": {
            "feeds": {"erp_suppliers": {"format": "jdbc", "url": f"jdbc:sqlite:{database}", "table": "suppliers"}}
        },
        "tables": {"tables": {"bronze/suppliers": {}, "silver/suppliers": {}}},
        "quality": {"quality": {"suppliers": {"max_bad_share": 1, "rules": [SUPPLIER_LEAD_TIME_RULE]}}},
        "jobs": {
            "jobs": {
                "bronze_suppliers": {
                    "description": "whole table",
                    "transform": "bronze.ingest",
                    "inputs": {"source": "feed:erp_suppliers"},
                    "output": "bronze/suppliers",
                    "write": {"mode": "overwrite"},
                },
                "silver_suppliers": {
                    "description": "typed suppliers",
                    "transform": "silver.suppliers",
                    "inputs": {"source": "bronze/suppliers"},
                    "output": "silver/suppliers",
                    "write": {"mode": "merge", "keys": ["supplier_id"]},
                    "quality": "suppliers",
                },
            }
        },
    }
    loaded = load_config(transforms=catalogue(), conf_dir=write_conf(tmp_path / "conf", base), environ={})
    runner = JobRunner(spark, loaded)
    assert runner.run("bronze_suppliers").status == SUCCEEDED
    silver = runner.run("silver_suppliers")
    assert (silver.status, silver.error, silver.rows_read, silver.rows_written, silver.rows_quarantined) == (
        SUCCEEDED, None, 2, 1, 1
    )  # fmt: skip
    rows = spark.read.format("delta").load(loaded.config.storage.table_path("silver/suppliers")).collect()
    assert [(r.supplier_id, r.name, r.country, r.lead_time_days) for r in rows] == [("S1", "Acme", "ES", 5)]
    (quarantined,) = (
        spark.read.format("delta").load(loaded.config.storage.table_path("silver/suppliers_quarantine")).collect()
    )
    assert (quarantined.rules, quarantined.source_file) == (["lead_time_not_negative"], "jdbc:suppliers")


SUPPLIER_LEAD_TIME_RULE = {
    "name": "lead_time_not_negative",
    "expectation": "expect_column_values_to_be_between",
    "kwargs": {"column": "lead_time_days", "min_value": 0},
}
