from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.runtime.class_archive import (
    QUIET,
    archive_name,
    current_archive,
    java_binary,
    use_options,
    write_options,
)
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.spark import JVM_OPTIONS_SETTING, local_session_conf


def test_the_name_changes_with_the_java_binary_and_with_any_jar(tmp_path: Path) -> None:
    java, other_java = tmp_path / "java", tmp_path / "java-21"
    jars = [tmp_path / "a.jar", tmp_path / "b.jar"]
    for path in (java, other_java, *jars):
        path.write_bytes(b"x")
    name = archive_name(java, jars)
    assert name == archive_name(java, list(reversed(jars)))  # the order of a folder listing does not matter
    assert name.startswith("classes-") and name.endswith(".jsa")
    assert archive_name(other_java, jars) != name
    jars[1].write_bytes(b"xy")  # another size
    resized = archive_name(java, jars)
    assert resized != name
    os.utime(jars[1], ns=(0, 1_000_000_000))  # same size, another modification time
    assert archive_name(java, jars) not in (name, resized)
    assert archive_name(java, jars[:1]) != name  # a jar fewer


def test_options_name_the_archive_only_when_it_exists(tmp_path: Path) -> None:
    archive = tmp_path / "classes-0.jsa"
    assert use_options(None) == []
    assert use_options(archive) == []
    archive.write_bytes(b"")
    assert use_options(archive) == [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    assert write_options(archive) == [f"-XX:ArchiveClassesAtExit={archive}", *QUIET]


def test_a_local_session_starts_from_the_archive_after_its_own_options(tmp_path: Path) -> None:
    archive = tmp_path / "classes-0.jsa"
    archive.write_bytes(b"")
    without = local_session_conf(SparkSettings(), [Path("/j/a.jar")], None, tmp_path)[JVM_OPTIONS_SETTING]
    with_archive = local_session_conf(SparkSettings(), [Path("/j/a.jar")], None, tmp_path, archive)
    assert with_archive[JVM_OPTIONS_SETTING] == " ".join([without, *use_options(archive)])
    assert "-Duser.timezone=UTC" in without and "SharedArchiveFile" not in without


def test_java_is_java_home_s_else_the_path_s(tmp_path: Path) -> None:
    assert java_binary({"JAVA_HOME": "/opt/jdk17", "PATH": str(tmp_path)}) == Path("/opt/jdk17/bin/java")
    (tmp_path / "java").write_text("#!/bin/sh\n")
    (tmp_path / "java").chmod(0o755)
    assert java_binary({"PATH": str(tmp_path)}) == tmp_path / "java"
    assert java_binary({"PATH": str(tmp_path / "none")}) is None


SESSION_WITH = textwrap.dedent(
    """
    import sys
    from retail_lakehouse.config.models import SparkSettings
    from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
    from retail_lakehouse.runtime.spark import JVM_OPTIONS_SETTING, local_session_conf
    from pyspark.sql import SparkSession

    conf = local_session_conf(SparkSettings(), local_runtime_jars(default_jars_dir()), None)
    conf[JVM_OPTIONS_SETTING] += " " + sys.argv[1]
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    print(builder.getOrCreate().range(3).count())
    """
)


def start_session(java_options: str, work_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SESSION_WITH, java_options],
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_archive_make_setup_built_is_one_the_jvm_of_a_local_session_maps(tmp_path: Path) -> None:
    # -Xshare:on makes the JVM refuse to start unless it maps the archive: its class path, java and jars
    # must all match what it was built from (a stale or foreign archive is otherwise skipped silently).
    archive = current_archive(local_runtime_jars(default_jars_dir()))
    assert archive is not None and archive.is_file(), f"no class archive at {archive}: run `make setup`"
    started = start_session(f"-Xshare:on -XX:SharedArchiveFile={archive}", tmp_path)
    assert (started.returncode, started.stdout.strip().splitlines()[-1:]) == (0, ["3"]), started.stderr[-2000:]

    # The same check refuses an archive that is not one.
    foreign = tmp_path / "classes-foreign.jsa"
    foreign.write_bytes(b"\0" * 4096)
    refused = start_session(f"-Xshare:on -XX:SharedArchiveFile={foreign}", tmp_path)
    assert refused.returncode != 0
