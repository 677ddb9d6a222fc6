"""Test helpers: write a configuration folder from Python mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_conf(conf_dir: Path, base: dict[str, dict[str, Any]], local: dict[str, dict[str, Any]] | None = None) -> Path:
    """Writes conf/base/<file>.yaml and conf/local/<file>.yaml from {file name: mapping}."""
    for layer, files in (("base", base), ("local", local or {})):
        folder = conf_dir / layer
        folder.mkdir(parents=True, exist_ok=True)
        for name, mapping in files.items():
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return conf_dir


def minimal_base(root: Path, landing: Path) -> dict[str, dict[str, Any]]:
    """A valid configuration with one feed, one bronze table and one incremental ingestion job."""
    return {
        "lakehouse": {"storage": {"landing": str(landing), "root": str(root)}},
        "feeds": {
            "feeds": {
                "stores": {
                    "path": "stores",
                    "format": "csv",
                    "schema": "store_id STRING, name STRING",
                    "options": {"header": "true"},
                }
            }
        },
        "tables": {"tables": {"bronze/stores": {"partition_by": ["_ingest_date"]}}},
        "jobs": {
            "jobs": {
                "bronze_stores": {
                    "description": "stores to bronze",
                    "transform": "bronze.ingest",
                    "inputs": {"source": "feed:stores"},
                    "output": "bronze/stores",
                    "incremental": True,
                    "write": {"mode": "append"},
                }
            }
        },
        "pipelines": {"pipelines": {"daily": {"jobs": ["bronze_stores"]}, "all": {"jobs": "*"}}},
    }
