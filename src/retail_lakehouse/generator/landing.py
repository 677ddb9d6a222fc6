"""Writes generated feeds into the landing zone, one folder per feed and arrival date, and the manifest."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.generator.reference import make_reference_data

MANIFEST = "_manifest.json"


def write_csv(frame: pd.DataFrame, path: Path, *, trailing_newline: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, lineterminator="\n")
    path.write_text(text if trailing_newline else text.rstrip("\n"), encoding="utf-8")


def generate_landing(landing: Path, options: GeneratorOptions) -> dict[str, Any]:
    """Writes the feeds and `_manifest.json`; returns the manifest. Same options, same bytes."""
    reference = make_reference_data(options)
    folder = options.arrival_folder
    feeds = {
        "inventory_store": (reference.stores, Path("inventory/store") / folder / "store.txt", True),
        "inventory_item": (reference.items, Path("inventory/item") / folder / "item.txt", True),
        # The accelerator's file has no trailing newline; keep that, readers must cope with it.
        "inventory_change_type": (
            reference.change_types,
            Path("inventory/inventory_change_type") / folder / "inventory_change_type.txt",
            False,
        ),
    }
    manifest_feeds: dict[str, Any] = {}
    for name, (frame, relative, trailing_newline) in feeds.items():
        write_csv(frame, landing / relative, trailing_newline=trailing_newline)
        manifest_feeds[name] = {"files": [relative.as_posix()], "rows": len(frame)}
    manifest = {
        "generator": {**asdict(options), "start_date": options.start_date.isoformat()},
        "feeds": manifest_feeds,
    }
    (landing / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
