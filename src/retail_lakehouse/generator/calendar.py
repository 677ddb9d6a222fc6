"""What moves a store's demand from day to day besides prices: the season, public holidays and the weather.

Every effect is multiplicative and planted with a known size (the manifest records them), so a forecast
model's estimates can be checked against the truth:
- yearly seasonality per department: 1 + amplitude * cos(2 pi (day_of_year - peak_day) / 365.25);
- public holidays (the `holidays` package, per store's country and subdivision): HOLIDAY_UPLIFT;
- weather per region: exp(TEMPERATURE_EFFECT * (temperature - REFERENCE_TEMPERATURE)), and RAIN_EFFECT on
  days with at least RAIN_THRESHOLD_MM of precipitation.
Holidays and weather act on physical stores (the online store has neither); the season acts on products.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import holidays
import numpy as np
import pandas as pd

from retail_lakehouse.generator.randomness import stream

HOLIDAY_UPLIFT = 1.6
TEMPERATURE_EFFECT = 0.015  # per degree Celsius
REFERENCE_TEMPERATURE = 12.0
RAIN_EFFECT = 0.8
RAIN_THRESHOLD_MM = 5.0

# department -> (amplitude, peak day of year)
SEASONALITY: dict[str, tuple[float, int]] = {
    "Bikes": (0.40, 150),
    "Accessories": (0.25, 160),
    "Clothing": (0.20, 330),
    "Components": (0.15, 120),
    "Nutrition": (0.30, 190),
}

# Mean temperature per region (degrees C) around which the year swings by TEMPERATURE_SWING.
REGION_CLIMATE = {"North": 8.0, "South": 16.0, "East": 10.0, "West": 11.0, "Central": 11.0}
TEMPERATURE_SWING = 9.0
WARMEST_DAY = 200
RAIN_PROBABILITY = 0.35


def seasonal_factor(amplitude: np.ndarray, peak_day: np.ndarray, date: dt.date) -> np.ndarray:
    day_of_year = date.timetuple().tm_yday
    factor: np.ndarray = 1 + amplitude * np.cos(2 * np.pi * (day_of_year - peak_day) / 365.25)
    return factor


@cache
def _holiday_calendar(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def is_public_holiday(country: str | None, subdivision: str | None, date: dt.date) -> bool:
    if not country:
        return False
    return date in _holiday_calendar(country, subdivision, date.year)


def store_holidays(countries: Iterable[str | None], subdivisions: Iterable[str | None], date: dt.date) -> np.ndarray:
    return np.array(
        [is_public_holiday(c, s, date) for c, s in zip(countries, subdivisions, strict=True)],
        dtype=bool,
    )


@dataclass
class Weather:
    """Daily weather per region: a yearly temperature cycle with persistent (AR(1)) anomalies, and rain."""

    regions: list[str]
    anomaly: np.ndarray  # today's temperature anomaly per region

    @classmethod
    def start(cls, regions: Iterable[str]) -> Weather:
        names = list(regions)
        return cls(regions=names, anomaly=np.zeros(len(names)))

    def next_day(self, seed: int, day: int, date: dt.date) -> pd.DataFrame:
        rng = stream(seed, "weather", day)
        self.anomaly = 0.7 * self.anomaly + rng.normal(0.0, 2.0, len(self.regions))
        climate = np.array([REGION_CLIMATE.get(r, 11.0) for r in self.regions])
        cycle = TEMPERATURE_SWING * np.cos(2 * np.pi * (date.timetuple().tm_yday - WARMEST_DAY) / 365.25)
        temperature = np.round(climate + cycle + self.anomaly, 1)
        rains = rng.random(len(self.regions)) < RAIN_PROBABILITY
        precipitation = np.where(rains, np.round(rng.gamma(0.8, 6.0, len(self.regions)), 1), 0.0)
        return pd.DataFrame(
            {
                "date": date.isoformat(),
                "region": self.regions,
                "temperature_c": temperature,
                "precipitation_mm": precipitation,
            }
        )


def weather_factor(temperature: np.ndarray, precipitation: np.ndarray) -> np.ndarray:
    factor: np.ndarray = np.exp(TEMPERATURE_EFFECT * (temperature - REFERENCE_TEMPERATURE)) * np.where(
        precipitation >= RAIN_THRESHOLD_MM, RAIN_EFFECT, 1.0
    )
    return factor


def planted_effects() -> dict[str, object]:
    return {
        "holiday_uplift": HOLIDAY_UPLIFT,
        "temperature_effect_per_degree": TEMPERATURE_EFFECT,
        "reference_temperature_c": REFERENCE_TEMPERATURE,
        "rain_effect": RAIN_EFFECT,
        "rain_threshold_mm": RAIN_THRESHOLD_MM,
        "seasonality": {d: {"amplitude": a, "peak_day_of_year": p} for d, (a, p) in SEASONALITY.items()},
    }
