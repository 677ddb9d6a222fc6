"""The state of a Delta table and of a folder: it changes when the contents do, and only then. The local
listing and the Spark-only way (Delta's history, the binaryFile source: other storage, Spark Connect) are
each checked on the same real files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.storage_state import (
    ABSENT,
    delta_state_from_history,
    delta_table_state,
    folder_state,
    folder_state_from_listing,
)

StateOf = Callable[[SparkSession, str], str]


@pytest.mark.parametrize("state_of", [delta_table_state, delta_state_from_history], ids=["local", "history"])
def test_a_table_state_follows_data_changes_and_not_compaction(
    spark: SparkSession, tmp_path: Path, state_of: Callable[[SparkSession, TableRef], str]
) -> None:
    path = str(tmp_path / "sales")
    assert state_of(spark, TableRef(path)) == ABSENT

    spark.createDataFrame([(1,), (2,)], "id INT").write.format("delta").save(path)
    created = state_of(spark, TableRef(path))
    spark.createDataFrame([(3,)], "id INT").write.format("delta").mode("append").save(path)
    appended = state_of(spark, TableRef(path))
    assert (created.split("@")[0], appended.split("@")[0]) == ("v0", "v1")

    spark.sql(f"OPTIMIZE delta.`{path}`")  # rewrites the files, not the rows: version 2, same state
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"] == 2  # type: ignore[index]
    assert state_of(spark, TableRef(path)) == appended

    spark.sql(f"DELETE FROM delta.`{path}` WHERE id = 1")
    assert state_of(spark, TableRef(path)).split("@")[0] == "v3"


def test_a_table_recreated_to_the_same_version_has_another_state(spark: SparkSession, tmp_path: Path) -> None:
    path = tmp_path / "sales"
    spark.createDataFrame([(1,)], "id INT").write.format("delta").save(str(path))
    first = delta_table_state(spark, TableRef(str(path)))
    for file in sorted(path.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    spark.createDataFrame([(2,)], "id INT").write.format("delta").save(str(path))
    assert delta_table_state(spark, TableRef(str(path))) != first


@pytest.mark.parametrize("state_of", [folder_state, folder_state_from_listing], ids=["local", "listing"])
def test_a_folder_state_follows_its_visible_files(spark: SparkSession, tmp_path: Path, state_of: StateOf) -> None:
    folder = tmp_path / "stores"
    assert state_of(spark, str(folder)) == ABSENT
    (folder / "2025-01-01").mkdir(parents=True)
    (folder / "2025-01-01" / "stores.csv").write_text("store_id\n1\n", encoding="utf-8")
    one = state_of(spark, str(folder))
    assert one.startswith("1 files #")
    assert state_of(spark, str(folder)) == one  # asked again: the same

    # Files Spark's readers skip (hidden, or under a folder starting with '_') change nothing.
    (folder / ".stores.csv.crc").write_text("x", encoding="utf-8")
    (folder / "_archive").mkdir()
    (folder / "_archive" / "old.csv").write_text("store_id\n0\n", encoding="utf-8")
    assert state_of(spark, str(folder)) == one

    (folder / "2025-01-02").mkdir()
    (folder / "2025-01-02" / "stores.csv").write_text("store_id\n2\n", encoding="utf-8")
    two = state_of(spark, str(folder))
    assert two.startswith("2 files #")

    # The same file rewritten with new contents (same name): its size and time differ.
    rewritten = folder / "2025-01-02" / "stores.csv"
    rewritten.write_text("store_id\n2\n3\n", encoding="utf-8")
    assert state_of(spark, str(folder)) not in (one, two)

    # Touched alone (same size): its modification time differs.
    before = state_of(spark, str(folder))
    stat = rewritten.stat()
    os.utime(rewritten, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert state_of(spark, str(folder)) != before
