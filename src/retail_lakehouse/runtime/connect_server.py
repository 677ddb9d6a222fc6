"""A local Spark Connect server with Delta Lake: Spark's own SparkConnectServer (its jar ships in the pyspark
wheel) started through spark-submit with the jars `make setup` fetched. The stand-in for a remote Spark:
Databricks serverless compute and standard-access-mode clusters run PySpark this way.

Used by `make connect` (python -m retail_lakehouse.runtime.connect_server), the Spark Connect test and
benchmarks; a command reaches it with `--remote sc://127.0.0.1:PORT`. Its foreachBatch callbacks run in
Python workers started with this interpreter, so they import this package as the client does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyspark

from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.local_process import LocalServer, free_port, serve_until_stopped, wait_until_listening
from retail_lakehouse.runtime.spark import DELTA_SESSION_SETTINGS, driver_java_options

START_TIMEOUT_SECONDS = 120
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def server_conf(port: int, *, master: str, shuffle_partitions: int, warehouse_dir: Path) -> dict[str, str]:
    return {
        "spark.master": master,
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        **DELTA_SESSION_SETTINGS,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.default.parallelism": str(shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": str(shuffle_partitions),
        "spark.sql.warehouse.dir": str(warehouse_dir),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.pyspark.python": sys.executable,
    }


class LocalConnectServer(LocalServer):
    """Starts the server on a loopback port (a free one unless given), waits until it accepts connections,
    and stops it (and removes its folder) on exit."""

    stop_timeout_seconds = 60

    def __init__(
        self,
        port: int | None = None,
        *,
        master: str = "local[2]",
        driver_memory: str = "2g",
        shuffle_partitions: int = 4,
        jars_dir: Path | None = None,
        work_dir: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.master = master
        self.driver_memory = driver_memory
        self.shuffle_partitions = shuffle_partitions
        self.jars_dir = jars_dir or default_jars_dir()
        super().__init__(work_dir, prefix="lakehouse-connect-")
        self.work_dir = self.folder

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.work_dir / "jvm.log"

    def command(self) -> list[str]:
        spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
        conf = server_conf(
            self.port,
            master=self.master,
            shuffle_partitions=self.shuffle_partitions,
            warehouse_dir=self.work_dir / "warehouse",
        )
        return [
            str(spark_submit),
            "--class",
            SERVER_CLASS,
            "--driver-memory",
            self.driver_memory,
            "--driver-java-options",
            driver_java_options(self.work_dir),
            "--jars",
            ",".join(str(jar) for jar in local_runtime_jars(self.jars_dir)),
            *[item for key, value in conf.items() for item in ("--conf", f"{key}={value}")],
            "spark-internal",
        ]

    def start(self) -> LocalConnectServer:
        if shutil.which("java") is None:
            raise RuntimeSetupError("the Spark Connect server needs Java 17 (java on PATH)")
        environ = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        environ.pop("SPARK_REMOTE", None)  # the server is a classic Spark application
        output = (self.work_dir / "server.out").open("wb")
        self.process = subprocess.Popen(
            self.command(), stdout=output, stderr=subprocess.STDOUT, env=environ, cwd=self.work_dir
        )
        wait_until_listening(
            self.process, self.port, what="Spark Connect server", log=self.log, timeout_seconds=START_TIMEOUT_SECONDS
        )
        return self


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local Spark Connect server with Delta Lake until Ctrl-C.")
    parser.add_argument("--port", type=int, default=15002)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    with LocalConnectServer(args.port, master=args.master) as server:
        print(f"Spark Connect server at {server.url} (log: {server.log}); Ctrl-C stops it")
        serve_until_stopped(server.process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
