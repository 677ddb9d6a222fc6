"""What follows from a day's sales and the passing of time: e-commerce orders, loyalty points,
competitor price checks, and changed customer and product master data (work for SCD2)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retail_lakehouse.generator.demand import DayPrices
from retail_lakehouse.generator.dimensions import CITIES, SEGMENTS
from retail_lakehouse.generator.randomness import stream
from retail_lakehouse.generator.sales import DaySales

COMPETITORS = np.array(["VeloMart", "CycleHub"])


def order_totals(sales: DaySales) -> pd.DataFrame:
    lines = sales.lines
    net = lines["unit_price"] * lines["quantity"] - lines["discount"]
    return (
        pd.DataFrame({"transaction_id": lines["transaction_id"], "net": net, "items": lines["quantity"]})
        .groupby("transaction_id", as_index=False)
        .sum()
    )


def ecommerce_orders(sales: DaySales) -> pd.DataFrame:
    """The web shop's order records for the day's Online and Mobile transactions."""
    online = sales.transactions[sales.transactions["channel"] != "Store"]
    orders = online.merge(order_totals(sales), on="transaction_id")
    return pd.DataFrame(
        {
            "order_id": orders["transaction_id"],
            "customer_id": orders["customer_id"],
            "order_ts": orders["timestamp"],
            "channel": orders["channel"],
            "fulfillment": orders["fulfillment"],
            "pickup_store_id": orders["pickup_store_id"],
            "status": "completed",
            "item_count": orders["items"],
            "order_total": orders["net"].round(2),
        }
    )


def loyalty_events(seed: int, day: int, date: dt.date, sales: DaySales) -> pd.DataFrame:
    """Points earned on every purchase by a known customer (one per whole currency unit), some redeemed."""
    rng = stream(seed, "loyalty", day)
    known = sales.transactions[sales.transactions["customer_id"].notna()].merge(
        order_totals(sales), on="transaction_id"
    )
    earned = pd.DataFrame(
        {
            "customer_id": known["customer_id"],
            "event_ts": known["timestamp"],
            "event_type": "earn",
            "points": np.floor(known["net"]).astype(int),
            "transaction_id": known["transaction_id"],
        }
    )
    redeeming = known[rng.random(len(known)) < 0.03]
    redeemed = pd.DataFrame(
        {
            "customer_id": redeeming["customer_id"],
            "event_ts": redeeming["timestamp"],
            "event_type": "redeem",
            "points": 50 * rng.integers(2, 11, len(redeeming)),
            "transaction_id": redeeming["transaction_id"],
        }
    )
    events = pd.concat([earned, redeemed], ignore_index=True).sort_values(["event_ts", "transaction_id"])
    events.insert(0, "event_id", [f"L{date:%Y%m%d}{i:06d}" for i in range(len(events))])
    return events.reset_index(drop=True)


def competitor_prices(seed: int, day: int, date: dt.date, product_ids: np.ndarray, prices: DayPrices) -> pd.DataFrame:
    """Weekly (Mondays, and the first day) checks of two competitors' prices for a third of the range."""
    rng = stream(seed, "competitors", day)
    checked = stream(seed, "competitor-range").random(len(product_ids)) < 1 / 3
    rows = []
    for competitor in COMPETITORS:
        price = np.round(prices.list_price[checked] * rng.uniform(0.88, 1.1, int(checked.sum())), 2)
        rows.append(
            pd.DataFrame(
                {
                    "product_id": product_ids[checked],
                    "competitor": competitor,
                    "price": price,
                    "observed_date": date.isoformat(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def other_values(rng: np.random.Generator, current: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each current value, one of the other `values` at random (a change always changes something)."""
    position = pd.Index(values).get_indexer(current)
    shift = rng.integers(1, len(values), len(current))
    chosen: np.ndarray = values[(np.maximum(position, 0) + shift) % len(values)]
    return chosen


def customer_changes(seed: int, day: int, date: dt.date, customers: pd.DataFrame) -> pd.DataFrame:
    """About 0.1% of customers move or change segment, to a city or segment other than theirs (so each
    delivered change is a new SCD2 version, never an unchanged re-delivery); `customers` is updated in place."""
    rng = stream(seed, "customer-changes", day)
    changing = np.flatnonzero(rng.random(len(customers)) < 0.001)
    moves = rng.random(len(changing)) < 0.5
    columns = customers.columns
    for column, chosen, values in (("city", changing[moves], CITIES), ("segment", changing[~moves], SEGMENTS)):
        position = columns.get_loc(column)
        customers.iloc[chosen, position] = other_values(rng, customers.iloc[chosen, position].to_numpy(), values)
    customers.iloc[changing, columns.get_loc("updated_at")] = f"{date} 12:00:00"
    return customers.iloc[changing].copy()


def product_changes(date: dt.date, products: pd.DataFrame, prices: DayPrices) -> pd.DataFrame:
    """Product master rows whose list price changed today."""
    changed = products[prices.changed].copy()
    changed["list_price"] = prices.list_price[prices.changed]
    changed["updated_at"] = f"{date} 07:00:00"
    return changed
