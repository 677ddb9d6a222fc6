"""Public holidays per store and weather for dates that have none yet: what the forecast knows ahead."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

HOLIDAY_SCHEMA = "country string, subdivision string, date date, holiday_name string"


@cache
def _holidays_of(country: str, subdivision: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:  # a country the package does not know: no holidays, said in the docs
        return ()
    return tuple(sorted(calendar.items()))


def holiday_rows(places: list[tuple[str, str]], first: dt.date, last: dt.date) -> list[tuple[str, str, dt.date, str]]:
    """(country, subdivision, date, name) of every public holiday of `places` between first and last."""
    rows = []
    for country, subdivision in places:
        for year in range(first.year, last.year + 1):
            for day, name in _holidays_of(country, subdivision, year):
                if first <= day <= last:
                    rows.append((country, subdivision, day, name))
    return rows


def store_holidays(spark: SparkSession, stores: DataFrame, first: dt.date, last: dt.date) -> DataFrame:
    """store_id, date, holiday_name for every public holiday of each store's country and subdivision. The
    stores table is small (one row per store): its distinct places are collected to call `holidays`."""
    located = stores.select(
        "store_id", F.coalesce("country", F.lit("")).alias("country"), F.coalesce("subdivision", F.lit("")).alias("sub")
    )
    places = sorted({(r["country"], r["sub"]) for r in located.select("country", "sub").distinct().collect()})
    calendar = spark.createDataFrame(holiday_rows([p for p in places if p[0]], first, last), HOLIDAY_SCHEMA)
    return located.join(
        calendar, (located["country"] == calendar["country"]) & (located["sub"] == calendar["subdivision"])
    ).select("store_id", "date", "holiday_name")
