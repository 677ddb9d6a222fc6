"""Runs table maintenance under leases: a table is maintained while no job that writes it runs (OPTIMIZE
rewrites files a concurrent MERGE may read) and no other maintenance of it runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pyspark.sql import SparkSession

from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.core.errors import LeaseHeldError
from retail_lakehouse.ops.leases import Leases, this_process
from retail_lakehouse.ops.maintenance import TableMaintenance, maintain_table, record_maintenance, writers_of
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("maintain")


def maintain_tables(spark: SparkSession, loaded: LoadedConfig, tables: Sequence[str]) -> list[TableMaintenance]:
    """Maintains each table in turn; one whose writer is running is skipped and says so (its row's note)."""
    config = loaded.config
    run_id = uuid.uuid4().hex
    done = []
    for table in tables:
        leases = Leases(spark, config.storage, config.ops.leases, this_process("lakehouse maintain"))
        try:
            with leases.held(
                [f"maintain:{table}", *writers_of(config, table)], wait_seconds=0, what=f"maintain {table}"
            ):
                done.append(maintain_table(spark, config, table, run_id))
        except LeaseHeldError as exc:
            log.warning("%s", exc)
            done.append(
                TableMaintenance(
                    run_id,
                    table,
                    leases.clock(),
                    0.0,
                    None,
                    None,
                    None,
                    None,
                    False,
                    None,
                    None,
                    None,
                    f"skipped: {exc}",
                )
            )
    record_maintenance(spark, config.storage, done)
    return done
