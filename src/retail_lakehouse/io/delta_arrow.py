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
    return pa.table(QueryBuilder().register("t", table).execute(f"SELECT {selected} FROM t").read_all())
