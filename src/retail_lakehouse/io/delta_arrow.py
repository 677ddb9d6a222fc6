"""Delta tables read into Arrow without Spark (the run status, the dashboard), through delta-rs's own
query engine rather than a pyarrow dataset scan: a scan on Arrow's thread pools made about half of the
processes that did one abort at exit ("terminate called without an active exception", apache/arrow#34314),
and schedulers and supervisors read those processes' exit codes."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import DeltaTable, QueryBuilder


def read_arrow(table: DeltaTable, columns: Sequence[str] | None = None) -> pa.Table:
    """The table's current version, all columns or those named, as one Arrow table."""
    selected = "*" if columns is None else ", ".join('"' + column.replace('"', '""') + '"' for column in columns)
    return query_arrow(table, "t", f"SELECT {selected} FROM t")


def query_arrow(table: DeltaTable, name: str, sql: str) -> pa.Table:
    """The result of `sql` over the table's current version, registered as `name`, as one Arrow table."""
    return pa.table(QueryBuilder().register(name, table).execute(sql).read_all())
