"""The Spark session factory: local mode with Delta from the cached jars, or the platform's own session.

Callers get the session from here once and pass it on explicitly; nothing keeps it in a module global.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.class_archive import current_archive
from retail_lakehouse.runtime.class_archive import use_options as class_archive_options
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
JVM_LOG_REDACT_VARIABLE = "LAKEHOUSE_JVM_LOG_REDACT"


def java_regex_matching_any(values: Iterable[str]) -> str | None:
    """A Java regex matching any of `values` literally, longest first.

    Every UTF-16 unit is written as \\uXXXX: nothing in a value can then act as regex syntax, nor as a
    brace that would end log4j's %replace{...} option early.
    """
    alternatives = []
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        units = value.encode("utf-16-be")
        alternatives.append("".join(f"\\u{units[i]:02X}{units[i + 1]:02X}" for i in range(0, len(units), 2)))
    return "|".join(alternatives) or None


def runs_on_spark_platform(environ: Mapping[str, str]) -> bool:
    """True under spark-submit (the JVM started this Python process) or on a Databricks runtime."""
    return "DATABRICKS_RUNTIME_VERSION" in environ or "PYSPARK_GATEWAY_PORT" in environ


# Delta Lake's SQL extension and catalog: every session of ours has them (local, Connect server, submitted).
DELTA_SESSION_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
CODEGEN_CACHE_ENTRIES = 2000
DRIVER_LISTED_FOLDERS = 1000


JVM_LOG_FILE = "jvm.log"

# A local JVM runs batch work on a few cores, where a pause matters less than the CPU a collector takes from
# the work: G1 (the JDK's default) spends more of it on concurrent threads and write barriers than the
# throughput collector, which ran a cold transform at scale 1 in 10 to 15% less time (docs/benchmarks.md).
GARBAGE_COLLECTORS = {"parallel": "-XX:+UseParallelGC", "g1": "-XX:+UseG1GC"}


def driver_java_options(log_folder: Path | None, garbage_collector: str = "parallel") -> str:
    """The driver JVM's options: our log4j configuration, its log file (stderr without one), UTC, and its
    garbage collector."""
    options = [
        f"-Dlog4j.configurationFile=file:{LOG4J_CONFIG}",
        "-Duser.timezone=UTC",
        GARBAGE_COLLECTORS[garbage_collector],
    ]
    if log_folder is not None:
        options += ["-Dlakehouse.jvm.appender=file", f"-Dlakehouse.jvm.log={log_folder / JVM_LOG_FILE}"]
    return " ".join(options)


JVM_OPTIONS_SETTING = "spark.driver.extraJavaOptions"


def local_session_conf(
    settings: SparkSettings,
    jars: list[Path],
    warehouse_dir: str | None,
    log_folder: Path | None = None,
    class_archive: Path | None = None,
) -> dict[str, str]:
    """Every setting of a local session, sized from configuration for a small machine; the driver JVM
    starts from `class_archive` when given and the file exists (class_archive.py)."""
    java_options = [driver_java_options(log_folder, settings.garbage_collector), *class_archive_options(class_archive)]
    conf = {
        "spark.master": settings.master,
        "spark.app.name": settings.app_name,
        "spark.driver.memory": settings.driver_memory,
        "spark.jars": ",".join(str(jar) for jar in jars),
        **DELTA_SESSION_SETTINGS,
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.default.parallelism": str(settings.shuffle_partitions),
        "spark.ui.enabled": str(settings.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        JVM_OPTIONS_SETTING: " ".join(java_options),
        # Generated code is cached by its source text; the default (100 classes) is fewer than one inventory
        # micro-batch generates, so every batch compiled them all again and the JIT never settled (a
        # 100,000-event batch took 12.5 s instead of 7 s; docs/benchmarks.md). Static: set at start only.
        "spark.sql.codegen.cache.maxEntries": str(CODEGEN_CACHE_ENTRIES),
        # Folders are listed on the driver up to this many at a time, not by a Spark job of one task per
        # folder: a local session lists local folders, where the job costs more than the listing (a feed of
        # 90 daily folders is listed two or three times per file-stream run; docs/benchmarks.md).
        "spark.sql.sources.parallelPartitionDiscovery.threshold": str(DRIVER_LISTED_FOLDERS),
        # Delta reads its log with this many partitions; the default (50) is for clusters.
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    if warehouse_dir:
        conf["spark.sql.warehouse.dir"] = warehouse_dir
    conf.update(settings.conf)
    return conf


def remote_url(settings: SparkSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """The Spark Connect server to use: configuration's spark.remote, else SPARK_REMOTE; None for none."""
    environ = os.environ if environ is None else environ
    return settings.remote or environ.get("SPARK_REMOTE") or None


# Settings a Spark Connect session takes at run time: the ones results depend on (timestamps parse and
# print in UTC) and the ones sized from configuration.
def connect_session_conf(settings: SparkSettings) -> dict[str, str]:
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
    }


DEFAULT_CONNECT_PORT = 15002
CONNECT_PROBE_SECONDS = 10


def check_reachable(url: str) -> None:
    """Raises RuntimeSetupError, in one line, when nothing answers at the URL's host and port: the Connect
    client would otherwise retry its first call for minutes before saying so."""
    parsed = urlsplit(url.split(";", 1)[0])
    if parsed.scheme != "sc" or not parsed.hostname:
        raise RuntimeSetupError(f"a Spark Connect URL looks like sc://HOST:PORT, got {url}")
    port = parsed.port or DEFAULT_CONNECT_PORT
    try:
        with socket.create_connection((parsed.hostname, port), timeout=CONNECT_PROBE_SECONDS):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RuntimeSetupError(
            f"cannot reach the Spark Connect server at {parsed.hostname}:{port} ({reason})"
        ) from None


def connect_session(url: str, settings: SparkSettings) -> SparkSession:
    """A Spark Connect session on the server at `url` (sc://HOST:PORT)."""
    check_reachable(url)
    try:
        spark = SparkSession.builder.remote(url).getOrCreate()
    except ImportError as exc:  # pyspark's Connect client needs grpcio and friends (pyspark[connect])
        raise RuntimeSetupError(f"Spark Connect needs pyspark's connect extra: {exc}") from None
    for key, value in connect_session_conf(settings).items():
        spark.conf.set(key, value)
    return spark


def uses_existing_session(settings: SparkSettings, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return settings.session == "existing" or (settings.session == "auto" and runs_on_spark_platform(environ))


def owns_session(settings: SparkSettings, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process started the session (and so should stop it); never the platform's."""
    return not uses_existing_session(settings, environ)


def get_spark_session(
    settings: SparkSettings,
    *,
    warehouse_dir: str | None = None,
    environ: Mapping[str, str] | None = None,
    secret_values: Iterable[str] = (),
    log_folder: Path | None = None,
) -> SparkSession:
    """The platform's session when there is one (adding nothing it provides), else a local one with Delta.

    `secret_values` are masked in the local JVM's log lines (an error naming a path or a connection
    string could otherwise print them); on a platform its own log redaction applies. With `log_folder` the
    local JVM logs to jvm.log there instead of stderr.
    """
    if uses_existing_session(settings, environ):
        return SparkSession.builder.getOrCreate()
    remote = remote_url(settings, environ)
    if remote is not None:
        return connect_session(remote, settings)
    redact = java_regex_matching_any(secret_values)
    if redact:
        # The JVM that getOrCreate launches inherits this process's environment.
        os.environ[JVM_LOG_REDACT_VARIABLE] = redact
    jars_dir = Path(settings.jars_dir) if settings.jars_dir else default_jars_dir()
    # Python workers (pandas UDFs) run the interpreter pyspark names in PYSPARK_PYTHON (the spark.pyspark.python
    # setting only reaches spark-submit); without it they start a system python3 that lacks this venv.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jars = local_runtime_jars(jars_dir)
    archive = current_archive(jars) if settings.class_archive else None
    builder = SparkSession.builder
    for key, value in local_session_conf(settings, jars, warehouse_dir, log_folder, archive).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def is_connect(spark: SparkSession) -> bool:
    """Whether `spark` is a Spark Connect session (its foreachBatch callbacks run in the server's worker)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")
