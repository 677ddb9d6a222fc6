"""What a table or a folder holds now, in one short string that changes when its contents do: the state a
run records, so that a later run can tell, without reading any data, that nothing changed since.

A local path is listed by the driver itself (microseconds); any other (abfss://, dbfs:/), and every path
under Spark Connect (the paths are the server's, which this process may not see), is asked of Spark through
public APIs only (Delta's history, a listing by the binaryFile source).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.delta_tables import NO_TABLE_CONDITIONS

ABSENT = "absent"
# Delta commits that rewrite files without changing what the table holds: a reader's result stands.
NO_DATA_CHANGE_OPERATIONS = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
# How far back past such commits to look for the last one that changed data (maintenance runs rarely
# commit more than a few in a row); beyond it the latest commit stands, which only costs a run.
MAX_COMMITS_LOOKED_AT = 20
COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


def local_path(spark: SparkSession, path: str) -> Path | None:
    """The path on this machine's file system that `path` names, or None when it lives elsewhere (a URI of
    another scheme) or this process is a Spark Connect client (paths are the server's)."""
    if getattr(spark, "_jvm", None) is None:
        return None
    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


def delta_table_state(spark: SparkSession, ref: TableRef) -> str:
    """The version and time of the table's latest commit that changed data ('absent' when there is no
    table): compaction and vacuum do not change it. A table on this machine's disk has its log read
    directly, also when addressed by name (an external table's log is at its path)."""
    local = local_path(spark, ref.path)
    return _local_delta_state(local) if local is not None else delta_state_from_history(spark, ref)


def delta_state_from_history(spark: SparkSession, ref: TableRef) -> str:
    """`delta_table_state` asked of Delta's history through Spark (any storage, Spark Connect too)."""
    try:
        history = (
            spark.sql(f"DESCRIBE HISTORY {ref.identifier} LIMIT {MAX_COMMITS_LOOKED_AT}")
            .select("version", "timestamp", "operation")
            .collect()
        )
    except AnalysisException as exc:
        # No table there (a folder that is not one fails its reader, and a failed run is never skipped).
        if exc.getCondition() in NO_TABLE_CONDITIONS:
            return ABSENT
        raise
    if not history:
        return ABSENT
    changed = next((row for row in history if row["operation"] not in NO_DATA_CHANGE_OPERATIONS), history[0])
    return f"v{changed['version']}@{int(changed['timestamp'].timestamp() * 1000)}"


def _local_delta_state(table: Path) -> str:
    versions = _local_commit_versions(table)
    if not versions:
        return ABSENT
    for version in versions[:MAX_COMMITS_LOOKED_AT]:
        operation, timestamp = _commit_info(table / "_delta_log" / f"{version:020d}.json")
        if operation not in NO_DATA_CHANGE_OPERATIONS:
            return f"v{version}@{timestamp}"
    return f"v{versions[0]}@{_commit_info(table / '_delta_log' / f'{versions[0]:020d}.json')[1]}"


def local_last_commit_ms(table: Path) -> int | None:
    """The time (ms since the epoch) of the newest commit of the Delta table in `table`, a folder on this
    machine's disk, from its log's newest commit file; None when there is no table there."""
    versions = _local_commit_versions(table)
    return _commit_info(table / "_delta_log" / f"{versions[0]:020d}.json")[1] if versions else None


def _local_commit_versions(table: Path) -> list[int]:
    """The versions with a commit file in the log of the table in `table`, newest first; none without one."""
    try:
        names = [entry.name for entry in (table / "_delta_log").iterdir()]
    except FileNotFoundError:
        return []
    return sorted((int(m.group(1)) for name in names if (m := COMMIT_FILE.match(name))), reverse=True)


def _commit_info(commit: Path) -> tuple[str | None, int | None]:
    """The operation and time (ms) of a commit, from its commitInfo action (Delta writes it first)."""
    with commit.open(encoding="utf-8") as lines:
        for line in lines:
            action = json.loads(line)
            if "commitInfo" in action:
                info = action["commitInfo"]
                return info.get("operation"), info.get("timestamp")
    return None, None


def folder_state(spark: SparkSession, path: str) -> str:
    """How many files the folder holds (recursively, hidden ones left out as Spark's readers leave them)
    and a digest of their paths, sizes and modification times; 'absent' when there is no folder."""
    local = local_path(spark, path)
    return _local_folder_state(local) if local is not None else folder_state_from_listing(spark, path)


def folder_state_from_listing(spark: SparkSession, path: str) -> str:
    """`folder_state` from a listing by Spark's binaryFile source (any storage, Spark Connect too)."""
    try:
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path)
        # Only the listing's columns: the binaryFile source reads no file's content for them.
        row = files.select(
            F.count(F.lit(1)).alias("files"),
            # XOR: independent of the listing's order, and no overflow as a sum of 64-bit hashes would have.
            F.bit_xor(F.xxhash64("path", "length", "modificationTime")).alias("digest"),
        ).first()
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return ABSENT
        raise
    assert row is not None
    return f"{row['files']} files #{(row['digest'] or 0) & 0xFFFFFFFFFFFFFFFF:016x}"


def _local_folder_state(folder: Path) -> str:
    if not folder.is_dir():
        return ABSENT
    entries = []
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if any(_hidden(part) for part in relative.parts) or not file.is_file():
            continue
        stat = file.stat()
        entries.append(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]
    return f"{len(entries)} files #{digest}"


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))
