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


class LandingConflictError(ValueError):
    """A landed file would change: landed files are immutable, ingestion takes each path once."""


def csv_bytes(frame: pd.DataFrame, *, trailing_newline: bool = True) -> bytes:
    text = str(frame.to_csv(index=False, lineterminator="\n"))
    return (text if trailing_newline else text.rstrip("\n")).encode("utf-8")


def write_delivery(landing: Path, files: dict[Path, bytes]) -> None:
    """Writes all files of a delivery, or none: a landed file that would change is refused up front."""
    for relative, data in files.items():
        target = landing / relative
        if target.exists() and target.read_bytes() != data:
            raise LandingConflictError(
                f"{target} already exists with other content; bronze ingests each file once, so write the new "
                "delivery under another --start-date, or clear the landing zone and the lakehouse"
            )
    for relative, data in files.items():
        target = landing / relative
        if not target.exists():  # the same delivery again changes nothing
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


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
    write_delivery(
        landing, {relative: csv_bytes(frame, trailing_newline=newline) for frame, relative, newline in feeds.values()}
    )
    manifest_feeds: dict[str, Any] = {
        name: {"files": [relative.as_posix()], "rows": len(frame)} for name, (frame, relative, _) in feeds.items()
    }
    manifest = {
        "generator": {**asdict(options), "start_date": options.start_date.isoformat()},
        "feeds": manifest_feeds,
    }
    (landing / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
