"""The archive's files: built under a temporary name, renamed when complete, earlier ones removed. The
training itself (a real JVM over the CLI's commands) runs in `make setup`, and
tests/unit/runtime/test_class_archive.py checks that a local session's JVM maps what it wrote; here a
stand-in writes the file so the file handling is checked in a second."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from retail_lakehouse import jvm_archive
from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.class_archive import current_archive
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars

trained: list[Path] = []


def writes_archive(work: Path, runtime_jars: Sequence[Path], archive: Path) -> None:
    assert work.is_dir() and not archive.exists()
    trained.append(archive)
    archive.write_bytes(b"classes")


def writes_nothing(work: Path, runtime_jars: Sequence[Path], archive: Path) -> None:
    trained.append(archive)


def test_a_built_archive_replaces_earlier_ones_and_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained.clear()
    monkeypatch.setattr(jvm_archive, "_train", writes_archive)
    earlier = tmp_path / "classes-0123456789abcdef.jsa"
    earlier.write_bytes(b"old jars")
    expected = current_archive(local_runtime_jars(default_jars_dir()), tmp_path)

    assert jvm_archive.build(default_jars_dir(), tmp_path) == (expected, True)
    assert expected is not None and expected.read_bytes() == b"classes"
    assert [p.name for p in trained] == [f"{expected.name}.partial-{os.getpid()}"]
    assert sorted(tmp_path.iterdir()) == [expected]  # the earlier archive and the partial file are gone

    assert jvm_archive.build(default_jars_dir(), tmp_path) == (expected, False)
    assert len(trained) == 1


def test_a_training_that_writes_nothing_is_an_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jvm_archive, "_train", writes_nothing)
    with pytest.raises(RuntimeSetupError, match="exited without writing its class archive"):
        jvm_archive.build(default_jars_dir(), tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert jvm_archive.main(["--jars-dir", str(tmp_path / "no-jars")]) == 2
