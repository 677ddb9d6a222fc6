from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from py4j.protocol import Py4JError
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.delta_log import DeltaLogFiles

SCHEMA = "sale_date DATE, store_id STRING, revenue INT"
TABLE = TableSettings(partition_by=["sale_date"], properties={"classification": "Internal"})
D1, D2, D3 = dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)


def rows_written(spark: SparkSession, path: str, write: Callable[[], None]) -> int:
    """Rows the commit(s) of `write` wrote, by Delta's metrics, found by their marker."""
    _, commits = delta_tables.write_marked(spark, TableRef(path), f"test-{uuid.uuid4().hex}", write)
    return sum(c.rows_written for c in commits)


def seeded_table(spark: SparkSession, tmp_path: Path) -> str:
    path = str(tmp_path / "sales")
    df = spark.createDataFrame([(D1, "1", 10), (D1, "2", 20), (D2, "1", 30)], SCHEMA)
    delta_tables.ensure_table(spark, TableRef(path), df.schema, TABLE)
    delta_tables.append(df, TableRef(path), TABLE)
    return path


def test_ensure_table_applies_partitioning_and_properties(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    detail = DeltaTable.forPath(spark, path).detail().first()
    assert detail is not None
    assert detail["partitionColumns"] == ["sale_date"]
    assert detail["properties"]["classification"] == "Internal"
    # Creating again is a no-op.
    version = delta_tables.current_version(spark, TableRef(path))
    delta_tables.ensure_table(spark, TableRef(path), spark.table(f"delta.`{path}`").schema, TABLE)
    assert delta_tables.current_version(spark, TableRef(path)) == version


def test_current_version_is_none_without_a_table(spark: SparkSession, tmp_path: Path) -> None:
    assert delta_tables.current_version(spark, TableRef(str(tmp_path / "none"))) is None


def test_overwrite_replaces_everything(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    delta_tables.overwrite(spark.createDataFrame([(D3, "9", 1)], SCHEMA), TableRef(path), TABLE)
    assert_df_equality(
        spark.read.format("delta").load(path), spark.createDataFrame([(D3, "9", 1)], SCHEMA), ignore_row_order=True
    )


def test_replace_where_replaces_only_the_dates_present(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    new_d2 = spark.createDataFrame([(D2, "1", 31), (D2, "3", 5), (D3, "1", 7)], SCHEMA)
    assert (
        rows_written(spark, path, lambda: delta_tables.replace_where(new_d2, TableRef(path), TABLE, "sale_date")) == 3
    )
    expected = spark.createDataFrame([(D1, "1", 10), (D1, "2", 20), (D2, "1", 31), (D2, "3", 5), (D3, "1", 7)], SCHEMA)
    assert_df_equality(spark.read.format("delta").load(path), expected, ignore_row_order=True)


def test_merge_upserts_and_rewrites_only_changed_rows(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    changes = spark.createDataFrame([(D1, "1", 10), (D1, "2", 25), (D3, "4", 1)], SCHEMA)
    written = rows_written(spark, path, lambda: delta_tables.merge(changes, TableRef(path), ["sale_date", "store_id"]))
    expected = spark.createDataFrame([(D1, "1", 10), (D1, "2", 25), (D2, "1", 30), (D3, "4", 1)], SCHEMA)
    assert_df_equality(spark.read.format("delta").load(path), expected, ignore_row_order=True)
    # One update (store 2) and one insert; the unchanged row 1 is not rewritten.
    assert written == 2
    # Merging the same rows again writes nothing.
    assert (
        rows_written(spark, path, lambda: delta_tables.merge(changes, TableRef(path), ["sale_date", "store_id"])) == 0
    )


def test_merge_within_partitions_reads_only_the_partitions_of_the_batch(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    # Take away the data of partition D1 behind Delta's back: a merge that reads it fails.
    for data_file in (Path(path) / f"sale_date={D1}").glob("*.parquet"):
        data_file.unlink()
    changes = spark.createDataFrame([(D2, "1", 35), (D3, "4", 1)], SCHEMA)
    with pytest.raises(Exception, match=r"(?i)file"):
        delta_tables.merge(changes, TableRef(path), ["store_id"])
    delta_tables.merge(changes, TableRef(path), ["store_id"], within_partitions=["sale_date"])
    after_d1 = spark.read.format("delta").load(path).where(f"sale_date > DATE'{D1}'")
    expected = spark.createDataFrame([(D2, "1", 35), (D3, "4", 1)], SCHEMA)
    assert_df_equality(after_d1, expected, ignore_row_order=True)


def test_partitions_of_names_each_partition_of_the_rows_with_nulls(spark: SparkSession) -> None:
    schema = "sale_date DATE, store_id STRING"
    rows = spark.createDataFrame([(D1, "1"), (D1, "1"), (D2, None), (None, "3")], schema)
    table = spark.createDataFrame(
        [(D1, "1"), (D1, "2"), (D2, None), (D2, "1"), (D3, "1"), (None, "3"), (None, None)], schema
    )
    both = table.alias("target").where(delta_tables.partitions_of(rows, ["sale_date", "store_id"]))
    assert sorted(both.collect(), key=str) == sorted([(D1, "1"), (D2, None), (None, "3")], key=str)
    dates = table.alias("target").where(delta_tables.partitions_of(rows, ["sale_date"]))
    assert dates.count() == 6  # D1, D2 and null: every row but D3's


def test_merge_treats_nulls_as_values(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    delta_tables.merge(spark.createDataFrame([(D1, "1", None)], SCHEMA), TableRef(path), ["sale_date", "store_id"])
    again = spark.createDataFrame([(D1, "1", None)], SCHEMA)
    assert rows_written(spark, path, lambda: delta_tables.merge(again, TableRef(path), ["sale_date", "store_id"])) == 0
    row = spark.read.format("delta").load(path).where("store_id = '1' AND sale_date = DATE'2025-01-01'").first()
    assert row is not None and row["revenue"] is None


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (D1, "DATE'2025-01-01'"),
        (dt.datetime(2025, 1, 1, 8, 30), "TIMESTAMP'2025-01-01 08:30:00'"),
        (7, "7"),
        (True, "true"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
    ],
)
def test_sql_literals_are_quoted(value: object, literal: str) -> None:
    assert delta_tables.sql_literal(value) == literal


def test_replace_where_with_a_quote_in_the_value(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    table = TableSettings()
    rows = spark.createDataFrame([("o'brien", 1), ("x", 2)], "name STRING, n INT")
    delta_tables.ensure_table(spark, TableRef(path), rows.schema, table)
    delta_tables.append(rows, TableRef(path), table)
    delta_tables.replace_where(
        spark.createDataFrame([("o'brien", 3)], "name STRING, n INT"), TableRef(path), table, "name"
    )
    assert sorted(tuple(r) for r in spark.read.format("delta").load(path).collect()) == [("o'brien", 3), ("x", 2)]


def test_marked_commits_finds_the_write_behind_later_commits_of_other_writers(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = seeded_table(spark, tmp_path)
    written_after = dt.datetime.now()
    with delta_tables.commits_marked(spark, "ours"):
        delta_tables.append(spark.createDataFrame([(D3, "7", 1), (D3, "8", 2)], SCHEMA), TableRef(path), TABLE)
    # Three later commits by another writer: more than a first window of two holds.
    for store in ("a", "b", "c"):
        delta_tables.append(spark.createDataFrame([(D3, store, 1)], SCHEMA), TableRef(path), TABLE)
    monkeypatch.setattr(delta_tables, "FIRST_HISTORY_WINDOW", 2)
    commits = delta_tables.marked_commits(spark, TableRef(path), "ours", written_after=written_after)
    assert [(c.operation, c.rows_written) for c in commits] == [("WRITE", 2)]


def test_marked_commits_of_a_write_skipped_as_already_committed_are_none(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    df = spark.createDataFrame([(D3, "7", 1)], SCHEMA)
    assert (
        rows_written(spark, path, lambda: delta_tables.append(df, TableRef(path), TABLE, idempotency=("app", 1))) == 1
    )
    # The same application version again: Delta skips it, so no commit carries the new marker.
    assert (
        rows_written(spark, path, lambda: delta_tables.append(df, TableRef(path), TABLE, idempotency=("app", 1))) == 0
    )
    assert spark.read.format("delta").load(path).where("store_id = '7'").count() == 1


def test_marked_commits_finds_the_commits_of_several_markers(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    rows = spark.createDataFrame([(1, "2025-01-01")], "id INT, day STRING")
    for marker in ("a", "b", "c"):
        delta_tables.append(rows, TableRef(path), TableSettings(), commit_marker=marker)
    found = delta_tables.marked_commits(spark, TableRef(path), "a", "c", written_after=None, expected=2)
    assert [c.rows_written for c in found] == [1, 1]
    assert len(delta_tables.marked_commits(spark, TableRef(path), "z", written_after=None)) == 0


def test_create_with_rows_never_replaces_a_table(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    version = delta_tables.current_version(spark, TableRef(path))
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_ALREADY_EXISTS"):
        delta_tables.create_with_rows(spark.createDataFrame([(D3, "9", 1)], SCHEMA), TableRef(path), TABLE)
    assert delta_tables.current_version(spark, TableRef(path)) == version
    assert spark.read.format("delta").load(path).count() == 3


def test_marked_commits_are_read_from_the_newest_log_files_without_the_history(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = seeded_table(spark, tmp_path)
    written_after = dt.datetime.now()
    delta_tables.append(
        spark.createDataFrame([(D3, "7", 1), (D3, "8", 2)], SCHEMA), TableRef(path), TABLE, commit_marker="a"
    )
    delta_tables.append(spark.createDataFrame([(D3, "9", 1)], SCHEMA), TableRef(path), TABLE, commit_marker="b")

    def no_history(*_: object) -> None:
        raise AssertionError("the history was read")

    monkeypatch.setattr(delta_tables, "history", no_history)
    commits = delta_tables.marked_commits(spark, TableRef(path), "a", "b", written_after=written_after, expected=2)
    assert [(c.operation, c.rows_written) for c in commits] == [("WRITE", 1), ("WRITE", 2)]


def test_marked_commits_not_all_in_the_log_files_read_are_searched_in_the_history(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marker the newest commit files lack may be in a commit the folder does not hold yet (coordinated
    commits): the history decides, here that the skipped write made none."""
    path = seeded_table(spark, tmp_path)
    history_reads = []
    history = delta_tables.history

    def counted_history(session: SparkSession, table: TableRef, limit: int) -> object:
        history_reads.append(limit)
        return history(session, table, limit)

    monkeypatch.setattr(delta_tables, "history", counted_history)
    assert delta_tables.marked_commits(spark, TableRef(path), "never-written", written_after=dt.datetime.now()) == []
    assert history_reads == [delta_tables.FIRST_HISTORY_WINDOW]


def test_marked_commits_are_read_from_the_history_when_the_log_files_cannot_be_read(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = seeded_table(spark, tmp_path)
    written_after = dt.datetime.now()
    delta_tables.append(spark.createDataFrame([(D3, "7", 1)], SCHEMA), TableRef(path), TABLE, commit_marker="a")

    def unreadable(_: object) -> list[int]:
        raise Py4JError("as a JVM without the Scala collections would")

    monkeypatch.setattr(DeltaLogFiles, "versions", unreadable)
    commits = delta_tables.marked_commits(spark, TableRef(path), "a", written_after=written_after)
    assert [(c.operation, c.rows_written) for c in commits] == [("WRITE", 1)]
