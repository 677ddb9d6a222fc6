"""Writes the hand-built gold lakehouse of tests/fixtures/dashboard/gold.json as Delta tables (with the
`deltalake` writer, no Spark), typed as the gold jobs type them."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from tests.conftest import FIXTURES

GOLD = FIXTURES / "dashboard" / "gold.json"

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "long": pa.int64(),
    "int": pa.int32(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "money": pa.decimal128(38, 4),
    "strings": pa.list_(pa.string()),
}
PARSERS: dict[str, Callable[[Any], Any]] = {
    "date": dt.date.fromisoformat,
    "timestamp": dt.datetime.fromisoformat,
    "money": decimal.Decimal,
}


def gold_tables() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in json.loads(GOLD.read_text()).items() if not name.startswith("_")}


def arrow_table(spec: dict[str, Any], rows: Iterable[list[Any]] | None = None) -> pa.Table:
    columns = list(spec["schema"].items())
    records = list(spec["rows"] if rows is None else rows)
    arrays = {}
    for index, (name, kind) in enumerate(columns):
        parse = PARSERS.get(kind, lambda value: value)
        arrays[name] = pa.array(
            [None if row[index] is None else parse(row[index]) for row in records], type=ARROW_TYPES[kind]
        )
    return pa.table(arrays)


def write_gold(root: Path, only: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Writes the fixture's tables (or `only` those) under `root`; returns their specs."""
    tables = gold_tables()
    for name in only if only is not None else tables:
        write_deltalake(str(root / name), arrow_table(tables[name]))
    return tables
