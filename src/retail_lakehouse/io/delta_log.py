"""A Delta table's newest commit records, read straight from the files of its log.

The table's history (`DESCRIBE HISTORY`) builds a DataFrame of every field of the commits it returns:
0.1 s even for one commit, paid after each write whose rows the runner counts, on a bronze job that
otherwise takes 0.7 s (docs/benchmarks.md). A commit is one file of the log, `<version, 20 digits>.json`,
whose first action is its commitInfo (the protocol puts it first); reading that line takes milliseconds.

Only an optimisation: where the log cannot be read this way (no JVM, as under Spark Connect, or a log
whose newest commits are not yet in its folder, as with coordinated commits) callers get None and ask
the history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from retail_lakehouse.io.storage_files import session_file_system

COMMIT_FILE = re.compile(r"/(\d{20})\.json$")


@dataclass(frozen=True)
class CommitInfo:
    """A commit's commitInfo action: what the table's history shows of it. The time is the writer's
    clock at the commit; history shows the commit file's modification time (the storage's clock) unless
    in-commit timestamps are enabled."""

    version: int
    timestamp_ms: int
    operation: str
    parameters: dict[str, str | None]
    metrics: dict[str, str]
    user_metadata: str | None

    @classmethod
    def from_action(cls, version: int, info: dict[str, Any]) -> CommitInfo:
        # In-commit timestamps, where enabled, are the commit's time; history shows them too.
        timestamp = info.get("inCommitTimestamp", info.get("timestamp", 0))
        return cls(
            version=version,
            timestamp_ms=int(timestamp),
            operation=str(info.get("operation", "")),
            parameters={
                str(k): None if v is None else str(v) for k, v in (info.get("operationParameters") or {}).items()
            },
            metrics={str(k): str(v) for k, v in (info.get("operationMetrics") or {}).items()},
            user_metadata=info.get("userMetadata"),
        )


class DeltaLogFiles:
    """The commit files of one table's `_delta_log` (`storage_files`: with the session's credentials)."""

    def __init__(self, spark: SparkSession, jvm: Any, table_path: str) -> None:
        self._jvm = jvm
        self._log, self._fs = session_file_system(spark, jvm, f"{table_path.rstrip('/')}/_delta_log")

    @classmethod
    def of(cls, spark: SparkSession, table_path: str) -> DeltaLogFiles | None:
        """None without a JVM to reach the file system through."""
        jvm = getattr(spark, "_jvm", None)
        return None if jvm is None else cls(spark, jvm, table_path)

    def versions(self) -> list[int]:
        """The versions that have a commit file, oldest first (none when there is no log folder)."""
        if not self._fs.exists(self._log):
            return []
        paths = self._jvm.org.apache.hadoop.fs.FileUtil.stat2Paths(self._fs.listStatus(self._log))
        # One call that returns every name: going through a Java array from Python costs a call an entry.
        listing = self._jvm.scala.collection.immutable.ArraySeq.unsafeWrapArray(paths).mkString("\n")
        return sorted(int(match.group(1)) for line in listing.splitlines() if (match := COMMIT_FILE.search(line)))

    def commit_info(self, version: int) -> CommitInfo | None:
        """The commitInfo of `version`'s commit file; None when the file has none."""
        jvm = self._jvm
        stream = self._fs.open(jvm.org.apache.hadoop.fs.Path(self._log, f"{version:020d}.json"))
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        try:
            while (line := reader.readLine()) is not None:
                action = json.loads(line)
                if "commitInfo" in action:
                    return CommitInfo.from_action(version, action["commitInfo"])
            return None
        finally:
            reader.close()

    def newest_first(self, limit: int) -> Iterator[CommitInfo | None]:
        """The commitInfo of the newest `limit` commits, newest first."""
        for version in reversed(self.versions()[-limit:]):
            yield self.commit_info(version)
