"""The CLI in-process for everything that fails before Spark starts: one line on stderr, exit code 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retail_lakehouse.cli import main
from tests.conftest import REPO_ROOT

CONF = REPO_ROOT / "conf"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_jobs_lists_name_layer_kind_inputs_and_outputs() -> None:
    code, out, err = run_cli("jobs", "--conf-dir", str(CONF))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "LAYER", "KIND", "INPUTS", "OUTPUTS"]
    assert lines[1].split() == [
        "bronze_inventory_store",
        "bronze",
        "batch",
        "feed",
        "inventory_store",
        "bronze/inventory_store",
    ]
    assert "  daily: bronze_inventory_store, bronze_inventory_item, bronze_inventory_change_type" in lines
    assert "  all: every job" in lines


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("jobs", "run", "pipeline", "stream", "generate"):
        assert f"\n    {command} " in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "no_such_job"],
            "lakehouse: error: unknown job 'no_such_job' (jobs: bronze_inventory_store, "
            "bronze_inventory_item, bronze_inventory_change_type; see `lakehouse jobs`)",
        ),
        (
            ["pipeline", "weekly"],
            "lakehouse: error: unknown pipeline 'weekly' (pipelines: daily, all; see `lakehouse jobs`)",
        ),
        (
            ["stream", "inventory"],
            "lakehouse: error: unknown streaming job 'inventory' (streaming jobs: none "
            "configured; see `lakehouse jobs`)",
        ),
        (
            ["jobs", "--set", "spark.shuffle_partitions=0"],
            "lakehouse: configuration error: --set spark.shuffle_partitions: spark.shuffle_partitions: Input should "
            "be greater than 0 (got 0)",
        ),
        (
            ["jobs", "--set", "spark.typo=1"],
            "lakehouse: configuration error: --set spark.typo: spark.typo: unknown key 'typo'",
        ),
        (
            ["jobs", "--env", "staging"],
            "lakehouse: configuration error: --env: unknown environment 'staging': there is no folder "
            f"{CONF}/staging (environments: dev, local, prod)",
        ),
        (
            ["run", "bronze_inventory_store", "--set", "spark.jars_dir=/nonexistent"],
            "lakehouse: error: the Delta Lake jars are not in /nonexistent; run `make setup` (it fetches them "
            "from Maven Central)",
        ),
        (["generate", "--scale", "-1"], "lakehouse: error: --scale must be above 0, got -1.0"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(argv: list[str], message: str) -> None:
    code, out, err = run_cli(*argv, "--conf-dir", str(CONF))
    assert (code, out, err) == (2, "", message + "\n")


def test_malformed_configuration_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "base" / "jobs.yaml").write_text("jobs:\n  a: {transform: x\n", encoding="utf-8")
    code, _out, err = run_cli("jobs", "--conf-dir", str(tmp_path))
    assert code == 2
    assert err.startswith("lakehouse: configuration error: conf/base/jobs.yaml: line 3, column 1: invalid YAML")
    assert err.count("\n") == 1


def test_bad_usage_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("lakehouse: error: argument COMMAND: invalid choice: 'frobnicate'")
    assert err.endswith("(see lakehouse --help)\n") and err.count("\n") == 1


def test_generate_writes_the_landing_zone(tmp_path: Path) -> None:
    code, out, err = run_cli(
        "generate", "--scale", "0.02", "--conf-dir", str(CONF), "--set", f"storage.landing={tmp_path}"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"landing zone: {tmp_path}",
        "  inventory_store: 2 rows in inventory/store/2025-01-01/store.txt",
        "  inventory_item: 100 rows in inventory/item/2025-01-01/item.txt",
        "  inventory_change_type: 5 rows in inventory/inventory_change_type/2025-01-01/inventory_change_type.txt",
    ]
