"""A day of POS transactions with their lines, in store and online, with planted product affinities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_lakehouse.generator.demand import DayPrices, ProductDemand, expected_lines
from retail_lakehouse.generator.randomness import stream

LINES_PER_TRANSACTION = 2.2
CHANNELS = np.array(["Store", "Online", "Mobile"])
CHANNEL_SHARES = [0.7, 0.2, 0.1]
PAYMENT_METHODS = np.array(["card", "cash", "gift_card", "mobile_wallet"])
CARD_BRANDS = {"visa": (["4"], 16), "mastercard": (["51", "52", "53", "54", "55"], 16), "amex": (["34", "37"], 15)}
OPENING_SECONDS = 8 * 3600
CLOSING_SECONDS = 21 * 3600
AFFINITY_ATTACH_PROBABILITY = 0.5


@dataclass(frozen=True)
class Affinity:
    """Buying `antecedent` makes buying every product of `consequents` likely (planted)."""

    antecedent: int  # product index
    consequents: tuple[int, ...]


def plant_affinities(seed: int, demand: ProductDemand, pairs: int = 8, triples: int = 3) -> list[Affinity]:
    """Distinct mid-popularity products, so the pattern stands out from chance co-occurrence."""
    rng = stream(seed, "affinities")
    by_popularity = np.argsort(-demand.popularity)
    count = len(by_popularity)
    candidates = by_popularity[min(20, count // 4) : min(300, count)]
    needed = pairs * 2 + triples * 3
    chosen = rng.choice(candidates, size=min(needed, len(candidates)), replace=False)
    affinities: list[Affinity] = []
    position = 0
    for size, number in ((2, pairs), (3, triples)):
        for _ in range(number):
            group = chosen[position : position + size]
            if len(group) < size:
                return affinities
            affinities.append(Affinity(int(group[0]), tuple(int(g) for g in group[1:])))
            position += size
    return affinities


def luhn_check_digits(partial: np.ndarray) -> np.ndarray:
    """Check digits completing each row of digits (the card number without its last digit)."""
    from_right = partial[:, ::-1]
    doubled = from_right[:, 0::2] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + from_right[:, 1::2].sum(axis=1)
    check: np.ndarray = (10 - total % 10) % 10
    return check


def card_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """Valid (Luhn) test card numbers of the three common brands."""
    brands = rng.choice(list(CARD_BRANDS), count, p=[0.55, 0.35, 0.10])
    numbers = np.empty(count, dtype=object)
    for brand, (prefixes, length) in CARD_BRANDS.items():
        rows = np.flatnonzero(brands == brand)
        if not len(rows):
            continue
        prefix = rng.choice(prefixes, len(rows))
        body_length = length - 1 - len(prefixes[0])
        body = rng.integers(0, 10, (len(rows), body_length))
        prefix_digits = np.array([[int(c) for c in p] for p in prefix])
        digits = np.concatenate([prefix_digits, body], axis=1)
        check = luhn_check_digits(digits)
        numbers[rows] = ["".join(map(str, d)) + str(c) for d, c in zip(digits, check, strict=True)]
    return numbers


@dataclass(frozen=True)
class DaySales:
    transactions: pd.DataFrame  # one row per transaction
    lines: pd.DataFrame  # one row per transaction line


def day_sales(
    seed: int,
    day: int,
    date: dt.date,
    demand: ProductDemand,
    prices: DayPrices,
    product_ids: np.ndarray,
    store_weights: np.ndarray,
    customer_weights: np.ndarray,
    affinities: list[Affinity],
    scale: float,
    store_factors: np.ndarray | None = None,
) -> DaySales:
    """`store_factors`: the day's demand multiplier per physical store (holiday, weather; 1 when None). A
    store's in-store sales scale with it, and so do the day's lines in total."""
    rng = stream(seed, "sales", day)
    factors = np.ones(len(store_weights)) if store_factors is None else store_factors
    in_store = CHANNEL_SHARES[0] * float(np.dot(store_weights, factors))
    store_mix = in_store + sum(CHANNEL_SHARES[1:])
    lines_per_product = rng.poisson(expected_lines(demand, prices, date, scale, store_mix))
    product = np.repeat(np.arange(len(lines_per_product)), lines_per_product)
    transactions = max(1, round(len(product) / LINES_PER_TRANSACTION))
    transaction = rng.integers(0, transactions, len(product))

    product, transaction = _attach_affinities(rng, product, transaction, affinities)
    quantity = 1 + rng.poisson(0.4, len(product))
    lines = (
        pd.DataFrame({"transaction": transaction, "product": product, "quantity": quantity})
        .groupby(["transaction", "product"], as_index=False)["quantity"]
        .sum()
    )
    unit_price = prices.list_price[lines["product"]]
    discount_share = prices.promotion[lines["product"]]
    lines["unit_price"] = unit_price
    lines["discount"] = np.round(unit_price * discount_share * lines["quantity"], 2)
    lines["product_id"] = product_ids[lines["product"]]

    weights = store_weights * factors
    header = _transaction_headers(
        rng, date, np.unique(lines["transaction"]), weights / weights.sum(), customer_weights, in_store / store_mix
    )
    lines = lines.merge(header[["transaction", "transaction_id"]], on="transaction")
    lines["line_number"] = lines.groupby("transaction").cumcount() + 1
    lines = lines.sort_values(["transaction_id", "line_number"]).reset_index(drop=True)
    return DaySales(transactions=header.drop(columns="transaction"), lines=lines.drop(columns="transaction"))


def _attach_affinities(
    rng: np.random.Generator, product: np.ndarray, transaction: np.ndarray, affinities: list[Affinity]
) -> tuple[np.ndarray, np.ndarray]:
    extra_products = [product]
    extra_transactions = [transaction]
    for affinity in affinities:
        baskets = np.unique(transaction[product == affinity.antecedent])
        attached = baskets[rng.random(len(baskets)) < AFFINITY_ATTACH_PROBABILITY]
        for consequent in affinity.consequents:
            extra_products.append(np.full(len(attached), consequent))
            extra_transactions.append(attached)
    return np.concatenate(extra_products), np.concatenate(extra_transactions)


def _transaction_headers(
    rng: np.random.Generator,
    date: dt.date,
    transactions: np.ndarray,
    store_weights: np.ndarray,
    customer_weights: np.ndarray,
    in_store_share: float,
) -> pd.DataFrame:
    count = len(transactions)
    online = sum(CHANNEL_SHARES[1:])
    shares = [in_store_share, *((1 - in_store_share) * s / online for s in CHANNEL_SHARES[1:])]
    channel = rng.choice(CHANNELS, count, p=shares)
    in_store = channel == "Store"
    physical_store = 1 + rng.choice(len(store_weights), count, p=store_weights)
    store_id = np.where(in_store, physical_store, 0)
    known_customer = ~in_store | (rng.random(count) < 0.6)
    customer = 1 + rng.choice(len(customer_weights), count, p=customer_weights)
    method = np.where(
        in_store,
        rng.choice(PAYMENT_METHODS, count, p=[0.6, 0.25, 0.05, 0.10]),
        rng.choice(PAYMENT_METHODS[[0, 2, 3]], count, p=[0.8, 0.05, 0.15]),
    )
    cards = np.full(count, None, dtype=object)
    paid_by_card = method == "card"
    cards[paid_by_card] = card_numbers(rng, int(paid_by_card.sum()))
    bopis = ~in_store & (rng.random(count) < 0.15)
    seconds = np.sort(rng.integers(OPENING_SECONDS, CLOSING_SECONDS, count))
    timestamps = pd.Timestamp(date) + pd.to_timedelta(seconds, unit="s")
    header = pd.DataFrame(
        {
            "transaction": rng.permutation(transactions),  # so that time order and basket contents are unrelated
            "transaction_id": [f"T{date:%Y%m%d}{i:06d}" for i in range(count)],
            "store_id": store_id,
            "customer_id": pd.array(np.where(known_customer, customer, 0), dtype="Int64"),
            "timestamp": timestamps.strftime("%Y-%m-%d %H:%M:%S"),
            "channel": channel,
            "payment_method": method,
            "card_number": cards,
            "fulfillment": pd.Series(np.where(bopis, "bopis", "ship")).where(~in_store, None),
            "pickup_store_id": pd.array(np.where(bopis, physical_store, 0), dtype="Int64"),
        }
    )
    header.loc[~known_customer, "customer_id"] = pd.NA
    header.loc[~bopis, "pickup_store_id"] = pd.NA
    return header
