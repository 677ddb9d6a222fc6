from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from retail_lakehouse.generator.landing import LandingConflictError, generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from tests.conftest import FIXTURES

ACCELERATOR = FIXTURES / "pos_dlt_reference"


def test_reference_feeds_use_the_accelerators_formats(tmp_path: Path) -> None:
    generate_landing(tmp_path, GeneratorOptions(scale=0.1, start_date=dt.date(2025, 3, 1)))
    folder = "2025-03-01"
    change_types = tmp_path / "inventory" / "inventory_change_type" / folder / "inventory_change_type.txt"
    # The change type codes are the accelerator's, byte for byte (no trailing newline either).
    assert change_types.read_bytes() == (ACCELERATOR / "inventory_change_type.txt").read_bytes()
    ours = (tmp_path / "inventory" / "store" / folder / "store.txt").read_text().splitlines()
    assert ours[:3] == (ACCELERATOR / "store.txt").read_text().splitlines()
    ours = (tmp_path / "inventory" / "item" / folder / "item.txt").read_text().splitlines()
    assert ours[0] == (ACCELERATOR / "item_head.txt").read_text().splitlines()[0]

    stores = pd.read_csv(tmp_path / "inventory" / "store" / folder / "store.txt")
    assert stores.to_dict("list") == {
        "store_id": [0, 1, 2, 3, 4, 5],
        "name": ["online", "store_001", "store_002", "store_003", "store_004", "store_005"],
    }
    items = pd.read_csv(tmp_path / "inventory" / "item" / folder / "item.txt")
    assert len(items) == 500
    assert items["item_id"].tolist() == list(range(100001, 100501))
    assert items["name"].iloc[0] == "item_000000"
    assert items["supplier_id"].between(1, 100).all()
    assert set(items["safety_stock_quantity"]) <= {5, 10, 15, 20, 25}


def test_same_seed_same_bytes_other_seed_other_items(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_landing(a, GeneratorOptions(scale=0.2, seed=7))
    generate_landing(b, GeneratorOptions(scale=0.2, seed=7))
    generate_landing(c, GeneratorOptions(scale=0.2, seed=8))
    item = Path("inventory/item/2025-01-01/item.txt")
    assert (a / item).read_bytes() == (b / item).read_bytes()
    assert (a / item).read_bytes() != (c / item).read_bytes()


def test_landed_files_are_never_rewritten_with_other_content(tmp_path: Path) -> None:
    generate_landing(tmp_path, GeneratorOptions(scale=0.1))
    generate_landing(tmp_path, GeneratorOptions(scale=0.1))  # the same delivery again is fine
    with pytest.raises(LandingConflictError, match=r"store\.txt already exists with other content"):
        generate_landing(tmp_path, GeneratorOptions(scale=0.2))
    generate_landing(tmp_path, GeneratorOptions(scale=0.2, start_date=dt.date(2025, 2, 1)))
    assert len(pd.read_csv(tmp_path / "inventory/item/2025-02-01/item.txt")) == 1000


def test_manifest_counts_what_was_written(tmp_path: Path) -> None:
    manifest = generate_landing(tmp_path, GeneratorOptions(scale=1.0, days=30, seed=3))
    assert manifest == json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["generator"] == {"scale": 1.0, "days": 30, "start_date": "2025-01-01", "seed": 3}
    for feed, rows in {"inventory_store": 51, "inventory_item": 5000, "inventory_change_type": 5}.items():
        facts = manifest["feeds"][feed]
        assert facts["rows"] == rows
        (file,) = facts["files"]
        assert len(pd.read_csv(tmp_path / file)) == rows
