"""A Spark standalone cluster on this machine: one master and N workers, each its own JVM process started
with Spark's own `spark-class` launcher and classes (shipped in the pyspark wheel), as on any cluster of
machines. The stand-in for a multi-machine cluster in the cluster test and benchmarks; `make cluster` runs
one until Ctrl-C, and `spark-submit --master spark://127.0.0.1:PORT` submits to it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Self

import pyspark

from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.local_process import (
    LocalServer,
    free_port,
    serve_until_stopped,
    stop_process,
    wait_until_listening,
)

START_TIMEOUT_SECONDS = 120
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class LocalStandaloneCluster(LocalServer):
    """Starts the master, then the workers, and returns once the master lists every worker alive; stops
    them all (and removes the folder it made) on exit."""

    def __init__(
        self,
        *,
        workers: int = 2,
        cores_per_worker: int = 1,
        memory_per_worker: str = "2g",
        work_dir: Path | None = None,
    ) -> None:
        super().__init__(work_dir, prefix="lakehouse-cluster-")
        self.workers = workers
        self.cores_per_worker = cores_per_worker
        self.memory_per_worker = memory_per_worker
        self.port = free_port()
        self.ui_port = free_port()
        self.worker_processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def _launch(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
        environ = {
            **os.environ,
            "SPARK_HOME": str(Path(pyspark.__file__).parent),
            # Executors run Python with this interpreter, which has the package's dependencies.
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
        environ.pop("SPARK_REMOTE", None)
        output = (self.folder / f"{name}.out").open("wb")
        return subprocess.Popen(
            [str(spark_class), *arguments], stdout=output, stderr=subprocess.STDOUT, env=environ, cwd=self.folder
        )

    def start(self) -> Self:
        if shutil.which("java") is None:
            raise RuntimeSetupError("the Spark standalone cluster needs Java 17 (java on PATH)")
        self.process = self._launch(
            "master", [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.ui_port)]
        )
        log = self.folder / "master.out"
        wait_until_listening(
            self.process, self.port, what="Spark master", log=log, timeout_seconds=START_TIMEOUT_SECONDS
        )
        for number in range(1, self.workers + 1):
            work = self.folder / f"worker-{number}"
            work.mkdir(exist_ok=True)
            arguments = [
                WORKER_CLASS,
                "--host", "127.0.0.1",
                "--cores", str(self.cores_per_worker),
                "--memory", self.memory_per_worker,
                "--webui-port", str(free_port()),
                "--work-dir", str(work),
                self.url,
            ]  # fmt: skip
            self.worker_processes.append(self._launch(f"worker-{number}", arguments))
        self._wait_for_workers(log)
        return self

    def alive_workers(self) -> int:
        """Workers the master lists as alive (its web UI's JSON)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=5) as response:
            state = json.load(response)
        return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")

    def _wait_for_workers(self, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if any(worker.poll() is not None for worker in self.worker_processes):
                self.stop()
                raise RuntimeSetupError(f"a Spark worker exited; see {self.folder}")
            try:
                if self.alive_workers() == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeSetupError(f"{self.workers} Spark workers did not register within the time; see {log}")

    def stop(self) -> None:
        for worker in self.worker_processes:
            stop_process(worker, self.stop_timeout_seconds)
        self.worker_processes = []
        super().stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a Spark standalone cluster on this machine until Ctrl-C.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores-per-worker", type=int, default=1)
    parser.add_argument("--memory-per-worker", default="2g")
    args = parser.parse_args(argv)
    with LocalStandaloneCluster(
        workers=args.workers, cores_per_worker=args.cores_per_worker, memory_per_worker=args.memory_per_worker
    ) as cluster:
        print(f"Spark master at {cluster.url} (web UI http://127.0.0.1:{cluster.ui_port}/, logs {cluster.folder})")
        serve_until_stopped(cluster.process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
