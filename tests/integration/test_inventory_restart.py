"""Exactly once across a crash: `lakehouse stream inventory` is killed (SIGKILL, the whole process group:
Python driver and JVM) after a micro-batch's positions merge landed, then started again. Its gold tables
equal those of an uninterrupted run on the same files, and the positions equal the accelerator's rule
computed here in pandas straight from the landing files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.ops.run_history import SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from tests.conftest import REPO_ROOT
from tests.integration.conftest import LAKEHOUSE, Workspace

# One file of each feed per micro-batch, so the run has several batches to be killed between.
ONE_FILE_PER_BATCH = [
    "--set",
    "feeds.inventory_changes.options.maxFilesPerTrigger=1",
    "--set",
    "feeds.inventory_snapshots.options.maxFilesPerTrigger=1",
]
POSITIONS = "gold/inventory_positions"
KILL_AFTER_POSITIONS_VERSION = 1  # version 0 creates the table, 1 is batch 0's merge


def rule_from_landing_files(landing: Path) -> dict[tuple[str, str], tuple[int, int | None]]:
    """Quantity on hand and counted quantity per (store, item): the latest count plus the IoT deltas at or
    after it, each (trans_id, item) once, BOPIS at the online store (0) left out."""
    rows: list[dict[str, Any]] = []
    for file in sorted((landing / "inventory/changes").rglob("*.jsonl")):
        for line in file.read_text().splitlines():
            try:
                event = json.loads(line)
                for item in event["items"]:
                    rows.append(
                        {
                            "trans_id": event["trans_id"],
                            "store_id": str(event["store_id"]),
                            "item_id": str(item["item_id"]),
                            "type": int(event["change_type_id"]),
                            "ts": pd.Timestamp(event["date_time"]),
                            "quantity": int(item["quantity"]),
                        }
                    )
            except (ValueError, KeyError, TypeError):
                continue  # a broken record: the stream quarantines it
    deltas = pd.DataFrame(rows).drop_duplicates(["trans_id", "store_id", "item_id"])
    deltas = deltas[~((deltas["type"] == 4) & (deltas["store_id"] == "0"))]
    counts = pd.concat(pd.read_csv(f, dtype=str) for f in sorted((landing / "inventory/snapshots").rglob("*.csv")))
    counts = counts.assign(ts=pd.to_datetime(counts["date_time"]), quantity=counts["quantity"].astype(int))
    latest = counts.sort_values(["ts", "quantity"]).groupby(["store_id", "item_id"]).tail(1)
    expected: dict[tuple[str, str], tuple[int, int | None]] = {}
    snap = {(r.store_id, r.item_id): (r.ts, r.quantity) for r in latest.itertuples()}
    for key in set(snap) | set(zip(deltas["store_id"], deltas["item_id"], strict=True)):
        since, counted = snap.get(key, (None, None))
        mine = deltas[(deltas["store_id"] == key[0]) & (deltas["item_id"] == key[1])]
        if since is not None:
            mine = mine[mine["ts"] >= since]
        expected[key] = (int(counted or 0) + int(mine["quantity"].sum()), None if counted is None else int(counted))
    return expected


def table(spark: SparkSession, root: Path, name: str) -> DataFrame:
    return spark.read.format("delta").load(str(root / name))


def wait_for_version(log_dir: Path, version: int, process: subprocess.Popen[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not (log_dir / f"{version:020d}.json").exists():
        assert process.poll() is None, f"the stream ended before version {version}"
        assert time.monotonic() < deadline, f"no version {version} in {log_dir} after {timeout} s"
        time.sleep(0.05)


@pytest.mark.long
def test_killed_mid_run_and_restarted_equals_uninterrupted_run(
    spark: SparkSession, tmp_path: Path, workspace: Workspace
) -> None:
    generate_landing(workspace.landing, GeneratorOptions(scale=0.02, days=2))

    killed = subprocess.Popen(
        [str(LAKEHOUSE), "stream", "inventory", "--available-now", *ONE_FILE_PER_BATCH],
        cwd=workspace.cwd,
        env=workspace.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_version(workspace.root / POSITIONS / "_delta_log", KILL_AFTER_POSITIONS_VERSION, killed)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
    restarted = workspace.run("stream", "inventory", "--available-now", *ONE_FILE_PER_BATCH)
    assert restarted.returncode == 0, restarted.stderr

    # The uninterrupted run, in this process, on the same files.
    environ = {**workspace.env, "LAKEHOUSE_ROOT": str(tmp_path / "uninterrupted")}
    settings = ONE_FILE_PER_BATCH[1::2]
    loaded = load_config(transforms=catalogue(), conf_dir=REPO_ROOT / "conf", set_overrides=settings, environ=environ)
    run = JobRunner(spark, loaded).run("inventory")
    assert run.status == SUCCEEDED, run.error

    for name, drop in ((POSITIONS, "updated_at"), ("gold/inventory_alerts", "detected_at")):
        exists = [(root / name / "_delta_log").is_dir() for root in (workspace.root, tmp_path / "uninterrupted")]
        assert exists[0] == exists[1], name
        if not exists[0]:
            continue
        after_crash = table(spark, workspace.root, name).drop(drop)
        uninterrupted = table(spark, tmp_path / "uninterrupted", name).drop(drop)
        assert sorted(after_crash.collect()) == sorted(uninterrupted.collect()), name
    ledger_columns = ["feed", "event_id", "store_id", "product_id", "quantity", "event_ts", "counted"]
    after_crash_ledger = table(spark, workspace.root, "silver/inventory_events").select(ledger_columns)
    uninterrupted_ledger = table(spark, tmp_path / "uninterrupted", "silver/inventory_events").select(ledger_columns)
    assert sorted(after_crash_ledger.collect()) == sorted(uninterrupted_ledger.collect())

    expected = rule_from_landing_files(workspace.landing)
    stream = {
        (r.store_id, r.product_id): (r.quantity_on_hand, r.snapshot_quantity)
        for r in table(spark, workspace.root, POSITIONS).collect()
    }
    assert stream == expected
    assert len(expected) == 200  # 2 stores x 100 items
