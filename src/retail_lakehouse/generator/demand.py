"""Prices over time and the demand that answers them with a planted elasticity per product.

Each product has a popularity and an elasticity. Popular products are priced dynamically (a new price
every few days, ±40% around the base), the rest change price rarely; some days carry a promotion. The
expected number of sale lines of product p on day d is
    base_lines * popularity_p * weekday_factor_d * season_pd * store_mix_d
    * (effective_price_pd / base_price_p) ** elasticity_p,
so a log-log regression of daily quantity on price recovers the elasticity. season_pd is the product's
department's yearly cycle and store_mix_d the day's holiday and weather effects averaged over where the
sales happen (generator.calendar); both are 1 on average.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_lakehouse.generator.calendar import SEASONALITY, seasonal_factor
from retail_lakehouse.generator.randomness import stream

LINES_PER_DAY_AT_SCALE_1 = 11_111  # about 1 million lines in 90 days
DYNAMIC_PRICING_SHARE = 0.04
WEEKDAY_FACTOR = np.array([0.85, 0.85, 0.9, 0.95, 1.1, 1.35, 1.0])  # Monday .. Sunday
PROMOTION_DISCOUNTS = np.array([0.10, 0.15, 0.20, 0.25])


@dataclass(frozen=True)
class ProductDemand:
    """Per product (in the products table's order): what never changes."""

    popularity: np.ndarray  # sums to 1
    elasticity: np.ndarray
    dynamic: np.ndarray  # bool: priced dynamically
    base_price: np.ndarray
    season_amplitude: np.ndarray
    season_peak_day: np.ndarray


def product_demand(seed: int, products: pd.DataFrame, departments: np.ndarray) -> ProductDemand:
    """`departments`: each product's department name (its yearly cycle)."""
    rng = stream(seed, "demand")
    count = len(products)
    rank = rng.permutation(count)
    weight = 1.0 / (rank + 5.0) ** 0.9
    dynamic = rank < max(3, round(count * DYNAMIC_PRICING_SHARE))
    return ProductDemand(
        popularity=weight / weight.sum(),
        elasticity=np.round(rng.uniform(-2.6, -0.3, count), 3),
        dynamic=dynamic,
        base_price=products["list_price"].to_numpy(dtype=float),
        season_amplitude=np.array([SEASONALITY.get(str(d), (0.0, 1))[0] for d in departments]),
        season_peak_day=np.array([SEASONALITY.get(str(d), (0.0, 1))[1] for d in departments]),
    )


@dataclass(frozen=True)
class DayPrices:
    list_price: np.ndarray  # the day's shelf price per product
    changed: np.ndarray  # bool: the price changed this day
    promotion: np.ndarray  # discount share per product, 0 when not on promotion


def next_prices(seed: int, day: int, demand: ProductDemand, previous: np.ndarray | None) -> DayPrices:
    """Prices of day `day` (counted from the origin) given the previous day's."""
    rng = stream(seed, "prices", day)
    count = len(demand.base_price)
    if previous is None:
        changed = np.zeros(count, dtype=bool)
        price = demand.base_price.copy()
    else:
        change_probability = np.where(demand.dynamic, 0.22, 0.01)
        changed = rng.random(count) < change_probability
        # Wide enough that 90 days identify an elasticity: a dynamically priced product sells 10-60 units
        # a day, whose counts carry Poisson noise of ~0.3 in logs. With ±25% (a log-price spread of 0.14)
        # the median standard error was 0.25 and the median error 0.28 at scale 0.1; ±40% halves both.
        multiplier = rng.uniform(0.6, 1.4, count)
        candidate = np.maximum(np.floor(demand.base_price * multiplier) + 0.99, 0.99)
        changed &= np.abs(candidate / previous - 1) > 0.01
        price = np.where(changed, candidate, previous)
    on_promotion = rng.random(count) < np.where(demand.dynamic, 0.06, 0.02)
    promotion = np.where(on_promotion, rng.choice(PROMOTION_DISCOUNTS, count), 0.0)
    return DayPrices(list_price=price, changed=changed, promotion=promotion)


def typical_daily_lines(demand: ProductDemand, scale: float) -> np.ndarray:
    """Expected POS lines per product on an average weekday at list price (what a planner forecasts)."""
    lines: np.ndarray = LINES_PER_DAY_AT_SCALE_1 * scale * demand.popularity * WEEKDAY_FACTOR.mean()
    return lines


def expected_lines(
    demand: ProductDemand, prices: DayPrices, date: dt.date, scale: float, store_mix: float = 1.0
) -> np.ndarray:
    """Expected POS lines per product on `date`; `store_mix`: the day's holiday and weather effect over all
    channels (1 on an ordinary day)."""
    effective = prices.list_price * (1 - prices.promotion)
    response = (effective / demand.base_price) ** demand.elasticity
    season = seasonal_factor(demand.season_amplitude, demand.season_peak_day, date)
    lines: np.ndarray = (
        LINES_PER_DAY_AT_SCALE_1
        * scale
        * demand.popularity
        * WEEKDAY_FACTOR[date.weekday()]
        * season
        * store_mix
        * response
    )
    return lines
