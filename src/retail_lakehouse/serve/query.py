"""Parameterised SQL for the read API: filters become bound parameters (never text pasted into a query), and
results become plain rows (dates as ISO text, decimals as numbers)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

Row = dict[str, Any]

# The dashboard's gender labels. Gold says `Unknown` for a sale CRM cannot place and `Not recorded` for a
# known customer without a gender; both read `Unknown` here, so that the cards always add up to every sale.
GENDER_LABEL = (
    "CASE gender WHEN 'F' THEN 'Female' WHEN 'M' THEN 'Male' WHEN 'O' THEN 'Other' "
    "WHEN 'Not recorded' THEN 'Unknown' ELSE coalesce(gender, 'Unknown') END"
)
UNKNOWN = "Unknown"


class BadFilterError(ValueError):
    """A filter value the API refuses (answered with 400, naming the parameter)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"query parameter '{parameter}': {message}")
        self.parameter = parameter


@dataclass
class Where:
    """A WHERE clause built from fixed column expressions and bound values."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def between(self, column: str, start: dt.date | None, end: dt.date | None) -> Where:
        if start is not None:
            self.clauses.append(f"{column} >= $start")
            self.params["start"] = start
        if end is not None:
            self.clauses.append(f"{column} <= $end")
            self.params["end"] = end
        return self

    def any_of(self, column: str, name: str, values: Sequence[str] | None) -> Where:
        """`column IN (...)` with one bound parameter per value (an IN list can skip row groups, a list
        parameter cannot)."""
        if values:
            names = [f"{name}_{index}" for index in range(len(values))]
            self.clauses.append(f"{column} IN ({', '.join(f'${n}' for n in names)})")
            self.params.update(zip(names, values, strict=True))
        return self

    def equals(self, column: str, name: str, value: object | None) -> Where:
        if value is not None:
            self.clauses.append(f"{column} = ${name}")
            self.params[name] = value
        return self

    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


def plain(value: object) -> object:
    """A JSON- and CSV-friendly value: decimals as numbers, dates and times as ISO text."""
    if isinstance(value, decimal.Decimal):
        # A decimal with no scale (a sum of integers) stays an integer; money becomes a JSON number.
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def rows(cursor: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
    result = cursor.execute(sql, params or {})
    names = [column[0] for column in result.description or []]
    return [{name: plain(value) for name, value in zip(names, record, strict=True)} for record in result.fetchall()]


def known_values(cursor: duckdb.DuckDBPyConnection, table: str, expression: str) -> list[str]:
    """The distinct values of a dimension, sorted (what a multi-value filter may name)."""
    found = cursor.execute(f"SELECT DISTINCT {expression} AS v FROM {table} WHERE v IS NOT NULL ORDER BY v").fetchall()
    return [str(value) for (value,) in found]


def check_known(parameter: str, values: Sequence[str] | None, known: Sequence[str]) -> None:
    """A filter naming a value the data has never had is a mistake (a typo), not an empty result."""
    unknown = [value for value in values or () if value not in known]
    if unknown:
        listing = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        raise BadFilterError(parameter, f"unknown value(s) {', '.join(map(repr, unknown))}; known: {listing}")


def check_range(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise BadFilterError("end", f"{end.isoformat()} is before start {start.isoformat()}")
