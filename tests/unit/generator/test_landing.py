"""The generator, checked from its files by independent recounts (not from its own bookkeeping)."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retail_lakehouse.generator.landing import FEED_FOLDERS, LandingConflictError, generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from tests.conftest import FIXTURES

ACCELERATOR = FIXTURES / "pos_dlt_reference"
SMALL = GeneratorOptions(scale=0.05, days=8, seed=11, dirty_rate=0.05)
CHANNELS = {"Store", "Online", "Mobile"}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("landing")
    generate_landing(path, SMALL)
    return path


@pytest.fixture(scope="module")
def manifest(landing: Path) -> dict[str, Any]:
    return dict(json.loads((landing / "_manifest.json").read_text()))


def records(landing: Path, feed: str) -> list[str]:
    """Every record line of a feed's files (CSV header lines left out)."""
    lines: list[str] = []
    for file in sorted((landing / FEED_FOLDERS[feed]).rglob("*.*")):
        text = file.read_text().splitlines()
        lines += text[1:] if file.suffix in {".csv", ".txt"} else text
    return lines


def parsed(lines: list[str]) -> tuple[list[dict[str, Any]], int]:
    documents, malformed = [], 0
    for line in lines:
        try:
            documents.append(json.loads(line))
        except json.JSONDecodeError:
            malformed += 1
    return documents, malformed


def test_reference_feeds_use_the_accelerators_formats(landing: Path) -> None:
    folder = SMALL.start_date.isoformat()
    change_types = landing / "inventory" / "inventory_change_type" / folder / "inventory_change_type.txt"
    # The change type codes are the accelerator's, byte for byte (no trailing newline either).
    assert change_types.read_bytes() == (ACCELERATOR / "inventory_change_type.txt").read_bytes()
    ours = (landing / "inventory" / "store" / folder / "store.txt").read_text().splitlines()
    assert ours[:3] == (ACCELERATOR / "store.txt").read_text().splitlines()
    ours = (landing / "inventory" / "item" / folder / "item.txt").read_text().splitlines()
    assert ours[0] == (ACCELERATOR / "item_head.txt").read_text().splitlines()[0]
    assert ours[1].startswith("100001,")


def test_every_feed_is_written_and_counted(landing: Path, manifest: dict[str, Any]) -> None:
    assert set(manifest["feeds"]) == set(FEED_FOLDERS)
    for feed, facts in manifest["feeds"].items():
        assert len(records(landing, feed)) == facts["rows"], feed
        assert facts["clean_rows"] == facts["rows"] - sum(facts["dirty"].values())
    assert len(manifest["feeds"]["pos_transactions"]["files"]) == SMALL.days
    assert manifest["feeds"]["stores"]["rows"] == 3  # the online store and 2 stores at scale 0.05


def test_pos_dirty_records_recounted_from_the_files(landing: Path, manifest: dict[str, Any]) -> None:
    lines = records(landing, "pos_transactions")
    documents, malformed = parsed(lines)
    end = f"{SMALL.end_date} 23:59:59"
    product_ids = {r.split(",")[0] for r in records(landing, "products")}
    recount = {
        "duplicate": sum(n - 1 for n in Counter(lines).values() if n > 1),
        "malformed_json": malformed,
        "null_store_id": sum(d["store_id"] is None for d in documents),
        "unknown_store_id": sum(d["store_id"] == "9999" for d in documents),
        "unknown_channel": sum(d["channel"] not in CHANNELS for d in documents),
        "future_timestamp": sum(d["timestamp"] > end for d in documents),
        "unknown_product_id": sum(any(x["product_id"] not in product_ids for x in d["lines"]) for d in documents),
        "non_numeric_quantity": sum(any(isinstance(x["quantity"], str) for x in d["lines"]) for d in documents),
        "invalid_quantity": sum(
            any(isinstance(x["quantity"], int) and x["quantity"] <= 0 for x in d["lines"]) for d in documents
        ),
    }
    assert recount == manifest["feeds"]["pos_transactions"]["dirty"]
    assert sum(recount.values()) > 0


def test_customer_and_inventory_dirty_records_recounted(landing: Path, manifest: dict[str, Any]) -> None:
    rows = records(landing, "customers")
    fields = [r.split(",") for r in rows]
    assert {
        "duplicate": sum(n - 1 for n in Counter(rows).values() if n > 1),
        "wrong_column_count": sum(len(f) != 11 for f in fields),
        "null_customer_id": sum(f[0] == "" for f in fields),
        "unknown_gender": sum(len(f) == 11 and f[5] not in {"F", "M", "O"} for f in fields),
    } == manifest["feeds"]["customers"]["dirty"]
    changes = records(landing, "inventory_changes")
    _, malformed = parsed(changes)
    assert {
        "duplicate": sum(n - 1 for n in Counter(changes).values() if n > 1),
        "malformed_json": malformed,
    } == manifest["feeds"]["inventory_changes"]["dirty"]


def test_card_numbers_pass_the_luhn_check(landing: Path) -> None:
    documents, _ = parsed(records(landing, "pos_transactions"))
    cards = [d["card_number"] for d in documents if d.get("card_number")]
    assert cards and all(len(c) in (15, 16) for c in cards)
    for card in cards:
        digits = [int(c) for c in reversed(card)]
        total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
        assert total % 10 == 0, card


def test_inventory_counts_agree_with_the_change_events(landing: Path) -> None:
    """Each count equals the previous count plus the events between them (the accelerator's rule:
    BOPIS at the online store left out), except planted misses of exactly one unit."""
    events, _ = parsed(sorted(set(records(landing, "inventory_changes"))))
    deltas = pd.DataFrame(
        [
            (e["store_id"], i["item_id"], e["date_time"], i["quantity"], e["change_type_id"])
            for e in events
            for i in e["items"]
        ],
        columns=["store_id", "item_id", "ts", "quantity", "change_type"],
    )
    deltas = deltas[~((deltas["store_id"] == 0) & (deltas["change_type"] == 4))]
    counts = pd.concat(
        pd.read_csv(f) for f in sorted((landing / "inventory" / "snapshots").rglob("*.csv"))
    ).sort_values("date_time")
    differences = []
    for (store, item), group in counts.groupby(["store_id", "item_id"]):
        moves = deltas[(deltas["store_id"] == store) & (deltas["item_id"] == item)]
        for (_, before), (_, after) in zip(group.iloc[:-1].iterrows(), group.iloc[1:].iterrows(), strict=True):
            between = moves[(moves["ts"] > before["date_time"]) & (moves["ts"] <= after["date_time"])]
            differences.append(after["quantity"] - (before["quantity"] + between["quantity"].sum()))
    assert len(differences) > 100
    assert set(differences) <= {0, -1}
    assert sum(differences) >= -0.03 * len(differences)


def test_planted_affinities_have_the_lift_the_manifest_states(landing: Path, manifest: dict[str, Any]) -> None:
    documents, _ = parsed(sorted(set(records(landing, "pos_transactions"))))
    baskets = [{x["product_id"] for x in d["lines"]} for d in documents if d["transaction_id"][9:10] != "D"]
    total = len(baskets)
    assert manifest["planted"]["affinities"]
    for rule in manifest["planted"]["affinities"]:
        antecedent, consequent = set(rule["antecedent"]), set(rule["consequent"])
        with_antecedent = sum(antecedent <= b for b in baskets)
        together = sum((antecedent | consequent) <= b for b in baskets)
        with_consequent = sum(consequent <= b for b in baskets)
        assert rule["support"] == pytest.approx(together / total, abs=1e-6)
        assert rule["lift"] == pytest.approx(together / with_antecedent / (with_consequent / total), rel=1e-3)
        assert rule["lift"] > 5


def test_appending_days_gives_the_same_files_as_one_call(tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    generate_landing(whole, GeneratorOptions(scale=0.02, days=5, seed=3))
    generate_landing(parts, GeneratorOptions(scale=0.02, days=3, seed=3))
    generate_landing(parts, GeneratorOptions(scale=0.02, days=2, seed=3, start_date=dt.date(2025, 1, 4)))
    comparison = filecmp.dircmp(whole, parts)
    assert sorted(p.relative_to(whole).as_posix() for p in whole.rglob("*") if p.is_file()) == sorted(
        p.relative_to(parts).as_posix() for p in parts.rglob("*") if p.is_file()
    )
    for file in whole.rglob("*"):
        if file.is_file():
            assert file.read_bytes() == (parts / file.relative_to(whole)).read_bytes(), file
    assert comparison.left_only == comparison.right_only == []


def test_a_different_data_set_is_refused_in_the_same_landing_zone(tmp_path: Path) -> None:
    generate_landing(tmp_path, GeneratorOptions(scale=0.02, days=2))
    generate_landing(tmp_path, GeneratorOptions(scale=0.02, days=2))  # the same delivery again is fine
    with pytest.raises(LandingConflictError, match="generate into an empty landing zone"):
        generate_landing(tmp_path, GeneratorOptions(scale=0.03, days=2))
    with pytest.raises(LandingConflictError, match="continue it with --start-date 2025-01-03"):
        generate_landing(tmp_path, GeneratorOptions(scale=0.02, days=2, start_date=dt.date(2025, 2, 1)))


def test_planted_elasticities_are_recoverable_from_the_sales(tmp_path: Path) -> None:
    """A log-log fit of daily quantity on price, per dynamically priced product, on non-promotion days."""
    options = GeneratorOptions(scale=0.3, days=60, seed=5, dirty_rate=0)
    manifest = generate_landing(tmp_path, options)
    rows = [
        (x["product_id"], d["timestamp"][:10], x["quantity"], x["unit_price"], x["discount"])
        for file in sorted((tmp_path / "pos_transactions").rglob("*.jsonl"))
        for d in map(json.loads, file.read_text().splitlines())
        for x in d["lines"]
    ]
    lines = pd.DataFrame(rows, columns=["product_id", "day", "quantity", "price", "discount"])
    daily = lines[lines["discount"] == 0].groupby(["product_id", "day"]).agg(q=("quantity", "sum"), p=("price", "mean"))
    planted = manifest["planted"]["elasticity"]
    errors = []
    for product in manifest["planted"]["dynamic_pricing"]:
        days = daily.loc[product] if product in daily.index.get_level_values(0) else None
        if days is None or days["p"].nunique() < 10 or len(days) < 30:
            continue
        slope = np.polyfit(np.log(days["p"]), np.log(days["q"]), 1)[0]
        errors.append(abs(slope - planted[product]))
    assert len(errors) >= 10
    assert float(np.median(errors)) < 0.3


def test_reorder_points_cover_every_physical_store_and_item(landing: Path) -> None:
    folder = SMALL.start_date.isoformat()
    points = pd.read_csv(landing / "inventory" / "reorder_point" / folder / "reorder_point.csv")
    items = pd.read_csv(landing / "inventory" / "item" / folder / "item.txt")
    stores = pd.read_csv(landing / "inventory" / "store" / folder / "store.txt")
    physical = set(stores["store_id"]) - {0}
    assert list(points.columns) == ["store_id", "item_id", "reorder_point_quantity"]
    assert len(points) == len(physical) * len(items)
    assert set(zip(points["store_id"], points["item_id"], strict=True)) == {
        (store, item) for store in physical for item in items["item_id"]
    }
    safety = points.merge(items, on="item_id")
    # at least the safety stock, and more for items that sell during the lead time
    assert (safety["reorder_point_quantity"] >= safety["safety_stock_quantity"]).all()
    assert (safety["reorder_point_quantity"] > safety["safety_stock_quantity"]).any()


def test_every_later_customer_row_changes_the_city_or_the_segment(landing: Path) -> None:
    files = sorted((landing / FEED_FOLDERS["customers"]).rglob("*.csv"))
    first = pd.read_csv(files[0], dtype=str, on_bad_lines="skip").drop_duplicates()
    latest = {row.customer_id: (row.city, row.segment) for row in first.itertuples()}
    changes = 0
    for file in files[1:]:
        for row in pd.read_csv(file, dtype=str).itertuples():
            # an unchanged row would be a re-delivery, and SCD2 counts those as duplicates
            assert (row.city, row.segment) != latest[row.customer_id], row
            latest[row.customer_id] = (row.city, row.segment)
            changes += 1
    assert changes >= 10
