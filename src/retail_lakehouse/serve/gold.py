"""Gold tables read without Spark: each table's latest Delta version held as a DuckDB table, reloaded when a
newer version is committed (checked at most once a `recheck_seconds` per table, so a running stream's merges
show up within seconds and a burst of requests reads the Delta log once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import duckdb
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError


class MissingTablesError(Exception):
    """Tables a view needs are not in the lakehouse (yet)."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(f"missing gold tables: {', '.join(tables)}")
        self.tables = tables


T = TypeVar("T")
SNAPSHOT = "_snapshot"


@dataclass(frozen=True)
class LoadedVersion:
    version: int
    checked_at: float
    rows: int


def is_delta_table(location: str) -> bool:
    return bool(DeltaTable.is_deltatable(location))


def view_name(table: str) -> str:
    """The DuckDB name of a lakehouse table: `gold/sales_daily` -> `sales_daily`."""
    return table.rsplit("/", 1)[-1]


class GoldReader:
    """The gold tables of one lakehouse, as DuckDB tables at their latest Delta version.

    `locations` maps a table name (`gold/sales_daily`) to its Delta location; `shapes` may give, per table, the
    SELECT over `_snapshot` that loads it (labels applied once, rows sorted by date so that a date filter skips
    row groups). Reads go through `cursor`, which first brings the tables a query names up to date; each
    request gets its own cursor (DuckDB cursors are per thread), all over one in-memory database."""

    def __init__(
        self,
        locations: Mapping[str, str],
        *,
        shapes: Mapping[str, str] | None = None,
        storage_options: Mapping[str, str] | None = None,
        recheck_seconds: float = 1.0,
    ) -> None:
        self.locations = dict(locations)
        self._shapes = dict(shapes or {})
        self._memo: dict[str, tuple[tuple[int | None, ...], object]] = {}
        self._storage_options = dict(storage_options or {})
        self._recheck_seconds = recheck_seconds
        self._database = duckdb.connect(":memory:")
        self._loaded: dict[str, LoadedVersion] = {}
        self._locks = {table: threading.Lock() for table in self.locations}

    def missing(self, tables: Iterable[str]) -> list[str]:
        """The tables of `tables` with no Delta table at their location."""
        return [table for table in tables if not self._refresh(table)]

    def cursor(self, tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        """A cursor over the database with every table of `tables` at its latest version (MissingTablesError
        names those that do not exist)."""
        missing = self.missing(tables)
        if missing:
            raise MissingTablesError(missing)
        return self._database.cursor()

    def memo(self, key: str, tables: Iterable[str], compute: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`compute` over the tables, computed once per combination of their versions (filter options)."""
        tables = tuple(tables)
        with self.cursor(tables) as cursor:
            versions = tuple(self.version(table) for table in tables)
            held = self._memo.get(key)
            if held is not None and held[0] == versions:
                return held[1]  # type: ignore[return-value]
            value = compute(cursor)
        self._memo[key] = (versions, value)
        return value

    def warm(self) -> list[str]:
        """Loads every table that exists (at start-up, so that the first page is as fast as the next);
        returns those that do not exist yet."""
        return self.missing(self.locations)

    def version(self, table: str) -> int | None:
        loaded = self._loaded.get(table)
        return loaded.version if loaded else None

    def _refresh(self, table: str) -> bool:
        """Loads `table` if a newer version than the one held exists; False when there is no table."""
        if table not in self.locations:
            raise KeyError(f"'{table}' is not a table this dashboard reads")
        with self._locks[table]:
            loaded = self._loaded.get(table)
            now = time.monotonic()
            if loaded and now - loaded.checked_at < self._recheck_seconds:
                return True
            try:
                delta = DeltaTable(self.locations[table], storage_options=self._storage_options or None)
            except TableNotFoundError:
                return False
            version = delta.version()
            if loaded and loaded.version == version:
                self._loaded[table] = LoadedVersion(version, now, loaded.rows)
                return True
            rows = self._load(table, delta)
            self._loaded[table] = LoadedVersion(version, now, rows)
            return True

    def _load(self, table: str, delta: DeltaTable) -> int:
        # One transaction: a concurrent query sees the previous version or the new one, never neither.
        snapshot = delta.to_pyarrow_table()
        loader = self._database.cursor()
        try:
            loader.register(SNAPSHOT, snapshot)
            shape = self._shapes.get(table, f"SELECT * FROM {SNAPSHOT}")
            loader.execute(f'CREATE OR REPLACE TABLE "{view_name(table)}" AS {shape}')
            loader.unregister(SNAPSHOT)
        finally:
            loader.close()
        return int(snapshot.num_rows)
