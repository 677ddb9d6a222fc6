"""The local run that the whole-run comparisons (Spark Connect, catalog names, a standalone cluster) hold
their own runs against, built once per test session and shared by every pytest-xdist worker.

Each comparison used to generate the data set and run the pipeline locally itself: three copies of the same
minutes of work. Now the first test that needs the local run builds it under a file lock in the folder all
workers share, and the others read it; nothing writes to it afterwards (the tests read it with deltalake).
A test runs its own variant first and asks for the reference after, so a worker waits only while another
is still building it.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GENERATE = ("generate", "--scale", "0.03", "--days", "2")
# The inventory stream first: replenishment (in `all`) reads the positions it keeps.
STREAM = ("stream", "inventory", "--available-now")
DAILY = ("pipeline", "daily")
ALL = ("pipeline", "all")
STREAM_AND_DAILY = (STREAM, DAILY)
STREAM_DAILY_AND_ALL = (STREAM, DAILY, ALL)

# A marker beside each built result: it is complete.
DONE = ".done"
# A marker beside a result whose build failed, holding the failure: the tests that ask for it after fail at
# once with that message instead of each spending the build's minutes failing again.
FAILED = ".failed"


@dataclass(frozen=True)
class ReferenceRuns:
    """Local runs on one generated data set (`landing`), each built when first asked for, by whichever
    worker asks first. `env` is a CLI run's environment without its lakehouse and landing folders."""

    folder: Path
    lakehouse: Path
    env: dict[str, str]

    @property
    def landing(self) -> Path:
        return self._built("landing", self._generate)

    def stream_and_daily(self) -> Path:
        """The lakehouse after the inventory stream and `pipeline daily` (a copy; the run goes on)."""
        return self._built("stream_and_daily", self._stream_and_daily)

    def stream_daily_and_all(self) -> Path:
        """The lakehouse after the stream, `pipeline daily` and `pipeline all` (daily's jobs then skip)."""
        return self._built("stream_daily_and_all", self._then_all)

    def _built(self, name: str, build: Callable[[Path], None]) -> Path:
        done, failed = self.folder / f"{name}{DONE}", self.folder / f"{name}{FAILED}"
        with _locked(self.folder / f"{name}.lock"):
            if failed.exists():
                raise AssertionError(f"the shared reference run ({name}) failed earlier:\n{failed.read_text()}")
            if not done.exists():
                try:
                    build(self.folder / name)
                except Exception as exc:
                    failed.write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                    raise
                done.touch()
        return self.folder / name

    def _generate(self, landing: Path) -> None:
        self._run(GENERATE, {**self.env, "LAKEHOUSE_LANDING": str(landing)})

    def _stream_and_daily(self, snapshot: Path) -> None:
        self._run_in(STREAM_AND_DAILY)
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(self.run_root, snapshot)

    def _then_all(self, target: Path) -> None:
        # `all` goes on in the same lakehouse (the jobs' records of their inputs name its folders).
        self.stream_and_daily()
        self._run_in((ALL,))
        shutil.rmtree(target, ignore_errors=True)
        self.run_root.rename(target)

    @property
    def run_root(self) -> Path:
        return self.folder / "run"

    def _run_in(self, commands: tuple[tuple[str, ...], ...]) -> None:
        env = {**self.env, "LAKEHOUSE_LANDING": str(self.landing), "LAKEHOUSE_ROOT": str(self.run_root)}
        for command in commands:
            self._run(command, env)

    def _run(self, argv: tuple[str, ...], env: dict[str, str]) -> None:
        done = subprocess.run(
            [str(self.lakehouse), *argv], cwd=self.folder, env=env, capture_output=True, text=True, timeout=1800
        )
        assert done.returncode == 0, f"reference run `lakehouse {' '.join(argv)}` failed:\n{done.stderr[-3000:]}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
