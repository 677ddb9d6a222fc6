"""Leases in `_ops/leases`: no two runs of a job at once, across processes and machines.

A lease is a row per job: who holds it and until when. Taking leases is one `MERGE` that takes a row only
when it is free (absent, expired, or already ours); Delta's optimistic concurrency makes two MERGEs that
race for the same rows conflict, so one retries, reads the winner's row and sees it held. The holder renews
its leases every third of their lifetime while it runs and frees them when it ends; a holder that died stops
renewing, and its leases are free once expired (a later run takes over).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import LeaseSettings, StorageSettings
from retail_lakehouse.core.errors import LeaseHeldError
from retail_lakehouse.io import delta_tables
from retail_lakehouse.ops.run_history import ensure_ops_table
from retail_lakehouse.runtime.local_rows import literal_rows
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("leases")

LEASES_TABLE = "leases"
LEASES_SCHEMA = StructType(
    [
        StructField("name", StringType(), False),
        StructField("owner", StringType(), False),
        StructField("holder", StringType(), False),
        StructField("acquired_at", TimestampType(), False),
        StructField("renewed_at", TimestampType(), False),
        StructField("expires_at", TimestampType(), False),
        StructField("host", StringType(), True),
        StructField("pid", LongType(), True),
    ]
)
# Between two attempts to take leases another run holds.
WAIT_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    host: str | None = None
    pid: int | None = None

    def holder_is_gone(self) -> bool:
        """Held by a process of this machine that no longer runs (killed, crashed): free at once rather
        than at its expiry. A process elsewhere, or a reused pid, is taken for alive."""
        if self.host != socket.gethostname() or self.pid is None or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def describe(self) -> str:
        return (
            f"{self.name} (held by {self.holder} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"renewed until {self.expires_at:%H:%M:%S} UTC)"
        )


def this_process(command: str) -> str:
    return f"{command} on {socket.gethostname()} pid {os.getpid()}"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Leases:
    """The leases one process takes (its `owner` id), renews and frees."""

    def __init__(
        self,
        spark: SparkSession,
        storage: StorageSettings,
        settings: LeaseSettings,
        holder: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.spark = spark
        self.table = storage.ops_table(LEASES_TABLE)
        self.settings = settings
        self.holder = holder
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self._names: list[str] = []
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @contextmanager
    def held(self, names: Sequence[str], *, wait_seconds: float, what: str) -> Iterator[None]:
        """Holds the leases of `names` while the block runs (renewed meanwhile), waiting up to `wait_seconds`
        for them; raises LeaseHeldError naming the holders when they stay held."""
        self.acquire(names, wait_seconds=wait_seconds, what=what)
        try:
            yield
        finally:
            self.release()

    def acquire(self, names: Sequence[str], *, wait_seconds: float, what: str) -> None:
        names = sorted(set(names))
        if not names:
            return
        deadline = time.monotonic() + wait_seconds
        while True:
            others = self._try_acquire(names)
            if not others:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                held = "; ".join(lease.describe() for lease in others)
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise LeaseHeldError(
                    f"{what} did not start{waited}: another run holds {held}. It runs still, or died and its "
                    f"lease frees itself {self.settings.expire_seconds:g} s after its last renewal "
                    f"(see _ops/{LEASES_TABLE}; ops.leases.wait_seconds makes a run wait)"
                )
            log.info("waiting for %s: held by %s", ", ".join(x.name for x in others), others[0].holder)
            time.sleep(min(WAIT_POLL_SECONDS, remaining))
        self._names = names
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_until_released, name="lease-renewal", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        """Frees this process's leases (they expire now)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self._names:
            self._set_expiry(self.clock())
            self._names = []

    def current(self, names: Sequence[str]) -> list[Lease]:
        if not delta_tables.exists(self.spark, self.table):
            return []
        rows = delta_tables.read(self.spark, self.table).where(F.col("name").isin(list(names))).collect()
        return [
            Lease(
                r["name"], r["owner"], r["holder"], _utc(r["acquired_at"]), _utc(r["expires_at"]), r["host"], r["pid"]
            )
            for r in rows
        ]

    def _try_acquire(self, names: list[str]) -> list[Lease]:
        """Takes the free leases among `names`; if any is held by another live run, frees those taken
        and returns the held ones."""
        ensure_ops_table(self.spark, self.table, LEASES_SCHEMA)
        now = self.clock()
        expires = now + timedelta(seconds=self.settings.expire_seconds)
        rows = [
            {
                "name": name,
                "owner": self.owner,
                "holder": self.holder,
                "acquired_at": now,
                "renewed_at": now,
                "expires_at": expires,
                "host": socket.gethostname(),
                "pid": os.getpid(),
            }
            for name in names
        ]
        source = literal_rows(self.spark, rows, LEASES_SCHEMA)
        delta_tables.retry_on_conflict(
            lambda: delta_tables.merge_into(
                source,
                self.table,
                "target.name = source.name",
                [
                    "WHEN MATCHED AND (target.expires_at < source.acquired_at OR target.owner = source.owner) "
                    "THEN UPDATE SET *",
                    "WHEN NOT MATCHED THEN INSERT *",
                ],
            )
        )
        others = [lease for lease in self.current(names) if lease.owner != self.owner and lease.expires_at >= now]
        gone = [lease for lease in others if lease.holder_is_gone()]
        if gone:
            log.warning("taking over from %s: it no longer runs", ", ".join(sorted({x.holder for x in gone})))
            self._expire_leases_of(gone, now)
            return self._try_acquire(names)
        if others:
            self._names = names
            self._set_expiry(now)
            self._names = []
        return sorted(others, key=lambda lease: lease.name)

    def _expire_leases_of(self, leases: list[Lease], now: datetime) -> None:
        """Ends the leases of holders that are gone (only those rows, only if still theirs)."""
        condition = " OR ".join(
            f"(name = {delta_tables.sql_literal(x.name)} AND owner = {delta_tables.sql_literal(x.owner)})"
            for x in leases
        )
        statement = (
            f"UPDATE {self.table.identifier} SET expires_at = "
            f"{delta_tables.sql_literal(now - timedelta(seconds=1))} WHERE {condition}"
        )
        delta_tables.retry_on_conflict(lambda: self.spark.sql(statement))

    def _set_expiry(self, expires_at: datetime) -> int:
        """Sets the expiry of this process's leases; the number of leases it still held."""
        names = ", ".join(delta_tables.sql_literal(name) for name in self._names)
        statement = (
            f"UPDATE {self.table.identifier} SET expires_at = "
            f"{delta_tables.sql_literal(expires_at)}, renewed_at = {delta_tables.sql_literal(self.clock())} "
            f"WHERE owner = {delta_tables.sql_literal(self.owner)} AND name IN ({names})"
        )
        result = delta_tables.retry_on_conflict(lambda: self.spark.sql(statement).first())
        return int(result["num_affected_rows"]) if result is not None else len(self._names)

    def _renew_until_released(self) -> None:
        interval = self.settings.expire_seconds / 3
        while not self._stop.wait(interval):
            try:
                held = self._set_expiry(self.clock() + timedelta(seconds=self.settings.expire_seconds))
            except Exception as exc:  # the next renewal tries again; the lease lasts until it expires
                log.error("could not renew the leases of %s: %s", ", ".join(self._names), exc)
                continue
            if held < len(self._names):
                # Not renewed for longer than expire_seconds (a paused process, a lost connection): another
                # run may have taken the jobs over. Said loudly; the jobs' own writes stay exactly-once.
                log.error(
                    "lost the lease of some of %s: not renewed within %g s, another run may hold them",
                    ", ".join(self._names),
                    self.settings.expire_seconds,
                )
