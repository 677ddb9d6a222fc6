"""The CLI in-process for everything that fails before Spark starts: one line on stderr, exit code 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retail_lakehouse.cli import main
from retail_lakehouse.generator.landing import FEED_FOLDERS
from tests.conftest import REPO_ROOT

CONF = REPO_ROOT / "conf"
BRONZE_JOBS = [f"bronze_{feed}" for feed in FEED_FOLDERS]
SILVER_TABLES = [
    "stores",
    "suppliers",
    "categories",
    "products",
    "customers",
    "transactions",
    "transaction_lines",
    "loyalty_events",
    "competitor_prices",
    "weather",
    "inventory_changes",
    "inventory_snapshots",
    "inventory_latest_snapshots",
]
GOLD_TABLES = [
    "sales_daily",
    "sales_by_gender_category",
    "customer_category_daily",
    "store_performance",
    "product_performance",
    "inventory_reorder_points",
    "customer_360",
    "frequent_itemsets",
    "association_rules",
    "product_recommendations",
    "price_elasticity",
    "price_recommendations",
]
FORECAST_TABLES = ["demand_features", "forecast_backtest", "forecast_accuracy", "demand_forecast", "replenishment"]
ALL_JOBS = [
    *BRONZE_JOBS,
    *(f"silver_{table}" for table in SILVER_TABLES),
    *(f"gold_{table}" for table in GOLD_TABLES),
    *(f"gold_{table}" for table in FORECAST_TABLES),
    "inventory",
]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_jobs_lists_name_layer_kind_inputs_and_outputs() -> None:
    code, out, err = run_cli("jobs", "--conf-dir", str(CONF))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "LAYER", "KIND", "INPUTS", "OUTPUTS"]
    assert lines[1].split() == ["bronze_stores", "bronze", "batch", "feed", "stores", "bronze/stores"]
    assert lines[15].split()[0] == "bronze_inventory_snapshots"
    assert lines[16].split()[0] == "bronze_weather"
    assert lines[22].split() == [
        "silver_transactions",
        "silver",
        "batch",
        "bronze/pos_transactions,",
        "silver/products,",
        "silver/stores",
        "silver/transactions",
    ]
    assert lines[30].split()[:3] == ["gold_sales_daily", "gold", "batch"]
    assert lines[41].split()[0] == "gold_price_recommendations"
    assert [line.split()[0] for line in lines[42:47]] == [f"gold_{t}" for t in FORECAST_TABLES]
    assert lines[47].split()[:3] == ["inventory", "gold", "stream"]
    assert lines[50].startswith("  bronze: bronze_stores, bronze_categories, ")
    assert lines[51].startswith("  daily: bronze_stores, bronze_categories, ")
    assert lines[51].endswith(", silver_weather, " + ", ".join(f"gold_{t}" for t in GOLD_TABLES[:7]))
    # analytics starts from silver: not the reorder points, which come from bronze
    assert lines[52] == "  analytics: " + ", ".join(f"gold_{t}" for t in GOLD_TABLES if t != "inventory_reorder_points")
    assert lines[53] == "  forecast: " + ", ".join(f"gold_{t}" for t in FORECAST_TABLES)
    assert "  all: every batch job" in lines
    assert "  maintenance: no job; then maintains every table" in lines


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("jobs", "run", "pipeline", "stream", "replay", "summary", "generate", "status", "maintain"):
        assert f"\n    {command} " in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "no_such_job"],
            f"lakehouse: error: unknown job 'no_such_job' (jobs: {', '.join(ALL_JOBS)}; see `lakehouse jobs`)",
        ),
        (
            ["pipeline", "weekly"],
            "lakehouse: error: unknown pipeline 'weekly' "
            "(pipelines: bronze, daily, analytics, forecast, all, maintenance; see `lakehouse jobs`)",
        ),
        (
            ["stream", "stock"],
            "lakehouse: error: unknown streaming job 'stock' (streaming jobs: inventory; see `lakehouse jobs`)",
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


def test_generate_writes_the_landing_zone_and_reports_it(tmp_path: Path) -> None:
    code, out, err = run_cli(
        "generate",
        "--scale",
        "0.02",
        "--days",
        "2",
        "--dirty-rate",
        "0",
        "--conf-dir",
        str(CONF),
        "--set",
        f"storage.landing={tmp_path}",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"landing zone: {tmp_path} (2025-01-01 to 2025-01-02)"
    assert "  stores: 2 records in 1 files" in lines
    assert "  inventory_change_type: 5 records in 1 files" in lines
    assert lines[-1] == f"manifest: {tmp_path / '_manifest.json'}"
    assert len(lines) == 2 + len(FEED_FOLDERS)


def test_commands_that_run_no_job_need_no_secret_and_a_job_that_does_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEHOUSE_SECRET_CARD_TOKEN_KEY", raising=False)
    assert run_cli("jobs", "--conf-dir", str(CONF))[0] == 0
    landing = f"storage.landing={tmp_path}"
    assert run_cli("generate", "--scale", "0.01", "--days", "1", "--conf-dir", str(CONF), "--set", landing)[0] == 0
    # silver_transactions tokenises card numbers with the key: it cannot run, and says so before Spark starts.
    code, out, err = run_cli("run", "silver_transactions", "--conf-dir", str(CONF))
    assert (code, out) == (2, "")
    assert err == (
        "lakehouse: configuration error: conf/base/jobs.yaml: jobs.silver_transactions.params.card_token_key: "
        "secret 'CARD_TOKEN_KEY' cannot be resolved (needed by job silver_transactions): "
        "environment variable LAKEHOUSE_SECRET_CARD_TOKEN_KEY is not set\n"
    )
