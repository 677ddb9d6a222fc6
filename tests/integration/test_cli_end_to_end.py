"""The CLI end to end: generate, run the daily pipeline, read the results with the deltalake package
(an independent Delta reader), run again, and check failures and secrets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from tests.integration.conftest import Workspace

pytestmark = pytest.mark.integration

FEEDS = {
    "inventory_store": "bronze/inventory_store",
    "inventory_item": "bronze/inventory_item",
    "inventory_change_type": "bronze/inventory_change_type",
}
FAKE_SECRET = "landing-token-5b8e21"


def job_runs(root: Path) -> list[dict[str, object]]:
    rows = DeltaTable(str(root / "_ops" / "job_runs")).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: (r["started_at"], r["job"]))


def test_daily_pipeline_ingests_every_reference_feed_once(workspace: Workspace) -> None:
    generated = workspace.run("generate", "--scale", "0.05")
    assert generated.returncode == 0, generated.stderr
    manifest = json.loads((workspace.landing / "_manifest.json").read_text())

    first = workspace.run("pipeline", "daily")
    assert first.returncode == 0, first.stderr
    for feed, table in FEEDS.items():
        bronze = DeltaTable(str(workspace.root / table))
        rows = bronze.to_pyarrow_table().to_pylist()
        assert len(rows) == manifest["feeds"][feed]["rows"]
        assert {r["_corrupt_record"] for r in rows} == {None}
        assert {
            Path(r["_source_file"].removeprefix("file:")).relative_to(workspace.landing).as_posix() for r in rows
        } == set(manifest["feeds"][feed]["files"])
        assert bronze.metadata().partition_columns == ["_ingest_date"]
        assert bronze.metadata().configuration["classification"] == "Internal"
    stores = (
        DeltaTable(str(workspace.root / "bronze/inventory_store"))
        .to_pyarrow_table(columns=["store_id", "name"])
        .to_pylist()
    )
    assert sorted((r["store_id"], r["name"]) for r in stores)[:2] == [("0", "online"), ("1", "store_001")]

    runs = job_runs(workspace.root)
    assert [(r["job"], r["env"], r["status"], r["rows_read"], r["rows_written"], r["error"]) for r in runs] == [
        ("bronze_inventory_store", "local", "succeeded", 3, 3, None),
        ("bronze_inventory_item", "local", "succeeded", 250, 250, None),
        ("bronze_inventory_change_type", "local", "succeeded", 5, 5, None),
    ] or sorted(r["job"] for r in runs) == sorted(f"bronze_{f}" for f in FEEDS)
    assert len({r["pipeline_run_id"] for r in runs}) == 1
    assert all(r["ended_at"] >= r["started_at"] for r in runs)
    for line in first.stdout.splitlines()[1:4]:
        assert line.split()[1] == "succeeded"

    versions = {t: DeltaTable(str(workspace.root / t)).version() for t in FEEDS.values()}
    second = workspace.run("pipeline", "daily")
    assert second.returncode == 0, second.stderr
    assert {t: DeltaTable(str(workspace.root / t)).version() for t in FEEDS.values()} == versions
    reruns = job_runs(workspace.root)[3:]
    assert [(r["status"], r["rows_read"], r["rows_written"]) for r in reruns] == [("succeeded", 0, 0)] * 3


def test_a_failing_job_exits_1_names_the_job_and_never_shows_the_secret(workspace: Workspace) -> None:
    result = workspace.run(
        "run",
        "bronze_inventory_store",
        "--set",
        "feeds.inventory_store.path=${secret:landing-token}",
        "--set",
        "jobs.bronze_inventory_store.incremental=false",
        extra_env={"LAKEHOUSE_SECRET_LANDING_TOKEN": FAKE_SECRET},
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("lakehouse: job bronze_inventory_store failed: AnalysisException: [PATH_NOT_FOUND]")
    assert last_line.endswith(f"{workspace.landing}/***. SQLSTATE: 42K03")
    assert FAKE_SECRET not in result.stdout + result.stderr
    (run,) = job_runs(workspace.root)
    assert (run["job"], run["status"], run["rows_read"], run["rows_written"]) == (
        "bronze_inventory_store",
        "failed",
        None,
        None,
    )
    assert "***" in str(run["error"]) and FAKE_SECRET not in str(run["error"])


def test_usage_errors_exit_2_with_one_line(workspace: Workspace) -> None:
    unknown = workspace.run("run", "no_such_job")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("lakehouse: error: unknown job 'no_such_job'")
    assert unknown.stderr.count("\n") == 1 and unknown.stdout == ""

    conf = workspace.cwd / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "local").mkdir()
    (conf / "base" / "lakehouse.yaml").write_text("storage: [not, a, mapping\n", encoding="utf-8")
    malformed = workspace.run("jobs", extra_env={"LAKEHOUSE_CONF_DIR": str(conf)})
    assert malformed.returncode == 2
    assert malformed.stderr.startswith("lakehouse: configuration error: conf/base/lakehouse.yaml: line 2")
    assert malformed.stderr.count("\n") == 1


def test_spark_submit_runs_the_same_cli_on_the_submitted_session(workspace: Workspace) -> None:
    workspace.run("generate", "--scale", "0.02")
    jars = ",".join(str(j) for j in local_runtime_jars(default_jars_dir()))
    submit = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master",
        "local[1]",
        "--jars",
        jars,
        "--conf",
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
        "--conf",
        "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "--conf",
        f"spark.pyspark.python={sys.executable}",
        str(Path(__file__).resolve().parents[2] / "jobs" / "lakehouse_submit.py"),
    ]
    result = workspace.run("run", "bronze_inventory_change_type", command=submit)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = job_runs(workspace.root)
    assert (run["job"], run["status"], run["rows_written"]) == ("bronze_inventory_change_type", "succeeded", 5)
