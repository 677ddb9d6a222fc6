"""The shared reference runs' bookkeeping (reference_runs.py): a build runs once; a failed one is not
retried by each test that asks for it after."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.reference_runs import ReferenceRuns


def test_a_built_result_is_built_once_and_a_failed_build_fails_the_later_askers_at_once(tmp_path: Path) -> None:
    runs = ReferenceRuns(tmp_path, tmp_path / "no-lakehouse-command", {})
    builds: list[str] = []

    def build(target: Path) -> None:
        builds.append(target.name)
        target.mkdir()

    assert runs._built("good", build) == tmp_path / "good"
    assert runs._built("good", build) == tmp_path / "good"
    assert builds == ["good"]

    def failing(target: Path) -> None:
        builds.append(target.name)
        raise AssertionError("reference run `lakehouse pipeline daily` failed:\nboom")

    with pytest.raises(AssertionError, match="boom"):
        runs._built("bad", failing)
    with pytest.raises(AssertionError, match=r"failed earlier:\nAssertionError: reference run .*\nboom"):
        runs._built("bad", failing)
    assert builds == ["good", "bad"]  # not built a second time
