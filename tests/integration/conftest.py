"""Runs the real `lakehouse` console script in a subprocess on a temporary lakehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest

from tests.conftest import REPO_ROOT
from tests.integration.reference_runs import ReferenceRuns

LAKEHOUSE = Path(sys.executable).parent / "lakehouse"


# The key silver's card tokens are made with in tests (a deployment's comes from its secret backend).
CARD_TOKEN_KEY = "test-card-token-key-31c7"


@dataclass(frozen=True)
class Workspace:
    root: Path
    landing: Path
    cwd: Path
    env: dict[str, str]

    def run(
        self, *argv: str, extra_env: dict[str, str] | None = None, command: list[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*(command or [str(LAKEHOUSE)]), *argv],
            cwd=self.cwd,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            # A guard against a hung command, not a time budget: a whole pipeline on three busy test
            # workers sharing two cores can take more than ten minutes.
            timeout=1800,
        )


def cli_env() -> dict[str, str]:
    """A CLI run's environment, without its lakehouse and landing folders: nothing of ours or Spark's
    inherited from the caller, the repository's configuration, the tests' card token key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "PYSPARK_", "SPARK_"))}
    env.update(
        # spark-submit finds Spark in the pyspark package and runs the driver with this interpreter.
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        PYSPARK_PYTHON=sys.executable,
        LAKEHOUSE_CONF_DIR=str(REPO_ROOT / "conf"),
        LAKEHOUSE_SECRET_CARD_TOKEN_KEY=CARD_TOKEN_KEY,
    )
    return env


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    env = {**cli_env(), "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"), "LAKEHOUSE_LANDING": str(tmp_path / "landing")}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return Workspace(tmp_path / "lakehouse", tmp_path / "landing", cwd, env)


@pytest.fixture(scope="session")
def reference_runs(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> ReferenceRuns:
    """The shared local runs the whole-run comparisons hold theirs against (reference_runs.py)."""
    # Under pytest-xdist each worker's base folder is inside the run's, which all workers share.
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / "reference-runs"
    folder.mkdir(exist_ok=True)
    return ReferenceRuns(folder, LAKEHOUSE, cli_env())
