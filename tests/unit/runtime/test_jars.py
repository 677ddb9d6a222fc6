from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.jars import artifact_name, local_runtime_jars


@pytest.mark.parametrize(
    ("file_name", "artifact"),
    [
        ("delta-spark_2.13-4.0.0.jar", "delta-spark_2.13"),
        ("spark-sql-kafka-0-10_2.13-4.0.0.jar", "spark-sql-kafka-0-10_2.13"),
        ("sqlite-jdbc-3.50.3.0.jar", "sqlite-jdbc"),
        ("slf4j-api-1.7.36.jar", "slf4j-api"),
        ("scala-parallel-collections_2.13-1.2.0.jar", "scala-parallel-collections_2.13"),
    ],
)
def test_artifact_name_drops_the_version(file_name: str, artifact: str) -> None:
    assert artifact_name(file_name) == artifact


def test_jars_pyspark_ships_are_left_out(tmp_path: Path) -> None:
    fetched, shipped = tmp_path / "fetched", tmp_path / "shipped"
    fetched.mkdir()
    shipped.mkdir()
    for name in ("delta-spark_2.13-4.0.0.jar", "delta-storage-4.0.0.jar", "slf4j-api-1.7.36.jar"):
        (fetched / name).touch()
    (shipped / "slf4j-api-2.0.16.jar").touch()
    assert [p.name for p in local_runtime_jars(fetched, shipped)] == [
        "delta-spark_2.13-4.0.0.jar",
        "delta-storage-4.0.0.jar",
    ]


def test_missing_delta_jars_say_to_run_make_setup(tmp_path: Path) -> None:
    with pytest.raises(RuntimeSetupError, match=r"the Delta Lake jars are not in .*; run `make setup`"):
        local_runtime_jars(tmp_path, tmp_path)
