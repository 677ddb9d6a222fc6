"""Finds the JVM jars (Delta Lake, Kafka connector, JDBC drivers) that `make setup` fetched for local mode."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from retail_lakehouse.core.errors import RuntimeSetupError

_VERSION_SUFFIX = re.compile(r"-\d+\.[\w.+\-]*\.jar$")


def default_jars_dir() -> Path:
    """Where `make setup` copies the jars: inside the virtual environment that holds pyspark."""
    return Path(sys.prefix) / "share" / "retail-lakehouse" / "jars"


def artifact_name(jar_file_name: str) -> str:
    """'delta-spark_2.13-4.0.0.jar' -> 'delta-spark_2.13'."""
    return _VERSION_SUFFIX.sub("", jar_file_name)


def pyspark_jars_dir() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def local_runtime_jars(jars_dir: Path, shipped_dir: Path | None = None) -> list[Path]:
    """The fetched jars that pyspark does not already ship.

    Maven copies transitive dependencies such as scala-library or slf4j-api that pyspark ships in
    another version; two versions of one library on the classpath break in surprising ways, so
    pyspark's copy wins.
    """
    shipped = {artifact_name(p.name) for p in (shipped_dir or pyspark_jars_dir()).glob("*.jar")}
    jars = sorted(p for p in jars_dir.glob("*.jar") if artifact_name(p.name) not in shipped)
    if not any(artifact_name(p.name).startswith("delta-spark") for p in jars):
        raise RuntimeSetupError(
            f"the Delta Lake jars are not in {jars_dir}; run `make setup` (it fetches them from Maven Central)"
        )
    return jars
