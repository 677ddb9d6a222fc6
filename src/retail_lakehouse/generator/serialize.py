"""Turns generated frames into the bytes of landing files: CSV with a header, or one JSON document per line.

JSON is assembled with vectorised string operations (no per-row Python objects): every value here is
generated, so none needs escaping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def csv_text(frame: pd.DataFrame, *, trailing_newline: bool = True) -> str:
    text = str(frame.to_csv(index=False, lineterminator="\n"))
    return text if trailing_newline else text.rstrip("\n")


def csv_rows(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """The header line and the data lines of `frame` as CSV."""
    header, *rows = csv_text(frame).rstrip("\n").split("\n")
    return header, rows


def json_string(values: pd.Series) -> pd.Series:
    """Each value as a JSON string literal, missing values as null."""
    text = '"' + values.astype(str) + '"'
    return text.where(values.notna(), "null")


def json_money(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.asarray(values, dtype=float))


def pos_fields(transactions: pd.DataFrame, lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """JSON-ready text per header field and per line field (dirty records are made by editing these)."""
    header = pd.DataFrame(
        {
            "transaction_id": transactions["transaction_id"].to_numpy(),
            "store_id": json_string(transactions["store_id"].astype("Int64")).to_numpy(),
            "customer_id": json_string(transactions["customer_id"]).to_numpy(),
            "timestamp": ('"' + transactions["timestamp"] + '"').to_numpy(),
            "channel": ('"' + transactions["channel"] + '"').to_numpy(),
            "payment_method": ('"' + transactions["payment_method"] + '"').to_numpy(),
            "card_number": json_string(transactions["card_number"]).to_numpy(),
        }
    )
    line_fields = pd.DataFrame(
        {
            "transaction_id": lines["transaction_id"].to_numpy(),
            "line_number": lines["line_number"].astype(str).to_numpy(),
            "product_id": ('"' + lines["product_id"].astype(str) + '"').to_numpy(),
            "quantity": lines["quantity"].astype(str).to_numpy(),
            "unit_price": json_money(lines["unit_price"]),
            "discount": json_money(lines["discount"]),
        }
    )
    return header, line_fields


def pos_json_lines(header: pd.DataFrame, line_fields: pd.DataFrame) -> pd.Series:
    """One JSON document per transaction with its lines nested, in the header's order."""
    line_json = (
        '{"line_number":'
        + line_fields["line_number"]
        + ',"product_id":'
        + line_fields["product_id"]
        + ',"quantity":'
        + line_fields["quantity"]
        + ',"unit_price":'
        + line_fields["unit_price"]
        + ',"discount":'
        + line_fields["discount"]
        + "}"
    )
    nested = line_json.groupby(line_fields["transaction_id"].to_numpy(), sort=False).agg(",".join)
    lines = nested.reindex(header["transaction_id"]).fillna("").to_numpy()
    return pd.Series(
        '{"transaction_id":"'
        + header["transaction_id"]
        + '","store_id":'
        + header["store_id"]
        + ',"customer_id":'
        + header["customer_id"]
        + ',"timestamp":'
        + header["timestamp"]
        + ',"channel":'
        + header["channel"]
        + ',"payment_method":'
        + header["payment_method"]
        + ',"card_number":'
        + header["card_number"]
        + ',"lines":['
        + lines
        + "]}"
    )


def inventory_change_json_lines(changes: pd.DataFrame) -> pd.Series:
    """The accelerator's change events: one document per transaction with its items."""
    item_json = '{"item_id":' + changes["item_id"].astype(str) + ',"quantity":' + changes["quantity"].astype(str) + "}"
    keys = ["trans_id", "store_id", "date_time", "change_type_id"]
    grouped = (
        changes[keys]
        .assign(item=item_json)
        .groupby(keys, sort=False, as_index=False)["item"]
        .agg(",".join)
        .sort_values(["date_time", "trans_id"], kind="stable")
    )
    return (
        '{"trans_id":"'
        + grouped["trans_id"]
        + '","store_id":'
        + grouped["store_id"].astype(str)
        + ',"date_time":"'
        + grouped["date_time"]
        + '","change_type_id":'
        + grouped["change_type_id"].astype(str)
        + ',"items":['
        + grouped["item"]
        + "]}"
    )


def records_json_lines(frame: pd.DataFrame) -> list[str]:
    text = str(frame.to_json(orient="records", lines=True))
    return text.rstrip("\n").split("\n") if len(frame) else []
