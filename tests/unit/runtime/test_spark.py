from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.spark import (
    check_reachable,
    get_spark_session,
    local_session_conf,
    owns_session,
    remote_url,
    runs_on_spark_platform,
)


def test_local_session_has_delta_and_small_machine_settings(spark: SparkSession, tmp_path: Path) -> None:
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
    assert spark.conf.get("spark.sql.catalog.spark_catalog") == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.master") == "local[2]"
    # Static: only a session started with it caches a streaming micro-batch's generated classes.
    assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == "2000"
    assert spark.conf.get("spark.sql.sources.parallelPartitionDiscovery.threshold") == "1000"
    assert "delta-spark_2.13-4.0.0.jar" in conf.get("spark.jars", "")
    # Delta really works: a table written and read back through the session.
    path = str(tmp_path / "t")
    spark.range(3).write.format("delta").save(path)
    assert sorted(r.id for r in spark.read.format("delta").load(path).collect()) == [0, 1, 2]


def test_the_local_jvm_runs_the_throughput_collector(spark: SparkSession) -> None:
    # Asked of the running JVM itself (its collectors' management beans), not of the options handed to it:
    # an option the JVM dropped or another collector option overriding it would show here.
    management = spark.sparkContext._jvm.java.lang.management  # type: ignore[union-attr]
    beans = management.ManagementFactory.getGarbageCollectorMXBeans()
    assert sorted(bean.getName() for bean in beans) == ["PS MarkSweep", "PS Scavenge"]


def test_local_conf_comes_from_settings_and_extra_conf_wins() -> None:
    settings = SparkSettings(
        master="local[1]",
        driver_memory="1g",
        shuffle_partitions=3,
        conf={"spark.sql.shuffle.partitions": "5", "spark.foo": "bar"},
    )
    conf = local_session_conf(settings, [Path("/j/a.jar"), Path("/j/b.jar")], "/w")
    assert conf["spark.master"] == "local[1]"
    assert conf["spark.driver.memory"] == "1g"
    assert conf["spark.jars"] == "/j/a.jar,/j/b.jar"
    assert conf["spark.sql.warehouse.dir"] == "/w"
    assert conf["spark.sql.shuffle.partitions"] == "5"
    assert conf["spark.foo"] == "bar"


def test_the_driver_jvm_gets_the_configured_garbage_collector() -> None:
    options = {
        collector: local_session_conf(SparkSettings(garbage_collector=collector), [], None)[
            "spark.driver.extraJavaOptions"
        ].split()
        for collector in ("parallel", "g1")
    }
    assert ("-XX:+UseParallelGC" in options["parallel"], "-XX:+UseG1GC" in options["parallel"]) == (True, False)
    assert ("-XX:+UseParallelGC" in options["g1"], "-XX:+UseG1GC" in options["g1"]) == (False, True)


def test_platform_detection() -> None:
    assert runs_on_spark_platform({"DATABRICKS_RUNTIME_VERSION": "17.3"})
    assert runs_on_spark_platform({"PYSPARK_GATEWAY_PORT": "41234"})
    assert not runs_on_spark_platform({})
    assert owns_session(SparkSettings(session="auto"), {})
    assert not owns_session(SparkSettings(session="auto"), {"DATABRICKS_RUNTIME_VERSION": "17.3"})
    assert not owns_session(SparkSettings(session="existing"), {})


def test_on_a_platform_the_existing_session_is_reused_unchanged(spark: SparkSession) -> None:
    # jars_dir points nowhere: a local session would fail, the platform's session needs no jars.
    settings = SparkSettings(session="auto", jars_dir="/nonexistent", shuffle_partitions=99)
    session = get_spark_session(settings, environ={"DATABRICKS_RUNTIME_VERSION": "17.3"})
    assert session is spark
    assert session.conf.get("spark.sql.shuffle.partitions") == "2"


def test_a_spark_connect_url_is_checked_before_a_session_is_made() -> None:
    with pytest.raises(RuntimeSetupError, match=r"^a Spark Connect URL looks like sc://HOST:PORT, got http://x:1$"):
        check_reachable("http://x:1")
    with pytest.raises(RuntimeSetupError, match=r"^cannot reach the Spark Connect server at 127\.0\.0\.1:1 \("):
        check_reachable("sc://127.0.0.1:1/;user_id=me")


def test_the_remote_comes_from_configuration_else_spark_remote() -> None:
    assert remote_url(SparkSettings(remote="sc://a:1"), {"SPARK_REMOTE": "sc://b:2"}) == "sc://a:1"
    assert remote_url(SparkSettings(), {"SPARK_REMOTE": "sc://b:2"}) == "sc://b:2"
    assert remote_url(SparkSettings(), {}) is None
