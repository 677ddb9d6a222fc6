"""`lakehouse status`: the last run of each job, each SLA table's freshness, the open alerts and the runs
under way (live leases). Read with `deltalake`, no Spark: it answers in a second, for people and schedulers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.io.delta_arrow import read_arrow
from retail_lakehouse.ops.alerts import ALERTS_TABLE
from retail_lakehouse.ops.leases import LEASES_TABLE
from retail_lakehouse.ops.run_conditions import Freshness, tables_with_sla
from retail_lakehouse.ops.run_history import JOB_RUNS_TABLE

RUN_COLUMNS = ["job", "status", "started_at", "ended_at", "rows_read", "rows_written", "quality_score", "error"]


def _table(path: str) -> DeltaTable | None:
    try:
        return DeltaTable(path)
    except TableNotFoundError:
        return None


def _rows(path: str, columns: list[str]) -> list[dict[str, Any]]:
    table = _table(path)
    if table is None:
        return []
    present = [c for c in columns if c in table.schema().to_arrow().names]
    return list(read_arrow(table, present).to_pylist())


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def last_commit_at(path: str) -> datetime | None:
    table = _table(path)
    if table is None:
        return None
    (latest,) = table.history(limit=1)
    return datetime.fromtimestamp(int(latest["timestamp"]) / 1000, tz=UTC)


@dataclass(frozen=True)
class StatusReport:
    now: datetime
    last_runs: dict[str, dict[str, Any] | None]  # every configured job, None when it never ran
    freshness: list[Freshness]
    open_alerts: list[dict[str, Any]]
    running: list[dict[str, Any]]

    @property
    def missed_slas(self) -> list[Freshness]:
        return [found for found in self.freshness if found.missed(self.now)]

    @property
    def needs_attention(self) -> bool:
        return bool(self.missed_slas or self.open_alerts)


def gather_status(config: LakehouseConfig, now: datetime | None = None) -> StatusReport:
    now = now or datetime.now(UTC)
    ops = config.storage.ops_root
    last_runs: dict[str, dict[str, Any] | None] = dict.fromkeys(config.jobs)
    for run in _rows(f"{ops}/{JOB_RUNS_TABLE}", RUN_COLUMNS):
        previous = last_runs.get(run["job"])
        if previous is None or _utc(run["started_at"]) > _utc(previous["started_at"]):  # type: ignore[operator]
            last_runs[run["job"]] = run
    freshness = [
        Freshness(table, hours, last_commit_at(config.storage.table_path(table)))
        for table, hours in tables_with_sla(config).items()
    ]
    alerts = [
        a
        for a in _rows(
            f"{ops}/{ALERTS_TABLE}", ["alert_id", "kind", "subject", "severity", "message", "opened_at", "cleared_at"]
        )
        if a["cleared_at"] is None
    ]
    running = [
        lease
        for lease in _rows(f"{ops}/{LEASES_TABLE}", ["name", "holder", "acquired_at", "expires_at"])
        if _utc(lease["expires_at"]) > now  # type: ignore[operator]
    ]
    return StatusReport(
        now=now,
        last_runs=last_runs,
        freshness=freshness,
        open_alerts=sorted(alerts, key=lambda a: _utc(a["opened_at"])),  # type: ignore[arg-type,return-value]
        running=sorted(running, key=lambda lease: lease["name"]),
    )


def _iso(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def status_json(report: StatusReport) -> dict[str, Any]:
    return {
        "generated_at": report.now.isoformat(),
        "needs_attention": report.needs_attention,
        "jobs": [
            {"job": job, "last_run": None if run is None else {k: _iso(v) for k, v in run.items()}}
            for job, run in report.last_runs.items()
        ],
        "freshness": [
            {
                "table": found.table,
                "sla_hours": found.sla_hours,
                "last_commit_at": _iso(found.last_commit_at),
                "age_hours": None if (age := found.age_hours(report.now)) is None else round(age, 3),
                "missed": found.missed(report.now),
            }
            for found in report.freshness
        ],
        "open_alerts": [{k: _iso(v) for k, v in alert.items()} for alert in report.open_alerts],
        "running": [{k: _iso(v) for k, v in lease.items()} for lease in report.running],
    }


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{_utc(value):%Y-%m-%d %H:%M}"


def _columns(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def write_status(report: StatusReport, out: TextIO, *, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps(status_json(report), indent=2) + "\n")
        return
    rows: list[tuple[str, ...]] = [("JOB", "LAST RUN", "STATUS", "SECONDS", "READ", "WRITTEN", "DQ SCORE")]
    for job, run in report.last_runs.items():
        if run is None:
            rows.append((job, "never", "-", "-", "-", "-", "-"))
            continue
        seconds = (_utc(run["ended_at"]) - _utc(run["started_at"])).total_seconds()  # type: ignore[operator]
        score = run.get("quality_score")
        rows.append(
            (
                job,
                _when(run["started_at"]),
                str(run["status"]),
                f"{seconds:.1f}",
                "-" if run["rows_read"] is None else f"{run['rows_read']:,}",
                "-" if run["rows_written"] is None else f"{run['rows_written']:,}",
                "-" if score is None else f"{score:.4f}",
            )
        )
    _columns(rows, out)
    out.write("\nfreshness (SLA per table, tables.<name>.freshness_hours):\n")
    if not report.freshness:
        out.write("  no table has a freshness SLA\n")
    else:
        rows = [("  TABLE", "SLA H", "LAST WRITE", "AGE H", "")]
        for found in report.freshness:
            age = found.age_hours(report.now)
            rows.append(
                (
                    f"  {found.table}",
                    f"{found.sla_hours:g}",
                    _when(found.last_commit_at),
                    "-" if age is None else f"{age:.1f}",
                    "MISSED" if found.missed(report.now) else "ok",
                )
            )
        _columns(rows, out)
    out.write(f"\nopen alerts: {len(report.open_alerts)}\n")
    for alert in report.open_alerts:
        out.write(
            f"  {_when(alert['opened_at'])}  {alert['severity']:<8} {alert['kind']} {alert['subject']}: "
            f"{alert['message']}\n"
        )
    if report.running:
        out.write("\nruns under way (leases):\n")
        for lease in report.running:
            out.write(f"  {lease['name']}: {lease['holder']} since {_when(lease['acquired_at'])}\n")
