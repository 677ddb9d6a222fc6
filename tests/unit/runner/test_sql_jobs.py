"""SQL transforms run like built-in ones: every write mode, incremental inputs, a quality suite with
quarantine, reconciled counts, a query file beside the YAML. The bronze stores of the landing fixture:
0 online, 1 store_001, and two broken records (a third column; an unclosed quote)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.core.errors import ConfigError
from retail_lakehouse.ops.run_history import FAILED, SKIPPED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from tests.helpers import minimal_base, write_conf

STORES = "SELECT store_id, concat(name, :suffix) AS name, _ingested_at AS seen_at FROM raw"
SUFFIX = {"suffix": {"type": "string", "value": "!"}}


def sql_job(query: str, write: dict[str, Any], inputs: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "description": "stores by SQL",
        "transform": "sql",
        "inputs": inputs or {"raw": "bronze/stores"},
        "output": "silver/stores",
        "write": write,
        "params": {"query": query, "parameters": SUFFIX},
        **extra,
    }


def run(spark: SparkSession, tmp_path: Path, landing: Path, job: dict[str, Any], **base_extra: Any) -> JobRunner:
    base = minimal_base(tmp_path / "lake", landing)
    base["tables"]["tables"]["silver/stores"] = {}
    base["jobs"]["jobs"]["silver_stores"] = job
    base.update(base_extra)
    loaded = load_config(conf_dir=write_conf(tmp_path / "conf", base), environ={}, transforms=catalogue())
    runner = JobRunner(spark, loaded)
    assert runner.run("bronze_stores").status == SUCCEEDED
    return runner


def silver(spark: SparkSession, runner: JobRunner, *columns: str) -> list[tuple[Any, ...]]:
    path = runner.loaded.config.storage.table_path("silver/stores")
    return sorted(tuple(row) for row in spark.read.format("delta").load(path).select(*columns).collect())


WRITE_MODES = {
    "overwrite": {"mode": "overwrite"},
    "append": {"mode": "append"},
    "merge": {"mode": "merge", "keys": ["store_id"]},
    "replace_where": {"mode": "replace_where", "replace_column": "store_id"},
    "scd2": {"mode": "scd2", "keys": ["store_id"], "valid_from": "seen_at"},
}


def test_every_write_mode(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    """One job per write mode over the same bronze table, each run twice."""
    query = f"{STORES} WHERE _corrupt_record IS NULL"
    base = minimal_base(tmp_path / "lake", landing)
    for mode, write in WRITE_MODES.items():
        # Partitioned and described: a table created from its first batch's rows keeps its layout too.
        base["tables"]["tables"][f"silver/stores_{mode}"] = {
            "description": f"stores by {mode}",
            "partition_by": ["store_id"],
            "properties": {"classification": "internal"},
        }
        base["jobs"]["jobs"][f"silver_stores_{mode}"] = {**sql_job(query, write), "output": f"silver/stores_{mode}"}
    loaded = load_config(conf_dir=write_conf(tmp_path / "conf", base), environ={}, transforms=catalogue())
    runner = JobRunner(spark, loaded)
    assert runner.run("bronze_stores").status == SUCCEEDED
    for mode in WRITE_MODES:
        table = loaded.config.storage.table_path(f"silver/stores_{mode}")
        first = runner.run(f"silver_stores_{mode}")
        assert (first.status, first.rows_read, first.rows_written) == (SUCCEEDED, 4, 2), (mode, first.error)
        written = spark.read.format("delta").load(table).select("store_id", "name").collect()
        assert sorted(map(tuple, written)) == [("0", "online!"), ("1", "store_001!")], mode
        # A merge or overwrite into a table that does not exist yet creates it with its rows in one commit
        # (a MERGE into an empty table would insert them all); the other modes create it empty first.
        commits = [row["operation"] for row in DeltaTable.forPath(spark, table).history().collect()]
        first_commits = 1 if mode in ("merge", "overwrite") else 2
        assert (len(commits), commits[-1]) == (first_commits, "CREATE TABLE AS SELECT"), (mode, commits)
        detail = DeltaTable.forPath(spark, table).detail().first()
        assert (detail["description"], detail["partitionColumns"]) == (f"stores by {mode}", ["store_id"]), mode
        assert detail["properties"]["classification"] == "internal", mode
        # Forced: with nothing new only the non-incremental append would run (it appends every run).
        assert runner.run(f"silver_stores_{mode}", force=True).status == SUCCEEDED
        after_rerun = 4 if mode == "append" else 2  # a non-incremental append appends again
        assert spark.read.format("delta").load(table).count() == after_rerun, mode


def test_a_job_that_appends_every_run_or_reads_the_clock_runs_with_nothing_new(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    query = f"{STORES} WHERE _corrupt_record IS NULL"
    jobs = {
        "silver_stores_snapshot": sql_job(query, {"mode": "append"}),  # a snapshot per run
        "silver_stores_today": sql_job(f"SELECT *, current_date() AS day FROM ({query})", {"mode": "overwrite"}),
        "silver_stores_plain": sql_job(query, {"mode": "overwrite"}),
    }
    base = minimal_base(tmp_path / "lake", landing)
    for name, job in jobs.items():
        output = f"silver/{name.removeprefix('silver_')}"
        base["tables"]["tables"][output] = {}
        base["jobs"]["jobs"][name] = {**job, "output": output}
    loaded = load_config(conf_dir=write_conf(tmp_path / "conf", base), environ={}, transforms=catalogue())
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    assert [runner.run(name).status for name in jobs] == [SUCCEEDED] * 3
    assert [runner.run(name).status for name in jobs] == [SUCCEEDED, SUCCEEDED, SKIPPED]
    snapshots = spark.read.format("delta").load(loaded.config.storage.table_path("silver/stores_snapshot"))
    assert snapshots.count() == 4  # two stores, appended by each of the two runs


def test_incremental_sql_reads_only_new_rows(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    query = f"{STORES.replace('FROM raw', 'FROM source')} WHERE _corrupt_record IS NULL"
    job = sql_job(query, {"mode": "append"}, inputs={"source": "bronze/stores"}, incremental=True)
    runner = run(spark, tmp_path, landing, job)
    assert runner.run("silver_stores").rows_written == 2
    assert runner.run("silver_stores").rows_read == 0  # nothing new in bronze
    day2 = landing / "stores" / "2025-01-02"
    day2.mkdir()
    (day2 / "stores.csv").write_text("store_id,name\n7,store_007\n", encoding="utf-8")
    assert runner.run("bronze_stores").rows_written == 1
    third = runner.run("silver_stores")
    assert (third.rows_read, third.rows_written) == (1, 1)
    assert silver(spark, runner, "store_id", "name") == [("0", "online!"), ("1", "store_001!"), ("7", "store_007!")]


def one_rule_suite(rule: str, expectation: str, column: str, **settings: Any) -> dict[str, Any]:
    """The `stores` quality suite with one rule on one column."""
    return {"stores": {**settings, "rules": [{"name": rule, "expectation": expectation, "kwargs": {"column": column}}]}}


def test_a_quality_suite_quarantines_what_the_query_returns_and_counts_reconcile(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    suite = one_rule_suite("record_parses", "expect_column_values_to_be_null", "_corrupt_record", max_bad_share=0.5)
    query = "SELECT store_id, concat(name, :suffix) AS name, _corrupt_record FROM raw"
    job = sql_job(query, {"mode": "merge", "keys": ["store_id"]}, quality="stores")
    runner = run(spark, tmp_path, landing, job, quality={"quality": suite})
    outcome = runner.run("silver_stores")
    assert (outcome.status, outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (SUCCEEDED, 4, 2, 2)
    quarantine = runner.loaded.config.storage.table_path("silver/stores_quarantine")
    rejected = spark.read.format("delta").load(quarantine).orderBy("record").collect()
    assert [(row.rules, row.record) for row in rejected] == [
        (["record_parses"], '"3,broken quote'),
        (["record_parses"], "2,store_002,extra-column"),
    ]
    # The helper columns (here _corrupt_record) are not written.
    assert silver(spark, runner, "store_id", "name") == [("0", "online!"), ("1", "store_001!")]


def test_a_quality_suite_that_rejects_no_row_writes_every_row_and_no_quarantine(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    suite = one_rule_suite("name_present", "expect_column_values_to_not_be_null", "name")
    # The two rows that do not parse are left out by the query: the rule then rejects none of the rest.
    query = "SELECT store_id, name FROM raw WHERE _corrupt_record IS NULL"
    job = sql_job(query, {"mode": "merge", "keys": ["store_id"]}, quality="stores")
    runner = run(spark, tmp_path, landing, job, quality={"quality": suite})
    outcome = runner.run("silver_stores")
    assert (outcome.status, outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (SUCCEEDED, 4, 2, 0)
    assert (outcome.rule_evaluations, outcome.rule_passes) == (2, 2)
    quarantine = Path(runner.loaded.config.storage.table_path("silver/stores_quarantine"))
    assert not quarantine.exists()
    assert silver(spark, runner, "store_id", "name") == [("0", "online"), ("1", "store_001")]


def test_a_query_file_beside_the_yaml_is_read_and_a_bad_query_fails_its_job_with_sparks_message(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "stores.sql").write_text("SELECT store_id, nmae FROM raw", encoding="utf-8")
    job = sql_job("", {"mode": "overwrite"})
    job["params"] = {"query_file": "stores.sql"}
    runner = run(spark, tmp_path, landing, job)
    outcome = runner.run("silver_stores")
    assert outcome.status == FAILED
    assert outcome.error is not None
    assert "the query in stores.sql does not analyse" in outcome.error
    assert "nmae" in outcome.error


def test_a_missing_query_file_is_a_configuration_error_naming_the_file_and_key(tmp_path: Path, landing: Path) -> None:
    base = minimal_base(tmp_path / "lake", landing)
    base["tables"]["tables"]["silver/stores"] = {}
    job = sql_job("", {"mode": "overwrite"})
    job["params"] = {"query_file": "missing.sql"}
    base["jobs"]["jobs"]["silver_stores"] = job
    with pytest.raises(ConfigError) as raised:
        load_config(conf_dir=write_conf(tmp_path / "conf", base), environ={}, transforms=catalogue())
    message = str(raised.value)
    assert "conf/base/jobs.yaml" in message
    assert "jobs.silver_stores.params.query_file" in message
    assert f"cannot read the query file {tmp_path / 'conf' / 'base' / 'missing.sql'}" in message
