"""Operations through the CLI: alerts fired by planted conditions reach a real webhook server, a real SMTP
server and the Azure Monitor exporter (pointed at a local endpoint: nothing is sent to Azure); `status`
tells schedulers; leases keep overlapping runs and streams apart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from retail_lakehouse.core.errors import EXIT_ATTENTION, EXIT_LEASE_HELD
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from tests.integration.conftest import LAKEHOUSE, Workspace
from tests.ops_servers import HttpRecorder, SmtpRecorder, http_recorder, smtp_recorder

pytestmark = pytest.mark.integration

STORES_HEADER = "store_id,name,region,format,square_feet,city,opened_date,country,subdivision\n"
# 25 stores; store 3 has negative square feet: quarantined by square_feet_not_negative (4% of the rows, under
# the suite's max_bad_share of 5%, over the 1% quarantine alert threshold).
STORES = [
    f"{n},Store {n:03d},North,Outlet,{-40 if n == 3 else 5000 + n},Hamburg,2020-03-22,DE,HH" for n in range(1, 26)
]
STORE_IDS = sorted(str(n) for n in range(1, 26))


def land_stores(workspace: Workspace) -> None:
    folder = workspace.landing / "stores" / "2025-01-01"
    folder.mkdir(parents=True)
    (folder / "stores.csv").write_text(STORES_HEADER + "\n".join(STORES) + "\n")


def sinks(http: HttpRecorder, smtp: SmtpRecorder) -> str:
    return "ops.notifications=" + json.dumps(
        {
            "hook": {"kind": "webhook", "format": "json", "url": f"{http.url}/hook"},
            "mail": {
                "kind": "email",
                "smtp_host": smtp.host,
                "smtp_port": smtp.port,
                "starttls": False,
                "from": "lakehouse@example.com",
                "to": ["ops@example.com"],
            },
            "monitor": {
                "kind": "azure_monitor",
                "connection_string": f"InstrumentationKey=00000000-0000-0000-0000-000000000002;"
                f"IngestionEndpoint={http.url}/",
            },
        }
    )


def hook_events(http: HttpRecorder) -> list[tuple[str, str, str]]:
    return [(p.json()["event"], p.json()["kind"], p.json()["subject"]) for p in http.posts if p.path == "/hook"]


def track_metrics(http: HttpRecorder) -> dict[tuple[str, str], float]:
    """Metric values the exporter posted, by (metric, job or kind)."""
    found = {}
    for post in http.posts:
        if post.path != "/v2.1/track":
            continue
        for envelope in post.json():
            data = envelope["data"]["baseData"]
            for metric in data["metrics"]:
                subject = data["properties"].get("job") or data["properties"].get("kind", "")
                found[(metric["name"], subject)] = metric["value"]
    return found


def rows(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return DeltaTable(str(path)).to_pyarrow_table(columns=columns).to_pylist()


def test_planted_conditions_open_alerts_that_reach_every_sink_and_status(workspace: Workspace) -> None:
    land_stores(workspace)
    with (
        http_recorder(answer=b'{"itemsReceived": 1, "itemsAccepted": 1, "errors": []}') as http,
        smtp_recorder() as smtp,
    ):
        planted = [
            "--set",
            sinks(http, smtp),
            "--set",
            "tables.silver/stores.freshness_hours=0.0001",  # older than 0.36 s by the time the run ends
            "--set",
            "quality.stores.alert_below_score=0.995",  # 99 of 100 evaluations pass: 0.99
        ]
        ran = workspace.run("run", "bronze_stores", "silver_stores", *planted)
        assert ran.returncode == 0, ran.stderr[-2000:]
        failed = workspace.run(
            "run", "bronze_inventory_store", "--set", "feeds.inventory_store.required=true", *planted
        )
        assert failed.returncode == 1

        status = workspace.run("status", "--json", *planted)
        assert status.returncode == EXIT_ATTENTION, status.stderr
        report = json.loads(status.stdout)
        assert report["needs_attention"] is True
        assert sorted((a["kind"], a["subject"]) for a in report["open_alerts"]) == [
            ("dq_score", "silver/stores"),
            ("freshness", "silver/stores"),
            ("job_failed", "bronze_inventory_store"),
            ("quarantine_rate", "silver/stores"),
        ]
        # The default SLA tables were never written: missed too, with no last commit.
        missed = {f["table"]: f["last_commit_at"] is not None for f in report["freshness"] if f["missed"]}
        assert missed == {
            "silver/stores": True,
            "gold/sales_daily": False,
            "gold/sales_by_gender_category": False,
            "gold/customer_360": False,
        }

        # The condition clears: the feed is optional again, the job succeeds with no rows.
        cleared = workspace.run("run", "bronze_inventory_store", *planted)
        assert cleared.returncode == 0, cleared.stderr[-2000:]

    assert sorted(hook_events(http)) == sorted(
        [
            ("opened", "dq_score", "silver/stores"),
            ("opened", "quarantine_rate", "silver/stores"),
            ("opened", "freshness", "silver/stores"),
            ("opened", "job_failed", "bronze_inventory_store"),
            ("cleared", "job_failed", "bronze_inventory_store"),
        ]
    )
    subjects = sorted(str(message["Subject"]) for message in smtp.messages)
    assert subjects == sorted(
        [
            "[local] WARNING alert opened: dq_score silver/stores",
            "[local] WARNING alert opened: quarantine_rate silver/stores",
            "[local] CRITICAL alert opened: freshness silver/stores",
            "[local] CRITICAL alert opened: job_failed bronze_inventory_store",
            "[local] CRITICAL alert cleared: job_failed bronze_inventory_store",
        ]
    )

    # The DQ score recomputed independently from the per-rule results Great Expectations recorded.
    (silver_run,) = [r for r in rows(workspace.root / "_ops/job_runs") if r["job"] == "silver_stores"]
    results = [r for r in rows(workspace.root / "_ops/dq_results") if r["run_id"] == silver_run["run_id"]]
    evaluations = sum(r["element_count"] for r in results)
    passed = sum(r["element_count"] - r["unexpected_count"] for r in results)
    assert (len(results), evaluations, evaluations - passed) == (4, 100, 1)  # 4 rules x 25 rows; 1 broken
    assert silver_run["quality_score"] == passed / evaluations
    assert (silver_run["rows_read"], silver_run["rows_quarantined"]) == (25, 1)
    (dq_alert,) = [a for a in rows(workspace.root / "_ops/alerts") if a["kind"] == "dq_score"]
    assert dq_alert["value"] == passed / evaluations == 0.99 and dq_alert["threshold"] == 0.995
    (rate_alert,) = [a for a in rows(workspace.root / "_ops/alerts") if a["kind"] == "quarantine_rate"]
    assert rate_alert["value"] == 0.04 and rate_alert["cleared_at"] is None

    metrics = track_metrics(http)
    assert metrics[("lakehouse.rows_read", "silver_stores")] == 25
    assert metrics[("lakehouse.rows_written", "silver_stores")] == 24
    assert metrics[("lakehouse.dq_score", "silver_stores")] == passed / evaluations
    assert metrics[("lakehouse.alerts_opened", "job_failed")] == 1


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the stream ended early: {process.returncode}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


@pytest.mark.long
def test_a_second_stream_refuses_at_once_naming_the_running_one(workspace: Workspace, tmp_path: Path) -> None:
    generate_landing(workspace.landing, GeneratorOptions(scale=0.02, days=1))
    with http_recorder() as http:
        hook = "ops.notifications=" + json.dumps({"hook": {"kind": "webhook", "url": f"{http.url}/hook"}})
        first = subprocess.Popen(
            [
                str(LAKEHOUSE),
                "stream",
                "inventory",
                "--trigger",
                "1",
                "--set",
                hook,
                "--set",
                "ops.streams.latency_seconds=0.001",
            ],  # every micro-batch is too slow: a planted lag
            cwd=workspace.cwd,
            env=workspace.env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "first.log").open("w"),
            text=True,
            start_new_session=True,
        )
        try:
            wait_for(lambda: ("opened", "stream_lag", "inventory") in hook_events(http), first)
            second = workspace.run("stream", "inventory", "--available-now")
            assert second.returncode == EXIT_LEASE_HELD
            last_line = second.stderr.strip().splitlines()[-1]
            assert last_line.startswith(
                f"lakehouse: stream inventory did not start: another run holds inventory (held by lakehouse stream "
                f"inventory on {os.uname().nodename} pid {first.pid} since "
            )
        finally:
            first.send_signal(signal.SIGINT)
            try:
                first.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(first.pid, signal.SIGKILL)
                raise
    assert first.returncode == 0, (tmp_path / "first.log").read_text()[-2000:]
    # Stopped, it freed its lease: it expired when the stream ended, and the next stream may start.
    (lease,) = rows(workspace.root / "_ops/leases")
    assert lease["name"] == "inventory" and lease["expires_at"] <= datetime.now(UTC)


@pytest.mark.long
def test_two_pipelines_started_together_never_run_a_job_twice_at_once(workspace: Workspace) -> None:
    land_stores(workspace)
    pipeline = [
        "--set",
        "pipelines.stores={jobs: [bronze_stores, silver_stores]}",
        "--set",
        "ops.leases.wait_seconds=600",
    ]
    processes = [
        subprocess.Popen(
            [str(LAKEHOUSE), "pipeline", "stores", *pipeline],
            cwd=workspace.cwd,
            env=workspace.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [process.communicate(timeout=900) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err[-2000:] for _, err in outcomes]

    runs = rows(workspace.root / "_ops/job_runs")
    for job in ("bronze_stores", "silver_stores"):
        first, second = sorted((r for r in runs if r["job"] == job), key=lambda r: r["started_at"])
        assert first["ended_at"] <= second["started_at"], f"two runs of {job} overlapped"
        assert (first["rows_written"], second["rows_written"]) == ((25, 0) if job == "bronze_stores" else (24, 0))
    # Every table equals a single run's: each landed row once in bronze, each valid store once in silver.
    assert sorted(r["store_id"] for r in rows(workspace.root / "bronze/stores", ["store_id"])) == STORE_IDS
    valid = [store for store in STORE_IDS if store != "3"]
    assert sorted(r["store_id"] for r in rows(workspace.root / "silver/stores", ["store_id"])) == valid


def test_a_run_refuses_a_job_another_run_holds_and_names_it(workspace: Workspace) -> None:
    land_stores(workspace)
    # Another run's live lease, written by an independent Delta writer.
    now = datetime.now(UTC)
    held = {
        "name": "silver_stores",
        "owner": "f00d",
        "holder": "a scheduler retry",
        "acquired_at": now,
        "renewed_at": now,
        "expires_at": now + timedelta(minutes=10),
        "host": "scheduler-host",
        "pid": 4242,
    }
    texts = [(name, pa.string()) for name in ("name", "owner", "holder")]
    times = [(name, pa.timestamp("us", tz="UTC")) for name in ("acquired_at", "renewed_at", "expires_at")]
    process = [("host", pa.string()), ("pid", pa.int64())]
    leases = pa.Table.from_pylist([held], schema=pa.schema(texts + times + process))
    write_deltalake(str(workspace.root / "_ops/leases"), leases)
    refused = workspace.run("pipeline", "stores", "--set", "pipelines.stores={jobs: [bronze_stores, silver_stores]}")
    assert refused.returncode == EXIT_LEASE_HELD
    last_line = refused.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "lakehouse: pipeline stores did not start: another run holds silver_stores (held by a scheduler retry since "
    )
    assert not (workspace.root / "bronze" / "stores").exists()  # nothing ran, not even the free job
