"""The CLI end to end beyond the daily pipeline (see test_daily_pipeline): failures and secrets, usage
errors, spark-submit, feed onboarding by configuration, and a continuous stream."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from deltalake import DeltaTable

from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from tests.integration.conftest import LAKEHOUSE, Workspace

pytestmark = pytest.mark.integration

FAKE_SECRET = "landing-token-5b8e21"


def job_runs(root: Path) -> list[dict[str, object]]:
    rows = DeltaTable(str(root / "_ops" / "job_runs")).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: (r["started_at"], r["job"]))


def test_a_failing_job_exits_1_names_the_job_and_never_shows_the_secret(workspace: Workspace) -> None:
    result = workspace.run(
        "run",
        "bronze_inventory_store",
        "--set",
        "feeds.inventory_store.path=${secret:landing-token}",
        "--set",
        "jobs.bronze_inventory_store.incremental=false",
        "--set",
        "feeds.inventory_store.required=true",
        extra_env={"LAKEHOUSE_SECRET_LANDING_TOKEN": FAKE_SECRET},
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        "lakehouse: job bronze_inventory_store failed: MissingFeedError: feed inventory_store is required, but "
        f"its folder {workspace.landing}/*** does not exist"
    )
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


def test_a_lakehouse_root_that_cannot_be_written_is_one_line_before_any_job(workspace: Workspace) -> None:
    # Tests run as root, whom permission bits do not stop: a root below a regular file cannot be created.
    blocker = workspace.cwd / "not-a-folder"
    blocker.write_text("a file\n", encoding="utf-8")
    root = blocker / "lakehouse"
    result = workspace.run("run", "bronze_stores", extra_env={"LAKEHOUSE_ROOT": str(root)})
    assert result.returncode == 2, result.stderr
    # The JVM may say one thing of its own when it starts; ours is one line, the last.
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: Using incubator")]
    assert lines == [
        f"lakehouse: error: the lakehouse root {root} is not writable (Parent path is not a directory: {blocker})"
    ]
    assert result.stdout == ""


def test_spark_submit_runs_the_same_cli_on_the_submitted_session(workspace: Workspace) -> None:
    workspace.run("generate", "--scale", "0.02", "--days", "1")
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


def test_an_unreadable_file_is_one_line_on_stderr_and_its_stack_goes_to_the_log_file(workspace: Workspace) -> None:
    delivery = workspace.landing / "inventory" / "inventory_change_type" / "2025-01-01"
    delivery.mkdir(parents=True)
    (delivery / "types.csv").write_text("code,label,extra\n1,sale,x\n", encoding="utf-8")
    result = workspace.run("run", "bronze_inventory_change_type")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: Using incubator")]
    failures = [line for line in lines if "FAILED_READ_FILE" in line]
    # The runner's log line and the CLI's summary line; every other line is progress, and no stack frame.
    assert len(failures) == 2 and all("types.csv" in line for line in failures), lines
    assert len(lines) <= 6 and not [line for line in lines if line.lstrip().startswith("at ")], lines
    log = (workspace.cwd / "logs" / "lakehouse.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "FAILED_READ_FILE" in log
    jvm_log = (workspace.cwd / "logs" / "jvm.log").read_text(encoding="utf-8")
    assert "Number of column in CSV header is not equal to number of fields in the schema" in jvm_log


def test_the_documented_feed_onboarding_works_with_configuration_only(workspace: Workspace) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "landing-zone.md").read_text()
    example = doc.split("<!-- onboarding-example:start -->")[1].split("<!-- onboarding-example:end -->")[0]
    conf = workspace.cwd / "conf"
    shutil.copytree(Path(__file__).resolve().parents[2] / "conf", conf)
    (conf / "local" / "store_footfall.yaml").write_text(example.strip().strip("`").removeprefix("yaml\n"))
    delivery = workspace.landing / "store_footfall" / "2025-01-01"
    delivery.mkdir(parents=True)
    (delivery / "footfall.csv").write_text("store_id;hour;visitors\n1;2025-01-01 09:00;42\n2;2025-01-01 09:00;17\n")

    env = {"LAKEHOUSE_CONF_DIR": str(conf)}
    listed = [line.split() for line in workspace.run("jobs", extra_env=env).stdout.splitlines()]
    assert ["bronze_store_footfall", "bronze", "batch", "feed", "store_footfall", "bronze/store_footfall"] in listed
    result = workspace.run("run", "bronze_store_footfall", extra_env=env)
    assert result.returncode == 0, result.stderr
    rows = (
        DeltaTable(str(workspace.root / "bronze/store_footfall"))
        .to_pyarrow_table(columns=["store_id", "hour", "visitors"])
        .to_pylist()
    )
    assert sorted(rows, key=lambda r: r["store_id"]) == [
        {"store_id": "1", "hour": "2025-01-01 09:00", "visitors": "42"},
        {"store_id": "2", "hour": "2025-01-01 09:00", "visitors": "17"},
    ]


STREAM_JOB = """
jobs:
  bronze_stores_stream:
    description: Stores as a continuous stream.
    kind: stream
    transform: bronze.ingest
    inputs: {source: "feed:stores"}
    output: bronze/stores
    write: {mode: append}
"""


def test_a_streaming_job_runs_continuously_until_interrupted(workspace: Workspace) -> None:
    conf = workspace.cwd / "conf"
    shutil.copytree(Path(__file__).resolve().parents[2] / "conf", conf)
    (conf / "local" / "stream.yaml").write_text(STREAM_JOB)
    env = {**workspace.env, "LAKEHOUSE_CONF_DIR": str(conf)}
    first = workspace.landing / "stores" / "2025-01-01"
    first.mkdir(parents=True)
    header = "store_id,name,region,format,square_feet,city,opened_date,country,subdivision\n"
    (first / "stores.csv").write_text(header + "1,Store 001,North,Outlet,7004,Hamburg,2020-03-22,DE,HH\n")
    process = subprocess.Popen(
        [str(LAKEHOUSE), "stream", "bronze_stores_stream", "--trigger", "1"],
        cwd=workspace.cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hung run and its JVM can be killed together
    )
    table = workspace.root / "bronze" / "stores"
    try:
        wait_for(lambda: table_rows(table) == 1, process)
        later = workspace.landing / "stores" / "2025-01-02"
        later.mkdir()
        (later / "stores.csv").write_text(header + "2,Store 002,,,,,\n3,Store 003,,,,,\n")
        wait_for(lambda: table_rows(table) == 3, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0, err[-2000:]
    (run,) = job_runs(workspace.root)
    assert (run["job"], run["status"], run["rows_read"], run["rows_written"]) == (
        "bronze_stores_stream",
        "succeeded",
        3,
        3,
    )
    assert "bronze_stores_stream" in out


def table_rows(path: Path) -> int:
    try:
        return len(DeltaTable(str(path)).to_pyarrow_table(columns=["store_id"]))
    except Exception:  # the table does not exist yet
        return -1


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the stream stopped: {process.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1)
