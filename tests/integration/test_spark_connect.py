"""`--remote`: the inventory stream and the daily pipeline run on a real Spark Connect server (Spark's own
server class with Delta, started here) and write exactly what a classic session writes (the shared local
run, reference_runs.py), read back by an independent reader (deltalake), table by table, row by row; their
run records count the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.runtime.connect_server import LocalConnectServer
from tests.integration.conftest import Workspace
from tests.integration.lakehouse_tables import rows_without_run_columns, run_counts, tables
from tests.integration.reference_runs import STREAM_AND_DAILY, ReferenceRuns

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.longest]

# Under Spark Connect the micro-batches' counts travel through this table; a classic run keeps them in memory.
CONNECT_ONLY_TABLES = {"_ops/micro_batches"}


def test_daily_pipeline_and_inventory_stream_under_spark_connect_equal_a_classic_run(
    workspace: Workspace, reference_runs: ReferenceRuns, tmp_path: Path
) -> None:
    connect_root = tmp_path / "connect"
    env = {"LAKEHOUSE_ROOT": str(connect_root), "LAKEHOUSE_LANDING": str(reference_runs.landing)}
    with LocalConnectServer(work_dir=tmp_path / "server") as server:
        for command in STREAM_AND_DAILY:
            run = workspace.run(*command, "--remote", server.url, extra_env=env)
            assert run.returncode == 0, run.stderr[-3000:]
    classic_root = reference_runs.stream_and_daily()

    assert tables(connect_root) - CONNECT_ONLY_TABLES == tables(classic_root)
    assert len(tables(classic_root)) >= 40  # bronze, silver, gold, quarantines and _ops, all compared below
    different = [
        table
        for table in sorted(tables(classic_root))
        if rows_without_run_columns(classic_root, table) != rows_without_run_columns(connect_root, table)
    ]
    assert different == []
    assert run_counts(connect_root) == run_counts(classic_root)


def test_a_server_that_does_not_answer_is_one_line_and_exit_code_2(workspace: Workspace) -> None:
    result = workspace.run("run", "bronze_stores", "--remote", "sc://127.0.0.1:1")
    assert (result.returncode, result.stderr) == (
        2,
        "lakehouse: error: cannot reach the Spark Connect server at 127.0.0.1:1 (Connection refused)\n",
    )
