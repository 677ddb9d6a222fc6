"""The local driver JVM's class-data archive (the JDK's class-data sharing, JEP 350).

A local command's JVM reads, verifies and links thousands of classes from Spark's and Delta's jars before
its first Delta commit, and every command pays that again: on this project's machine a session's start,
first Delta write and first MERGE took 20 s, of which 7 s went when the JVM mapped the classes from an
archive written at the exit of an earlier run (docs/benchmarks.md).

`make setup` trains the archive once (`python -m retail_lakehouse.jvm_archive`): one JVM runs the inventory
stream and the daily pipeline on a tiny generated data set and writes the classes it loaded as it exits. A
local session then starts from it when it exists (`spark.class_archive`, on by default). This module names
the archive and gives the JVM's options; jvm_archive.py builds it.

The archive is named by what it was built from: the java binary and every jar on the driver's class path or
in `spark.jars`. After an upgrade of any of them no archive has the new name, so none is used until the next
`make setup`; the JVM checks the archive against its class path itself too, and without a match starts
without it. Its messages about the archive are switched off: a stale archive costs time, never a wrong result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from retail_lakehouse.runtime.jars import default_jars_dir, pyspark_jars_dir

ARCHIVE_SUFFIX = ".jsa"
# The JVM's notes on what it could not archive (signed jars, classes from old compilers) or on an archive it
# cannot use: a local command's stderr is for the user.
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def archive_folder() -> Path:
    """Beside the jars `make setup` fetched: the archive belongs to this virtual environment's jars."""
    return default_jars_dir().parent / "jvm"


def java_binary(environ: Mapping[str, str] | None = None) -> Path | None:
    """The java that spark-submit starts: JAVA_HOME's, else the first on the PATH."""
    environ = os.environ if environ is None else environ
    if environ.get("JAVA_HOME"):
        return Path(environ["JAVA_HOME"]) / "bin" / "java"
    found = shutil.which("java", path=environ.get("PATH"))
    return Path(found) if found else None


def archive_name(java: Path, jars: Sequence[Path]) -> str:
    """A name that changes with the java binary or any jar (path, size, modification time): what the JVM
    compares an archive against."""
    digest = hashlib.sha256()
    for path in (java.resolve(), *sorted(jars)):
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    return f"classes-{digest.hexdigest()[:16]}{ARCHIVE_SUFFIX}"


def driver_jars(runtime_jars: Sequence[Path]) -> list[Path]:
    """Every jar a local driver loads classes from: pyspark's class path and `spark.jars`."""
    return [*pyspark_jars_dir().glob("*.jar"), *runtime_jars]  # in any order: archive_name sorts them


def current_archive(runtime_jars: Sequence[Path], folder: Path | None = None) -> Path | None:
    """Where the archive for this java and these jars is (or would be); None without a java to start."""
    java = java_binary()
    if java is None or not java.exists():
        return None
    return (folder or archive_folder()) / archive_name(java, driver_jars(runtime_jars))


def use_options(archive: Path | None) -> list[str]:
    """The driver JVM's options to start from `archive`; none when it does not exist."""
    if archive is None or not archive.is_file():
        return []
    return [f"-XX:SharedArchiveFile={archive}", *QUIET]


def write_options(target: Path) -> list[str]:
    """The driver JVM's options to write the classes it loaded to `target` as it exits."""
    return [f"-XX:ArchiveClassesAtExit={target}", *QUIET]
