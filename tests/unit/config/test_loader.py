from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.core.errors import ConfigError
from tests.helpers import minimal_base, write_conf

FAKE_SECRET = "s3cr3t-Value-4711"


def load(tmp_path: Path, base: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> Any:
    conf = write_conf(tmp_path / "conf", base or minimal_base(tmp_path / "lake", tmp_path / "landing"))
    kwargs.setdefault("environ", {})
    return load_config(transforms=catalogue(), conf_dir=conf, **kwargs)


def error_of(tmp_path: Path, base: dict[str, dict[str, Any]], **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, base, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_valid_configuration_loads_with_defaults_and_absolute_roots(tmp_path: Path) -> None:
    config = load(tmp_path).config
    assert config.env == "local"
    assert config.storage.root == str(tmp_path / "lake")
    assert config.storage.table_path("bronze/stores") == f"{tmp_path / 'lake'}/bronze/stores"
    assert config.spark.shuffle_partitions == 4
    assert config.jobs["bronze_stores"].layer == "bronze"
    assert config.job_names_of("all") == ["bronze_stores"]


def test_relative_roots_resolve_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = minimal_base(Path("lake"), Path("landing"))
    base["lakehouse"]["storage"] = {"root": "./lake", "landing": "abfss://l@acct.dfs.core.windows.net/x"}
    config = load(tmp_path, base).config
    assert config.storage.root == str(tmp_path / "lake")
    assert config.storage.landing == "abfss://l@acct.dfs.core.windows.net/x"


def test_env_is_taken_from_lakehouse_env(tmp_path: Path) -> None:
    conf = write_conf(tmp_path / "conf", minimal_base(tmp_path / "lake", tmp_path / "landing"))
    (conf / "dev").mkdir()
    (conf / "dev" / "lakehouse.yaml").write_text("spark: {shuffle_partitions: 64}\n", encoding="utf-8")
    config = load_config(transforms=catalogue(), conf_dir=conf, environ={"LAKEHOUSE_ENV": "dev"}).config
    assert (config.env, config.spark.shuffle_partitions) == ("dev", 64)


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["jobs"]["jobs"]["bronze_stores"]["mdoe"] = "append"
    assert error_of(tmp_path, base) == "conf/base/jobs.yaml: jobs.bronze_stores.mdoe: unknown key 'mdoe'"


def test_wrong_type_names_file_key_and_value(tmp_path: Path) -> None:
    message = error_of(tmp_path, minimal_base(tmp_path, tmp_path), set_overrides=["spark.shuffle_partitions=many"])
    assert message.startswith("--set spark.shuffle_partitions: spark.shuffle_partitions: Input should be a valid")
    assert message.endswith("(got 'many')")


def test_missing_value_names_the_section_file(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    del base["jobs"]["jobs"]["bronze_stores"]["output"]
    assert error_of(tmp_path, base) == "conf/base/jobs.yaml: jobs.bronze_stores.output: required key is missing"


def test_write_mode_needs_its_settings(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["jobs"]["jobs"]["bronze_stores"].update(incremental=False, write={"mode": "merge"})
    assert error_of(tmp_path, base) == (
        "conf/base/jobs.yaml: jobs.bronze_stores.write: mode merge needs keys (the columns that identify a row)"
    )


def test_pipeline_naming_a_missing_job(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["pipelines"]["pipelines"]["daily"]["jobs"] = ["bronze_stores", "silver_stores"]
    assert error_of(tmp_path, base) == (
        "conf/base/pipelines.yaml: pipelines.daily.jobs.1: unknown job 'silver_stores' (jobs: bronze_stores)"
    )


def test_dependency_cycle_is_named(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    jobs = base["jobs"]["jobs"]
    jobs["bronze_stores"]["depends_on"] = ["copy_b"]
    common = {
        "transform": "bronze.ingest",
        "inputs": {"source": "feed:stores"},
        "output": "bronze/stores",
        "write": {"mode": "append"},
    }
    jobs["copy_a"] = {"description": "a", **common, "depends_on": ["bronze_stores"]}
    jobs["copy_b"] = {"description": "b", **common, "depends_on": ["copy_a"]}
    message = error_of(tmp_path, base)
    assert message.startswith("conf/base/jobs.yaml: jobs.")
    assert "jobs depend on each other in a cycle: " in message
    cycle = message.split("cycle: ")[1].split(" -> ")
    assert cycle[0] == cycle[-1] and set(cycle) == {"bronze_stores", "copy_a", "copy_b"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("transform", "silver.nope"),
            "jobs.bronze_stores.transform: unknown transform 'silver.nope' (known: bronze.ingest, forecast.accuracy, ",
        ),
        (("inputs", {"source": "feed:nope"}), "jobs.bronze_stores.inputs.source: unknown feed 'nope' (feeds: stores)"),
        (
            ("inputs", {"src": "feed:stores"}),
            "jobs.bronze_stores: Value error, incremental and streaming jobs read their input named 'source'",
        ),
        (("output", "silver/stores"), "jobs.bronze_stores.output: table 'silver/stores' is not declared under tables"),
        (("depends_on", ["ghost"]), "jobs.bronze_stores.depends_on: depends on unknown job 'ghost'"),
        (("params", {"x": 1}), "jobs.bronze_stores.params.x: unknown key 'x'"),
        (("write", {"mode": "overwrite"}), "jobs.bronze_stores: Value error, incremental jobs write what is new"),
        (
            ("write", {"mode": "append", "within_partitions": True}),
            "jobs.bronze_stores.write: Value error, within_partitions is for mode merge",
        ),
    ],
)
def test_reference_errors_name_the_job_key(tmp_path: Path, change: tuple[str, Any], expected: str) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["jobs"]["jobs"]["bronze_stores"][change[0]] = change[1]
    message = error_of(tmp_path, base)
    assert message.startswith(f"conf/base/jobs.yaml: {expected.split(': Value error, ')[0]}")
    assert expected.split(": Value error, ")[-1] in message


def test_merging_within_partitions_needs_a_partitioned_table(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["tables"]["tables"]["bronze/stores"]["partition_by"] = []
    base["jobs"]["jobs"]["bronze_stores"]["write"] = {"mode": "merge", "keys": ["store_id"], "within_partitions": True}
    assert error_of(tmp_path, base) == (
        "conf/base/jobs.yaml: jobs.bronze_stores.write.within_partitions: within_partitions needs a partitioned "
        "table; 'bronze/stores' has no partition_by"
    )


def test_table_names_need_a_layer(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["tables"]["tables"]["platinum/x"] = {}
    assert error_of(tmp_path, base) == (
        "conf/base/tables.yaml: tables.platinum/x: table names are LAYER/NAME with LAYER one of bronze, silver, gold"
    )


def test_secret_references_resolve_from_the_environment(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["stores"]["options"]["password"] = "${secret:landing-key}"
    loaded = load(tmp_path, base, environ={"LAKEHOUSE_SECRET_LANDING_KEY": FAKE_SECRET})
    assert loaded.config.feeds["stores"].options["password"] == FAKE_SECRET
    assert loaded.redactor.redact(f"failed with {FAKE_SECRET}") == "failed with ***"


def test_unresolvable_secret_names_file_key_and_variable(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["stores"]["options"]["password"] = "${secret:landing-key}"
    assert error_of(tmp_path, base) == (
        "conf/base/feeds.yaml: feeds.stores.options.password: secret 'landing-key' cannot be resolved "
        "(needed by feed stores): environment variable LAKEHOUSE_SECRET_LANDING_KEY is not set"
    )


def test_a_secret_echoed_in_a_validation_error_is_redacted(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["lakehouse"]["spark"] = {"shuffle_partitions": "${secret:token}"}
    message = error_of(tmp_path, base, environ={"LAKEHOUSE_SECRET_TOKEN": FAKE_SECRET})
    assert FAKE_SECRET not in message
    assert message.endswith("(got '***')")


def test_key_vault_backend_needs_its_url(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["lakehouse"]["secrets"] = {"backend": "azure_key_vault"}
    assert error_of(tmp_path, base) == (
        "conf/base/lakehouse.yaml: secrets: backend azure_key_vault needs vault_url (https://<vault>.vault.azure.net)"
    )


JDBC_FEED = {
    "format": "jdbc",
    "url": "jdbc:sqlserver://crm;database=crm",
    "table": "dbo.customers",
    "user": "${secret:crm-user}",
    "password": "${secret:crm-password}",
    "watermark_column": "modified_at",
}


def test_database_feed_loads_with_secret_credentials(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["crm"] = JDBC_FEED
    base["jobs"]["jobs"]["bronze_stores"]["inputs"] = {"source": "feed:crm"}
    loaded = load(
        tmp_path, base, environ={"LAKEHOUSE_SECRET_CRM_USER": "svc", "LAKEHOUSE_SECRET_CRM_PASSWORD": FAKE_SECRET}
    )
    feed = loaded.config.feeds["crm"]
    assert (feed.table, feed.user, feed.password, feed.watermark_column) == (
        "dbo.customers",
        "svc",
        FAKE_SECRET,
        "modified_at",
    )


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ({"format": "jdbc", "url": "jdbc:sqlite:/x.db"}, "feeds.crm: a jdbc feed needs url and table"),
        ({**JDBC_FEED, "path": "crm"}, "feeds.crm: a jdbc feed reads url and table; path and schema are for files"),
        ({"format": "csv", "path": "x"}, "feeds.crm: a csv feed needs path and schema"),
        (
            {"format": "csv", "path": "x", "schema": "a STRING", "table": "t"},
            "feeds.crm: url, table, watermark_column and partition_column are for jdbc feeds, not csv",
        ),
        ({**JDBC_FEED, "table": "customers; DROP TABLE customers"}, "feeds.crm.table: String should match pattern"),
        (
            {**JDBC_FEED, "partition_column": "customer_id"},
            "feeds.crm: partition_column and num_partitions go together (a parallel read needs both)",
        ),
        ({**JDBC_FEED, "partition_column": "id; --", "num_partitions": 4}, "feeds.crm.partition_column: String"),
    ],
)
def test_database_feed_errors(tmp_path: Path, feed: dict[str, str], expected: str) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["crm"] = feed
    environ = {"LAKEHOUSE_SECRET_CRM_USER": "svc-user-1", "LAKEHOUSE_SECRET_CRM_PASSWORD": FAKE_SECRET}
    assert error_of(tmp_path, base, environ=environ).startswith(f"conf/base/feeds.yaml: {expected}")


def test_incremental_database_extraction_needs_a_watermark_column(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["crm"] = {"format": "jdbc", "url": "jdbc:sqlite:/x.db", "table": "customers"}
    base["jobs"]["jobs"]["bronze_stores"]["inputs"] = {"source": "feed:crm"}
    assert error_of(tmp_path, base) == (
        "conf/base/jobs.yaml: jobs.bronze_stores.incremental: incremental extraction needs feeds.crm.watermark_column"
    )


def test_every_error_of_a_section_is_reported_one_line_each(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    job = base["jobs"]["jobs"]["bronze_stores"]
    job["mdoe"] = "append"
    del job["description"]
    job["incremental"] = "sometimes"
    with pytest.raises(ConfigError) as error:
        load(tmp_path, base)
    assert str(error.value).splitlines() == [
        "conf/base/jobs.yaml: jobs.bronze_stores.description: required key is missing",
        "conf/base/jobs.yaml: jobs.bronze_stores.incremental: Input should be a valid boolean, unable to "
        "interpret input (got 'sometimes')",
        "conf/base/jobs.yaml: jobs.bronze_stores.mdoe: unknown key 'mdoe'",
    ]


def test_a_jdbc_feed_whose_driver_cannot_be_inferred_must_name_it(tmp_path: Path) -> None:
    base = minimal_base(tmp_path, tmp_path)
    base["feeds"]["feeds"]["erp"] = {"format": "jdbc", "url": "jdbc:db2://erp:50000/sales", "table": "orders"}
    assert error_of(tmp_path, base) == (
        "conf/base/feeds.yaml: feeds.erp: set driver (the JDBC driver's class): it is inferred only for URLs "
        "starting jdbc:mariadb:, jdbc:mysql:, jdbc:oracle:, jdbc:postgresql:, jdbc:sqlite:, jdbc:sqlserver:"
    )
    base["feeds"]["feeds"]["erp"]["url"] = "jdbc:postgresql://erp:5432/sales"
    assert load(tmp_path, base).config.feeds["erp"].driver_class == "org.postgresql.Driver"
