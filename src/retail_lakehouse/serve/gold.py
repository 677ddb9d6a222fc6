"""Gold tables read without Spark: each table's latest Delta version held as a DuckDB table, with the
smaller tables the dashboard's queries read (aggregates, joins, integer keys) derived from them.

A background poller looks for new Delta versions every `recheck_seconds` and swaps a table and everything
derived from it in one transaction, so a running stream's merges show up within seconds, a request never
waits for a reload, and no query sees a table and its derivatives at different versions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import duckdb
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from retail_lakehouse.io.delta_arrow import read_arrow

log = logging.getLogger(__name__)

T = TypeVar("T")
SNAPSHOT = "_snapshot"


class MissingTablesError(Exception):
    """Tables a view needs are not in the lakehouse (yet)."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(f"missing gold tables: {', '.join(tables)}")
        self.tables = tables


@dataclass(frozen=True)
class Derived:
    """A DuckDB table computed from loaded tables (by their DuckDB names in `sql`), rebuilt with them.

    With `sizing` (a query over the tables built before it, answering one row of integers), `sql` takes
    those integers as {name} fields, and the table is built only when `build_if` accepts them (it is
    dropped otherwise)."""

    name: str
    sources: tuple[str, ...]
    sql: str
    sizing: str | None = None
    build_if: Callable[[Mapping[str, int]], bool] | None = None


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
    SELECT over `_snapshot` that loads it (labels applied once, rows in date order); `derived` tables are
    rebuilt whenever one of their sources loads a new version. Reads go through `cursor`; each request gets
    its own cursor (DuckDB cursors are per thread), all over one in-memory database."""

    def __init__(
        self,
        locations: Mapping[str, str],
        *,
        shapes: Mapping[str, str] | None = None,
        derived: Iterable[Derived] = (),
        storage_options: Mapping[str, str] | None = None,
        recheck_seconds: float = 1.0,
    ) -> None:
        self.locations = dict(locations)
        self._shapes = dict(shapes or {})
        self._derived = list(derived)
        self._memo: dict[str, tuple[tuple[int | None, ...], object]] = {}
        self._built: dict[str, bool] = {}
        self._storage_options = dict(storage_options or {})
        self._recheck_seconds = recheck_seconds
        self._database = duckdb.connect(":memory:", config={"threads": 1})
        self._loaded: dict[str, LoadedVersion] = {}
        self._deltas: dict[str, DeltaTable] = {}
        self._locks = {table: threading.Lock() for table in self.locations}
        self._swap = threading.Lock()  # one reload transaction at a time
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # -- reading -------------------------------------------------------------------------------------------
    def missing(self, tables: Iterable[str]) -> list[str]:
        """The tables of `tables` with no Delta table at their location."""
        return [table for table in tables if not self._current(table)]

    def cursor(self, tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        """A cursor over the database with every table of `tables` loaded (MissingTablesError names those
        that do not exist)."""
        missing = self.missing(tables)
        if missing:
            raise MissingTablesError(missing)
        return self._database.cursor()

    def built(self, derived: str) -> bool:
        """Whether a derived table with a condition exists at the tables' current versions."""
        return self._built.get(derived, False)

    def version(self, table: str) -> int | None:
        loaded = self._loaded.get(table)
        return loaded.version if loaded else None

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

    # -- keeping current -----------------------------------------------------------------------------------
    def warm(self) -> list[str]:
        """Loads every table that exists (at start-up, so that the first page is as fast as the next);
        returns those that do not exist yet."""
        return [table for table in self.locations if not self._refresh(table)]

    def start_polling(self) -> None:
        """Checks every table for a new version every `recheck_seconds`, in a background thread."""
        if self._recheck_seconds <= 0 or self._poller is not None:
            return
        self._poller = threading.Thread(target=self._poll, name="gold-poller", daemon=True)
        self._poller.start()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=30)
            self._poller = None

    def _poll(self) -> None:
        while not self._stop.wait(self._recheck_seconds):
            for table in self.locations:
                try:
                    self._refresh(table)
                except Exception:  # a table mid-rewrite or unreadable for a moment: the next round retries
                    log.warning("could not refresh %s", table, exc_info=True)

    def _current(self, table: str) -> bool:
        """True when `table` is loaded; a request checks for a newer version itself only when the poller
        has not checked recently (not running, or behind), so requests normally never wait for the log."""
        loaded = self._loaded.get(table)
        if loaded and time.monotonic() - loaded.checked_at < 2 * self._recheck_seconds:
            return True
        return self._refresh(table)

    def _refresh(self, table: str) -> bool:
        """Loads `table` if a newer version than the one held exists; False when there is no table."""
        if table not in self.locations:
            raise KeyError(f"'{table}' is not a table this dashboard reads")
        with self._locks[table]:
            delta = self._deltas.get(table)
            try:
                if delta is None:
                    delta = DeltaTable(self.locations[table], storage_options=self._storage_options or None)
                    self._deltas[table] = delta
                else:
                    delta.update_incremental()
            except TableNotFoundError:
                return False
            version = delta.version()
            loaded = self._loaded.get(table)
            now = time.monotonic()
            rows = loaded.rows if loaded and loaded.version == version else self._load(table, delta)
            self._loaded[table] = LoadedVersion(version, now, rows)
            return True

    def _load(self, table: str, delta: DeltaTable) -> int:
        snapshot = read_arrow(delta)
        name = view_name(table)
        rebuilt = [d for d in self._derived if name in d.sources and all(self._has(s) or s == name for s in d.sources)]
        with self._swap:
            loader = self._database.cursor()
            try:
                loader.register(SNAPSHOT, snapshot)
                loader.execute("BEGIN TRANSACTION")
                shape = self._shapes.get(table, f"SELECT * FROM {SNAPSHOT}")
                loader.execute(f'CREATE OR REPLACE TABLE "{name}" AS {shape}')
                for derived in rebuilt:
                    self._built[derived.name] = self._build(loader, derived)
                loader.execute("COMMIT")
            except Exception:
                loader.execute("ROLLBACK")
                raise
            finally:
                loader.unregister(SNAPSHOT)
                loader.close()
        self._memo.clear()
        return int(snapshot.num_rows)

    @staticmethod
    def _build(loader: duckdb.DuckDBPyConnection, derived: Derived) -> bool:
        sizes: dict[str, int] = {}
        if derived.sizing is not None:
            found = loader.execute(derived.sizing)
            names = [column[0] for column in found.description or []]
            sizes = {name: int(value or 0) for name, value in zip(names, found.fetchone() or (), strict=True)}
        if derived.build_if is not None and not derived.build_if(sizes):
            loader.execute(f'DROP TABLE IF EXISTS "{derived.name}"')
            return False
        loader.execute(f'CREATE OR REPLACE TABLE "{derived.name}" AS {derived.sql.format(**sizes)}')
        return True

    def _has(self, name: str) -> bool:
        return any(view_name(table) == name and table in self._loaded for table in self.locations)
