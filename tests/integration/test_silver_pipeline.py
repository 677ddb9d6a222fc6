"""Bronze -> silver through the CLI on generated data with dirty records: every planted dirty record ends
in quarantine under its rule or is counted as a duplicate, the counts reconcile, a second run changes no
table, and no card number reaches silver. Tables are read with the deltalake package."""

from __future__ import annotations

import json
from collections import Counter
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


def latest_runs(root: Path) -> dict[str, dict[str, Any]]:
    runs = sorted(rows(root, "_ops/job_runs"), key=lambda r: r["started_at"])
    return {r["job"]: r for r in runs}


def silver_tables(root: Path) -> list[str]:
    return sorted(f"silver/{p.name}" for p in (root / "silver").iterdir() if (p / "_delta_log").is_dir())


def test_bronze_to_silver_quarantines_every_planted_dirty_record_and_reruns_change_nothing(
    workspace: Workspace,
) -> None:
    generated = workspace.run("generate", "--scale", "0.02", "--days", "3", "--dirty-rate", "0.08")
    assert generated.returncode == 0, generated.stderr
    manifest = json.loads((workspace.landing / "_manifest.json").read_text())
    # Eight times the default dirty rate, so every kind occurs; the suites must let that share through.
    tolerant = [f"--set=quality.{suite}.max_bad_share=0.5" for suite in ("customers", "pos_transactions")]
    first = workspace.run("pipeline", "daily", *tolerant)
    assert first.returncode == 0, first.stderr
    root = workspace.root

    runs = latest_runs(root)
    silver_jobs = sorted(job for job in runs if job.startswith("silver_"))
    assert len(silver_jobs) == 12
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

    dq = rows(root, "_ops/dq_results")
    store_exists = [r for r in dq if r["table"] == "silver/transactions" and r["rule"] == "store_exists"]
    assert [r["unexpected_count"] for r in store_exists] == [pos_dirty["unknown_store_id"]]

    # No card number of bronze reaches any column of any silver table, quarantine included.
    cards = {r["card_number"] for r in rows(root, "bronze/pos_transactions", ["card_number"]) if r["card_number"]}
    assert len(cards) > 100
    for table in silver_tables(root):
        data = DeltaTable(str(root / table)).to_pyarrow_table()
        for name in data.column_names:
            if pa.types.is_string(data.schema.field(name).type):
                values = data.column(name).drop_null().to_pylist()
                assert not [v for v in values if any(card in v for card in cards)], (table, name)

    versions = {table: DeltaTable(str(root / table)).version() for table in silver_tables(root)}
    again = workspace.run("run", *silver_jobs, *tolerant)
    assert again.returncode == 0, again.stderr
    assert {table: DeltaTable(str(root / table)).version() for table in silver_tables(root)} == versions
