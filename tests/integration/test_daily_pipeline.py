"""The daily pipeline (landing -> bronze -> silver -> gold) through the CLI on generated data with dirty
records, in one lakehouse:
- bronze keeps every record as received, with its file;
- every planted dirty record ends in quarantine under its rule or is counted as a duplicate, and the counts
  of every silver job reconcile;
- gold equals an independent computation over silver, and no card number reaches silver or gold;
- a second run of every silver and gold job changes no table; a new day of sales is ingested alone and
  rewrites only its own date in gold's daily tables.
Tables are read with the deltalake package (an independent Delta reader)."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.integration.conftest import Workspace

pytestmark = pytest.mark.integration

# The rule that catches each kind of dirty POS record the generator plants (each gets exactly this rule).
POS_RULE_OF_KIND = {
    "null_store_id": ["store_id_present"],
    "non_numeric_quantity": ["quantity_is_a_number"],
    "invalid_quantity": ["quantity_positive"],
    "unknown_product_id": ["product_exists"],
    "unknown_store_id": ["store_exists"],
    "future_timestamp": ["timestamp_not_in_future"],
    "unknown_channel": ["channel_known"],
}
CUSTOMER_RULE_OF_KIND = {"null_customer_id": ["customer_id_present"], "unknown_gender": ["gender_known"]}


def rows(root: Path, table: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return DeltaTable(str(root / table)).to_pyarrow_table(columns=columns).to_pylist()  # type: ignore[no-any-return]


def rule_counts(root: Path, quarantine: str) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r["rules"]) for r in rows(root, quarantine, ["rules"]))


def latest_runs(root: Path, *, skipped_too: bool = False) -> dict[str, dict[str, Any]]:
    """Each job's latest run (that ran, unless `skipped_too`)."""
    runs = sorted(rows(root, "_ops/job_runs"), key=lambda r: r["started_at"])
    return {r["job"]: r for r in runs if skipped_too or r["status"] != "skipped"}


def bronze_counts(root: Path, manifest: dict[str, Any]) -> dict[str, int]:
    return {
        feed: len(DeltaTable(str(root / "bronze" / feed)).to_pyarrow_table(columns=["_run_id"]))
        for feed in manifest["feeds"]
    }


def tables_of(root: Path, *layers: str) -> list[str]:
    return sorted(
        f"{layer}/{p.name}" for layer in layers for p in (root / layer).iterdir() if (p / "_delta_log").is_dir()
    )


def versions_of(root: Path, tables: list[str]) -> dict[str, int]:
    return {table: DeltaTable(str(root / table)).version() for table in tables}


def check_bronze(root: Path, landing: Path, manifest: dict[str, Any]) -> None:
    assert bronze_counts(root, manifest) == {feed: facts["rows"] for feed, facts in manifest["feeds"].items()}
    pos = DeltaTable(str(root / "bronze/pos_transactions"))
    assert pos.metadata().partition_columns == ["_ingest_date"]
    assert pos.metadata().configuration["classification"] == "Restricted-PCI"
    corrupt = pos.to_pyarrow_table(columns=["_corrupt_record"]).column(0).drop_null()
    assert len(corrupt) == manifest["feeds"]["pos_transactions"]["dirty"]["malformed_json"]
    sources = {
        Path(s.removeprefix("file:")).relative_to(landing).as_posix()
        for s in pos.to_pyarrow_table(columns=["_source"]).column(0).to_pylist()
    }
    assert sources == set(manifest["feeds"]["pos_transactions"]["files"])
    runs = latest_runs(root)
    for feed, facts in manifest["feeds"].items():
        run = runs[f"bronze_{feed}"]
        assert (run["status"], run["rows_read"], run["rows_written"]) == ("succeeded", facts["rows"], facts["rows"])


def repeated_item_rows(landing: Path) -> int:
    """Item rows of the inventory change events delivered more than once (every copy after the first),
    recounted from the landing files: what silver must drop as duplicates."""
    copies = Counter(
        line for file in (landing / "inventory/changes").rglob("*.jsonl") for line in file.read_text().splitlines()
    )
    return sum((n - 1) * len(json.loads(line)["items"]) for line, n in copies.items() if n > 1)


def check_silver(root: Path, landing: Path, manifest: dict[str, Any]) -> None:
    runs = latest_runs(root)
    silver_jobs = sorted(job for job in runs if job.startswith("silver_"))
    assert len(silver_jobs) == 13
    for job in silver_jobs:
        run = runs[job]
        assert run["status"] == "succeeded", run
        assert run["rows_read"] == run["rows_written"] + run["rows_quarantined"] + run["duplicates_dropped"], run

    pos_dirty = manifest["feeds"]["pos_transactions"]["dirty"]
    quarantined = rule_counts(root, "silver/transactions_quarantine")
    for kind, rules in POS_RULE_OF_KIND.items():
        assert quarantined[tuple(rules)] == pos_dirty[kind], kind
    malformed = sum(n for rules, n in quarantined.items() if "record_parses" in rules)
    assert malformed == pos_dirty["malformed_json"]
    assert sum(quarantined.values()) == sum(n for kind, n in pos_dirty.items() if kind != "duplicate")
    transactions = runs["silver_transactions"]
    assert transactions["duplicates_dropped"] == pos_dirty["duplicate"]
    assert transactions["rows_written"] == manifest["feeds"]["pos_transactions"]["clean_rows"]
    assert transactions["rows_quarantined"] == sum(quarantined.values())
    # Lines of a quarantined transaction are quarantined with it: headers and lines agree on every sale.
    headers = {r["transaction_id"] for r in rows(root, "silver/transactions", ["transaction_id"])}
    line_ids = {r["transaction_id"] for r in rows(root, "silver/transaction_lines", ["transaction_id"])}
    assert line_ids == headers

    customer_dirty = manifest["feeds"]["customers"]["dirty"]
    customers_quarantined = rule_counts(root, "silver/customers_quarantine")
    for kind, rules in CUSTOMER_RULE_OF_KIND.items():
        assert customers_quarantined[tuple(rules)] == customer_dirty[kind], kind
    assert (
        sum(n for r, n in customers_quarantined.items() if "record_parses" in r) == customer_dirty["wrong_column_count"]
    )
    # every later customer row is a real change (a new version), so the only duplicates are the planted ones
    assert runs["silver_customers"]["duplicates_dropped"] == customer_dirty["duplicate"]
    current = [r for r in rows(root, "silver/customers", ["customer_id", "is_current"]) if r["is_current"]]
    assert len(current) == len({r["customer_id"] for r in current})
    customers = DeltaTable(str(root / "silver/customers"))
    assert customers.metadata().configuration["classification"] == "Confidential-PII"
    assert not {"email", "phone", "first_name", "last_name"} & {f.name for f in customers.schema().fields}

    changes_malformed = manifest["feeds"]["inventory_changes"]["dirty"]["malformed_json"]
    changes_quarantined = rule_counts(root, "silver/inventory_changes_quarantine")
    assert sum(n for r, n in changes_quarantined.items() if "record_parses" in r) == changes_malformed
    keys = [(r["trans_id"], r["item_id"]) for r in rows(root, "silver/inventory_changes", ["trans_id", "item_id"])]
    assert len(keys) == len(set(keys))
    assert runs["silver_inventory_changes"]["duplicates_dropped"] == repeated_item_rows(landing)

    dq = rows(root, "_ops/dq_results")
    store_exists = [r for r in dq if r["table"] == "silver/transactions" and r["rule"] == "store_exists"]
    assert [r["unexpected_count"] for r in store_exists] == [pos_dirty["unknown_store_id"]]


def silver_sales(root: Path) -> dict[tuple[Any, ...], list[Any]]:
    """Units, net revenue and transactions per (date, store, product, channel), summed in Python."""
    totals: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal(0), set()])
    columns = ["sale_date", "store_id", "product_id", "channel", "quantity", "net_amount", "transaction_id"]
    for line in rows(root, "silver/transaction_lines", columns):
        total = totals[(line["sale_date"], line["store_id"], line["product_id"], line["channel"])]
        total[0] += line["quantity"]
        total[1] += line["net_amount"]
        total[2].add(line["transaction_id"])
    return {key: [units, net, len(transactions)] for key, (units, net, transactions) in totals.items()}


def check_gold(root: Path) -> None:
    runs = latest_runs(root)
    for job in ("gold_sales_daily", "gold_sales_by_gender_category", "gold_store_performance",
                "gold_product_performance", "gold_customer_360"):  # fmt: skip
        assert runs[job]["status"] == "succeeded", runs[job]
    expected = silver_sales(root)
    columns = ["sale_date", "store_id", "product_id", "channel", "quantity_sold", "net_revenue", "transaction_count"]
    gold = {
        (r["sale_date"], r["store_id"], r["product_id"], r["channel"]): [
            r["quantity_sold"], r["net_revenue"], r["transaction_count"]
        ]
        for r in rows(root, "gold/sales_daily", columns)
    }  # fmt: skip
    assert gold == expected
    total_net = sum((net for _, net, _ in expected.values()), Decimal(0))
    by_gender = rows(root, "gold/sales_by_gender_category", ["gender", "revenue"])
    assert sum((r["revenue"] for r in by_gender), Decimal(0)) == total_net  # unknown genders stay in
    assert {r["gender"] for r in by_gender} <= {"F", "M", "O", "Unknown", "Not recorded"}
    by_customer = rows(root, "gold/customer_category_daily", ["revenue"])
    assert sum((r["revenue"] for r in by_customer), Decimal(0)) == total_net
    transactions = rows(root, "silver/transactions", ["customer_id", "net_amount"])
    known_customers_net = sum((t["net_amount"] for t in transactions if t["customer_id"]), Decimal(0))
    customers = rows(root, "gold/customer_360", ["customer_id", "lifetime_value", "total_transactions"])
    assert sum((c["lifetime_value"] for c in customers), Decimal(0)) == known_customers_net
    assert sum(c["total_transactions"] for c in customers) == sum(1 for t in transactions if t["customer_id"])
    stores = rows(root, "gold/store_performance", ["net_revenue"])
    assert sum((s["net_revenue"] for s in stores), Decimal(0)) == total_net


def check_no_card_number(root: Path) -> None:
    """No card number of bronze reaches any string column of any silver or gold table, quarantine included."""
    cards = {r["card_number"] for r in rows(root, "bronze/pos_transactions", ["card_number"]) if r["card_number"]}
    assert len(cards) > 100
    for table in tables_of(root, "silver", "gold"):
        data = DeltaTable(str(root / table)).to_pyarrow_table()
        for name in data.column_names:
            if pa.types.is_string(data.schema.field(name).type):
                values = data.column(name).drop_null().to_pylist()
                assert not [v for v in values if any(card in v for card in cards)], (table, name)


def check_no_clear_pii(root: Path, landing: Path) -> None:
    """No e-mail, phone or name of the CRM files in clear in any quarantine table (masked ones are fine)."""
    planted: set[str] = set()
    for file in (landing / "customers").rglob("*.csv"):
        for row in csv.DictReader(file.read_text(encoding="utf-8").splitlines()):
            planted |= {v for v in (row.get("email"), row.get("phone")) if v}
            planted.add(f"{row['first_name']},{row['last_name']}")  # as a CSV line has them
            planted.add(f'"last_name":"{row["last_name"]}"')  # as a record's JSON has them
    assert len(planted) > 100
    quarantines = [table for table in tables_of(root, "silver") if table.endswith("_quarantine")]
    assert "silver/customers_quarantine" in quarantines
    for table in quarantines:
        for row in rows(root, table):
            text = " ".join(str(value) for value in row.values())
            assert not [value for value in planted if value in text], (table, text)


@pytest.mark.long
def test_daily_pipeline_end_to_end_on_dirty_data_then_a_rerun_and_a_new_day(workspace: Workspace) -> None:
    root = workspace.root
    generated = workspace.run("generate", "--scale", "0.02", "--days", "3", "--dirty-rate", "0.08")
    assert generated.returncode == 0, generated.stderr
    manifest = json.loads((workspace.landing / "_manifest.json").read_text())
    # Eight times the default dirty rate, so every kind occurs; the suites must let that share through.
    tolerant = [f"--set=quality.{suite}.max_bad_share=0.5" for suite in ("customers", "pos_transactions")]
    first = workspace.run("pipeline", "daily", *tolerant)
    assert first.returncode == 0, first.stderr
    check_bronze(root, workspace.landing, manifest)
    check_silver(root, workspace.landing, manifest)
    check_gold(root)
    check_no_card_number(root)
    check_no_clear_pii(root, workspace.landing)

    # Bronze re-runs are covered by the runner's tests; here every silver and gold job runs again (forced:
    # with nothing new each would be skipped).
    tables = tables_of(root, "silver", "gold")
    versions = versions_of(root, tables)
    jobs = [job for job in latest_runs(root) if job.startswith(("silver_", "gold_"))]
    again = workspace.run("run", *jobs, "--force", *tolerant)  # run, although nothing is new
    assert again.returncode == 0, again.stderr
    assert versions_of(root, tables) == versions
    # Not forced, a pipeline with nothing new skips every job (records it) and writes no table.
    noop = workspace.run("pipeline", "daily", *tolerant)
    assert noop.returncode == 0, noop.stderr
    latest = latest_runs(root, skipped_too=True)
    assert {job: run["status"] for job, run in latest.items()} == dict.fromkeys(latest, "skipped")
    assert versions_of(root, tables) == versions

    next_day = workspace.run(
        "generate", "--scale", "0.02", "--days", "1", "--start-date", "2025-01-04", "--dirty-rate", "0.08"
    )
    assert next_day.returncode == 0, next_day.stderr
    grown = json.loads((workspace.landing / "_manifest.json").read_text())
    # The jobs a new day of sales goes through (the other feeds' new files wait for the next full run).
    sales_path = [
        "bronze_pos_transactions", "silver_transactions", "silver_transaction_lines", "gold_sales_daily",
        "gold_sales_by_gender_category", "gold_customer_category_daily", "gold_store_performance",
        "gold_customer_360",
    ]  # fmt: skip
    third = workspace.run("run", *sales_path, *tolerant)
    assert third.returncode == 0, third.stderr
    added = grown["feeds"]["pos_transactions"]["rows"] - manifest["feeds"]["pos_transactions"]["rows"]
    assert latest_runs(root)["bronze_pos_transactions"]["rows_written"] == added
    # The new day's lines are the only change gold's daily tables see: one date replaced, none rewritten.
    for table in ("gold/sales_daily", "gold/sales_by_gender_category", "gold/customer_category_daily"):
        (last,) = DeltaTable(str(root / table)).history(1)
        predicate = last["operationParameters"]["predicate"]
        assert "2025-01-04" in predicate and "2025-01-03" not in predicate, last
        assert int(last["operationMetrics"]["numRemovedFiles"]) == 0, last
    check_gold(root)
