"""Dirty records at a configured rate, of known kinds and exact counts, mixed into clean files.

Re-deliveries (exact duplicates and truncated JSON, half a real record's line) reuse the real record's
id, as they do in life; every other dirty record gets an id of its own (a 'D' in it), so the clean records
and everything consistent with them (inventory, loyalty) stay as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from retail_lakehouse.generator.serialize import pos_json_lines

POS_KINDS = (
    "duplicate",
    "malformed_json",
    "null_store_id",
    "non_numeric_quantity",
    "invalid_quantity",
    "unknown_product_id",
    "unknown_store_id",
    "future_timestamp",
    "unknown_channel",
)
CUSTOMER_KINDS = ("duplicate", "wrong_column_count", "null_customer_id", "unknown_gender")
INVENTORY_CHANGE_KINDS = ("duplicate", "malformed_json")
UNKNOWN_PRODUCT_ID = '"999999"'
UNKNOWN_STORE_ID = '"9999"'
FUTURE_DAYS = 400

DirtyCounts = dict[str, int]


def counts_per_kind(rng: np.random.Generator, clean: int, rate: float, kinds: tuple[str, ...]) -> DirtyCounts:
    """How many dirty records of each kind: the rate is shared evenly among the kinds."""
    return {kind: int(rng.binomial(clean, rate / len(kinds))) if clean else 0 for kind in kinds}


def mix(rng: np.random.Generator, clean: list[str], dirty: list[str]) -> list[str]:
    """Dirty lines inserted at random places among the clean ones (whose order is kept)."""
    if not dirty:
        return clean
    total = len(clean) + len(dirty)
    dirty_positions = np.sort(rng.choice(total, len(dirty), replace=False))
    out = np.empty(total, dtype=object)
    mask = np.zeros(total, dtype=bool)
    mask[dirty_positions] = True
    out[mask] = rng.permutation(np.array(dirty, dtype=object))
    out[~mask] = np.array(clean, dtype=object)
    return list(out)


def truncate(lines: list[str]) -> list[str]:
    return [line[: len(line) // 2] for line in lines]


def dirty_pos(
    rng: np.random.Generator,
    date: dt.date,
    header: pd.DataFrame,
    line_fields: pd.DataFrame,
    clean_json: pd.Series,
    rate: float,
) -> tuple[list[str], DirtyCounts]:
    counts = counts_per_kind(rng, len(header), rate, POS_KINDS)
    dirty: list[str] = []
    serial = 0
    for kind, count in counts.items():
        if not count:
            continue
        picked = rng.choice(len(header), count, replace=False)
        if kind == "duplicate":
            dirty += list(clean_json.iloc[picked])
            continue
        if kind == "malformed_json":
            dirty += truncate(list(clean_json.iloc[picked]))
            continue
        bad_header = header.iloc[picked].copy()
        new_ids = [f"T{date:%Y%m%d}D{serial + i:05d}" for i in range(count)]
        serial += count
        id_map = dict(zip(bad_header["transaction_id"], new_ids, strict=True))
        bad_lines = line_fields[line_fields["transaction_id"].isin(id_map)].copy()
        bad_header["transaction_id"] = new_ids
        bad_lines["transaction_id"] = bad_lines["transaction_id"].map(id_map)
        first_line = bad_lines["line_number"] == "1"
        _POS_EDITS[kind](rng, bad_header, bad_lines, first_line)
        dirty += list(pos_json_lines(bad_header, bad_lines))
    return dirty, counts


def _future(rng: np.random.Generator, header: pd.DataFrame, lines: pd.DataFrame, first: pd.Series) -> None:
    moved = pd.to_datetime(header["timestamp"].str.strip('"')) + pd.Timedelta(days=FUTURE_DAYS)
    header["timestamp"] = '"' + moved.dt.strftime("%Y-%m-%d %H:%M:%S") + '"'


def _set_line(column: str, value: Callable[[np.random.Generator, int], list[str]]) -> Callable[..., None]:
    def edit(rng: np.random.Generator, header: pd.DataFrame, lines: pd.DataFrame, first: pd.Series) -> None:
        lines.loc[first, column] = value(rng, int(first.sum()))

    return edit


def _set_header(column: str, value: str) -> Callable[..., None]:
    def edit(rng: np.random.Generator, header: pd.DataFrame, lines: pd.DataFrame, first: pd.Series) -> None:
        header[column] = value

    return edit


_POS_EDITS: dict[str, Callable[..., None]] = {
    "null_store_id": _set_header("store_id", "null"),
    "unknown_store_id": _set_header("store_id", UNKNOWN_STORE_ID),
    "unknown_channel": _set_header("channel", '"Kiosk"'),
    "future_timestamp": _future,
    "non_numeric_quantity": _set_line("quantity", lambda rng, n: ['"two"'] * n),
    "invalid_quantity": _set_line("quantity", lambda rng, n: list(rng.choice(["0", "-1"], n))),
    "unknown_product_id": _set_line("product_id", lambda rng, n: [UNKNOWN_PRODUCT_ID] * n),
}


def dirty_customers(
    rng: np.random.Generator, header: str, rows: list[str], rate: float, first_new_id: int
) -> tuple[list[str], DirtyCounts]:
    counts = counts_per_kind(rng, len(rows), rate, CUSTOMER_KINDS)
    columns = header.split(",")
    gender = columns.index("gender")
    dirty: list[str] = []
    next_id = first_new_id
    for kind, count in counts.items():
        for index in rng.choice(len(rows), count, replace=False) if count else []:
            fields = rows[index].split(",")
            if kind == "duplicate":
                dirty.append(rows[index])
                continue
            fields[0] = str(next_id)
            next_id += 1
            if kind == "wrong_column_count":
                fields.append("unexpected")
            elif kind == "null_customer_id":
                fields[0] = ""
            else:
                fields[gender] = "Z"
            dirty.append(",".join(fields))
    return dirty, counts


def dirty_inventory_changes(rng: np.random.Generator, clean: list[str], rate: float) -> tuple[list[str], DirtyCounts]:
    counts = counts_per_kind(rng, len(clean), rate, INVENTORY_CHANGE_KINDS)
    duplicates = rng.choice(len(clean), counts["duplicate"], replace=False) if clean else np.array([], dtype=int)
    malformed = rng.choice(len(clean), counts["malformed_json"], replace=False) if clean else np.array([], dtype=int)
    dirty = [clean[i] for i in duplicates] + truncate([clean[i] for i in malformed])
    return dirty, counts
