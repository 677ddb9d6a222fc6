"""Every table of a lakehouse, row by row, through an independent reader (deltalake): what the tests that
run the same pipeline two ways (classic and Spark Connect, local mode and a standalone cluster) compare."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

# Columns that name the run or the moment that wrote a row: they differ between any two runs.
RUN_COLUMNS = {
    "_run_id",
    "_ingested_at",
    "_ingest_date",
    "run_id",
    "writer_id",
    "pipeline_run_id",
    "quarantined_at",
    "updated_at",
    "detected_at",
    "validated_at",
    "started_at",
    "ended_at",
    "recorded_at",
    # _ops/job_runs: what a run found (commit times; each session lists folders its own way)
    "input_state",
    # _ops/leases: which process held a job, and when
    "owner",
    "holder",
    "host",
    "pid",
    "acquired_at",
    "renewed_at",
    "expires_at",
}


def tables(root: Path) -> set[str]:
    return {str(log.parent.relative_to(root)) for log in root.glob("*/*/_delta_log")}


def rows_without_run_columns(root: Path, table: str, *, float_digits: int | None = None) -> list[str]:
    """The table's rows as sorted text, without the columns that name the run; with `float_digits`,
    doubles to that many significant digits (a sum over other partitions adds in another order)."""
    rows: list[dict[str, Any]] = DeltaTable(str(root / table)).to_pyarrow_table().to_pylist()
    return sorted(
        repr(sorted((k, _rounded(v, float_digits)) for k, v in row.items() if k not in RUN_COLUMNS)) for row in rows
    )


def _rounded(value: Any, digits: int | None) -> Any:
    if digits is None or not isinstance(value, float) or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def rows(root: Path, table: str) -> list[dict[str, Any]]:
    return list(DeltaTable(str(root / table)).to_pyarrow_table().to_pylist())


def run_counts(root: Path) -> list[tuple[str, str, int, int, int]]:
    runs = DeltaTable(str(root / "_ops/job_runs")).to_pyarrow_table().to_pylist()
    return sorted((r["job"], r["status"], r["rows_read"], r["rows_written"], r["rows_quarantined"]) for r in runs)
