from __future__ import annotations

import shutil
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.delta_tables import current_version
from retail_lakehouse.ops.run_history import FAILED, SKIPPED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner, describe_error
from tests.unit.runner.conftest import FAKE_SECRET, lakehouse_config, silver_job


def job_runs(spark: SparkSession, root: str) -> list[tuple[object, ...]]:
    rows = spark.read.format("delta").load(f"{root}/_ops/job_runs").orderBy("started_at").collect()
    return [(r.job, r.env, r.status, r.rows_read, r.rows_written, r.error) for r in rows]


def test_incremental_ingestion_takes_only_new_files(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    loaded = lakehouse_config(tmp_path, landing)
    runner = JobRunner(spark, loaded)
    bronze = loaded.config.storage.table_path("bronze/stores")

    first = runner.run("bronze_stores")
    assert (first.status, first.rows_read, first.rows_written) == (SUCCEEDED, 4, 4)
    version = current_version(spark, TableRef(bronze))

    again = runner.run("bronze_stores")  # no new file: not run at all
    assert (again.status, again.rows_read, again.rows_written) == (SKIPPED, 0, 0)
    forced = runner.run("bronze_stores", force=True)  # run: the checkpoint knows every file
    assert (forced.status, forced.rows_read, forced.rows_written) == (SUCCEEDED, 0, 0)
    assert current_version(spark, TableRef(bronze)) == version  # nothing committed

    day2 = landing / "stores" / "2025-01-02"
    day2.mkdir()
    (day2 / "stores.csv").write_text("store_id,name\n7,store_007\n8,store_008\n", encoding="utf-8")
    third = runner.run("bronze_stores")
    assert (third.rows_read, third.rows_written) == (2, 2)

    table = spark.read.format("delta").load(bronze)
    assert sorted(r.store_id for r in table.collect()) == ["0", "1", "2", "3,broken quote", "7", "8"]
    assert {r._run_id for r in table.where("store_id IN ('7', '8')").collect()} == {third.run_id}
    assert job_runs(spark, loaded.config.storage.root) == [
        ("bronze_stores", "local", SUCCEEDED, 4, 4, None),
        ("bronze_stores", "local", SKIPPED, 0, 0, None),
        ("bronze_stores", "local", SUCCEEDED, 0, 0, None),
        ("bronze_stores", "local", SUCCEEDED, 2, 2, None),
    ]


def test_rerun_after_a_crash_between_commit_and_checkpoint_repeats_nothing(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(tmp_path, landing)
    runner = JobRunner(spark, loaded)
    first = runner.run("bronze_stores")
    bronze = loaded.config.storage.table_path("bronze/stores")
    version = current_version(spark, TableRef(bronze))
    # A process killed after the Delta commit but before the checkpoint's commit entry: the batch is
    # planned again on restart, and the sink must recognise it as already written.
    commits = Path(loaded.config.storage.checkpoint("bronze_stores")) / "commits"
    for entry in commits.iterdir():
        entry.unlink()
    rerun = runner.run("bronze_stores")
    assert (first.rows_written, rerun.status, rerun.rows_read, rerun.rows_written) == (4, SUCCEEDED, 0, 0)
    assert current_version(spark, TableRef(bronze)) == version
    assert spark.read.format("delta").load(bronze).count() == 4


def test_batch_merge_job_counts_rows_and_reruns_write_nothing(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(
        tmp_path, landing, extra_jobs={"silver_stores": silver_job("test.conform", params={"suffix": "!"})}
    )
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    silver = runner.run("silver_stores")
    assert (silver.status, silver.rows_read, silver.rows_written) == (SUCCEEDED, 4, 2)
    again = runner.run("silver_stores", force=True)  # nothing new: without force it would be skipped
    assert (again.rows_read, again.rows_written) == (4, 0)
    expected = spark.createDataFrame([("0", "online!"), ("1", "store_001!")], "store_id STRING, name STRING")
    assert_df_equality(
        spark.read.format("delta").load(loaded.config.storage.table_path("silver/stores")),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_a_failed_job_is_recorded_with_its_error_and_no_secret(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(
        tmp_path,
        landing,
        extra_jobs={
            "silver_broken": silver_job(
                "test.fail", output="silver/broken", params={}, description="${secret:db-password}"
            )
        },
        environ={"LAKEHOUSE_SECRET_DB_PASSWORD": FAKE_SECRET},
    )
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    run = runner.run("silver_broken")
    assert run.status == FAILED
    assert run.error == "ValueError: cannot reach the source with password ***"
    assert job_runs(spark, loaded.config.storage.root)[1:] == [
        ("silver_broken", "local", FAILED, None, None, "ValueError: cannot reach the source with password ***")
    ]


def test_a_transform_that_loses_rows_fails_reconciliation(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    loaded = lakehouse_config(
        tmp_path,
        landing,
        extra_jobs={
            "silver_broken": {**silver_job("test.lose_rows", output="silver/broken"), "write": {"mode": "append"}}
        },
    )
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    run = runner.run("silver_broken")
    assert run.status == FAILED
    assert run.error == (
        "ReconciliationError: silver/broken: read 4 rows but wrote 3; transform test.lose_rows keeps every row, "
        "so none may be lost or repeated"
    )


def test_a_table_not_written_yet_fails_naming_its_writer_unless_the_input_is_optional(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    with_optional = {
        **silver_job("test.optional_input", output="silver/broken"),
        "inputs": {"raw": "bronze/stores", "extra": "silver/stores"},
        "write": {"mode": "overwrite"},
    }
    loaded = lakehouse_config(
        tmp_path,
        landing,
        extra_jobs={"silver_stores": silver_job("test.optional_input"), "silver_broken": with_optional},
    )
    runner = JobRunner(spark, loaded)
    run = runner.run("silver_stores")
    root = loaded.config.storage.root
    assert (run.status, run.error) == (
        FAILED,
        f"MissingTableError: input raw reads bronze/stores, which does not exist yet ({root}/bronze/stores); "
        "run bronze_stores first",
    )
    runner.run("bronze_stores")
    assert runner.run("silver_broken").status == "succeeded"
    table = spark.read.format("delta").load(loaded.config.storage.table_path("silver/broken"))
    assert {row["had_extra"] for row in table.collect()} == {False}


def test_an_incremental_job_runs_without_an_optional_table_not_written_yet(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    incremental = {
        **silver_job("test.optional_beside_source", output="silver/broken"),
        "inputs": {"source": "bronze/stores", "extra": "silver/stores"},
        "incremental": True,
    }
    loaded = lakehouse_config(tmp_path, landing, extra_jobs={"silver_broken": incremental})
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    run = runner.run("silver_broken")
    assert (run.status, run.error) == (SUCCEEDED, None)
    table = spark.read.format("delta").load(loaded.config.storage.table_path("silver/broken"))
    assert sorted((row["store_id"], row["had_extra"]) for row in table.collect()) == [
        ("0", False), ("1", False), ("2", False), ("3,broken quote", False)
    ]  # fmt: skip


def test_a_column_without_a_type_is_refused_before_anything_is_written(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(
        tmp_path,
        landing,
        extra_jobs={
            "silver_broken": {**silver_job("test.untyped", output="silver/broken"), "write": {"mode": "append"}}
        },
    )
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    run = runner.run("silver_broken")
    assert (run.status, run.error) == (
        FAILED,
        "UntypedColumnError: silver/broken: transform test.untyped gives column(s) note without a type "
        "(a bare null literal); cast them to the type they hold",
    )
    assert current_version(spark, TableRef(loaded.config.storage.table_path("silver/broken"))) is None


def test_describe_error_of_a_py4j_error_gives_the_java_error_and_its_root_cause() -> None:
    text = (
        "An error occurred while calling o1312.collectToPython.\n"
        ": org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error while reading file "
        "file:///x/stores.csv.  SQLSTATE: KD001\n\tat org.apache.spark.Foo(Foo.scala:1)\n\tat Bar(B.java:2)\n"
        "Caused by: org.apache.spark.SparkIllegalArgumentException: CSV header does not conform to the schema.\n"
        " Header: store_id, store_name\n Schema: store_id, name\n\tat org.apache.spark.Baz(Baz.scala:3)\n\t... 1 more\n"
    )
    assert describe_error(RuntimeError(text)) == (
        "RuntimeError: org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error while reading "
        "file file:///x/stores.csv. SQLSTATE: KD001 (caused by org.apache.spark.SparkIllegalArgumentException: CSV "
        "header does not conform to the schema. Header: store_id, store_name Schema: store_id, name)"
    )


def test_describe_error_keeps_the_message_not_the_jvm_stack() -> None:
    error = RuntimeError("[PATH_NOT_FOUND] Path does not exist: file:/x.\n\tat org.apache.spark.Foo(Foo.scala:1)")
    assert describe_error(error) == "RuntimeError: [PATH_NOT_FOUND] Path does not exist: file:/x."
    assert len(describe_error(ValueError("x" * 5000))) == 2000


def test_a_feed_without_a_folder_is_an_empty_input_unless_it_is_required(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    shutil.rmtree(landing / "stores")
    loaded = lakehouse_config(tmp_path, landing)
    runner = JobRunner(spark, loaded)
    run = runner.run("bronze_stores")
    assert (run.status, run.rows_read, run.rows_written, run.error) == (SUCCEEDED, 0, 0, None)
    bronze = spark.read.format("delta").load(loaded.config.storage.table_path("bronze/stores"))
    assert (bronze.count(), bronze.columns[:3]) == (0, ["store_id", "name", "_corrupt_record"])

    required = lakehouse_config(tmp_path, landing, feed_settings={"required": True})
    failed = JobRunner(spark, required).run("bronze_stores")
    assert (failed.status, failed.error) == (
        FAILED,
        f"MissingFeedError: feed stores is required, but its folder {landing / 'stores'} does not exist",
    )


def test_an_unreadable_file_fails_its_feed_or_is_set_aside_while_the_rest_is_ingested(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    bad = landing / "stores" / "2025-01-02"
    bad.mkdir()
    (bad / "renamed.csv").write_text("id,title,extra\n9,store_009,x\n", encoding="utf-8")
    (bad / "empty.csv").write_text("store_id,name\n", encoding="utf-8")
    failing = JobRunner(spark, lakehouse_config(tmp_path / "fail", landing)).run("bronze_stores")
    assert failing.status == FAILED
    assert failing.error is not None and "renamed.csv" in failing.error and "Header length: 3" in failing.error

    loaded = lakehouse_config(tmp_path / "aside", landing, feed_settings={"unreadable_files": "set_aside"})
    runner = JobRunner(spark, loaded)
    run = runner.run("bronze_stores")
    runner.history.wait()
    assert (run.status, run.rows_read, run.rows_written) == (FAILED, 4, 4)
    assert run.error is not None
    assert run.error.startswith(
        "SetAsideFilesError: 1 file(s) of feed stores could not be read and were set aside (see "
        f"_ops/set_aside_files; the other files were ingested): file:{bad / 'renamed.csv'} ("
    )
    bronze = spark.read.format("delta").load(loaded.config.storage.table_path("bronze/stores"))
    assert bronze.count() == 4
    (aside,) = spark.read.format("delta").load(f"{loaded.config.storage.ops_root}/set_aside_files").collect()
    assert (aside.job, aside.feed, aside.file, aside.run_id) == (
        "bronze_stores", "stores", f"file:{bad / 'renamed.csv'}", run.run_id
    )  # fmt: skip
    assert "Number of column in CSV header is not equal to number of fields in the schema" in aside.reason
    again = runner.run("bronze_stores")  # the checkpoint moved past it: nothing new, nothing set aside
    assert (again.status, again.rows_read, again.rows_written) == (SUCCEEDED, 0, 0)
