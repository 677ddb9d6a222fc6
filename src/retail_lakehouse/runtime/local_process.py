"""Servers the project starts on this machine for tests, benchmarks and local runs (a Kafka broker, a Spark
Connect server): a free loopback port, waiting until one listens, stopping it."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from retail_lakehouse.core.errors import RuntimeSetupError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, *, what: str, log: Path, timeout_seconds: float
) -> None:
    """Returns once `port` accepts connections; raises (after stopping the process) when the process exits
    or the time runs out."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeSetupError(f"the {what} exited; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    stop_process(process)
    raise RuntimeSetupError(f"the {what} did not listen on {port} within {timeout_seconds:.0f} s; see {log}")


def stop_process(process: subprocess.Popen[bytes] | None, timeout_seconds: float = 20) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_until_stopped(process: subprocess.Popen[bytes] | None) -> None:
    """Blocks while the server runs, until Ctrl-C or SIGTERM (the caller then stops it)."""
    stopped = False

    def request_stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stopped and process is not None and process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


class LocalServer:
    """A server process this project starts, in a folder of its own (a temporary one, removed when it
    stops, unless given); a context manager that starts it and stops it."""

    stop_timeout_seconds: float = 20

    def __init__(self, folder: Path | None, *, prefix: str) -> None:
        self._own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix=prefix))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        stop_process(self.process, self.stop_timeout_seconds)
        self.process = None
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
