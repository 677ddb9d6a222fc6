"""`lakehouse upload` between two local folders (the same FileStore interface as ADLS): only new files are
copied, a changed file is refused before anything is copied, and an interrupted upload resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.core.errors import LandingConflictError
from retail_lakehouse.io.file_stores import FileStoreError, LocalFileStore
from retail_lakehouse.ops.landing_upload import download, plan_upload, upload


def landing(root: Path, files: dict[str, str]) -> LocalFileStore:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return LocalFileStore(root)


def test_only_new_files_are_copied_and_a_second_upload_copies_nothing(tmp_path: Path) -> None:
    source = landing(
        tmp_path / "src",
        {
            "stores/2025-01-01/stores.csv": "id\n1\n",
            "pos/2025-01-01/a.jsonl": "{}\n",
            "pos/2025-01-02/b.jsonl": "{}\n{}\n",
            "pos/2025-01-02/c.jsonl.part": "half",  # still being written: not a landing file yet
        },
    )
    target = landing(tmp_path / "dest", {"pos/2025-01-01/a.jsonl": "{}\n"})
    first = upload(source, target)
    assert (first.copied, first.present, first.bytes_copied) == (2, 1, len("id\n1\n") + len("{}\n{}\n"))
    assert [f.path for f in target.list_files()] == [
        "pos/2025-01-01/a.jsonl",
        "pos/2025-01-02/b.jsonl",
        "stores/2025-01-01/stores.csv",
    ]
    assert (tmp_path / "dest/pos/2025-01-02/b.jsonl").read_text() == "{}\n{}\n"
    again = upload(source, target)
    assert (again.copied, again.present) == (0, 3)


def test_a_file_with_other_content_is_refused_and_nothing_is_copied(tmp_path: Path) -> None:
    source = landing(tmp_path / "src", {"a/1.csv": "x,y\n", "a/2.csv": "new\n"})
    target = landing(tmp_path / "dest", {"a/1.csv": "x,y,z\n"})
    with pytest.raises(LandingConflictError, match=r"1 file\(s\) already in .*a/1.csv \(6 bytes there, 4 here\)"):
        upload(source, target)
    assert not (tmp_path / "dest/a/2.csv").exists()
    replaced = upload(source, target, overwrite=True)
    assert (replaced.copied, replaced.overwritten) == (2, 1)
    assert (tmp_path / "dest/a/1.csv").read_text() == "x,y\n"


def test_same_size_other_content_is_found_only_with_the_checksum(tmp_path: Path) -> None:
    source = landing(tmp_path / "src", {"a/1.csv": "abc\n"})
    target = landing(tmp_path / "dest", {"a/1.csv": "xyz\n"})
    assert len(plan_upload(source, target, checksum=False).present) == 1
    with pytest.raises(LandingConflictError, match=r"a/1.csv \(same size, other content \(MD5\)\)"):
        upload(source, target, checksum=True)


class FailingAfter(LocalFileStore):
    """A destination whose writes fail after `allowed` files: an upload interrupted half-way."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    def write_atomically(self, path: str, data: bytes) -> None:
        if self.allowed == 0:
            # As a dropped connection would: the hidden in-progress file is left behind.
            partial = self.root / Path(path).parent / f".{Path(path).name}.uploading"
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data[:1])
            raise FileStoreError(f"cannot write {path}: connection reset")
        self.allowed -= 1
        super().write_atomically(path, data)


def test_an_interrupted_upload_resumes_with_what_is_missing(tmp_path: Path) -> None:
    source = landing(tmp_path / "src", {f"f/{i}.csv": f"{i}\n" * (i + 1) for i in range(5)})
    with pytest.raises(FileStoreError, match="connection reset"):
        upload(source, FailingAfter(tmp_path / "dest", allowed=2))
    target = LocalFileStore(tmp_path / "dest")
    # Two files landed whole; the third's partial copy is hidden and is not a landing file.
    assert [f.path for f in target.list_files() if not Path(f.path).name.startswith(".")] == ["f/0.csv", "f/1.csv"]
    resumed = upload(source, target)
    assert (resumed.copied, resumed.present) == (3, 2)
    for i in range(5):
        assert (tmp_path / f"dest/f/{i}.csv").read_text() == f"{i}\n" * (i + 1)


def test_download_copies_the_chosen_arrival_dates_whole_files_only(tmp_path: Path) -> None:
    source = landing(
        tmp_path / "remote",
        {"2025-01-01/a.jsonl": "1\n", "2025-01-02/b.jsonl": "2\n", "2025-01-02/.c.jsonl.uploading": "3"},
    )
    assert download(source, tmp_path / "local", {"2025-01-02"}) == 1
    assert [p.relative_to(tmp_path / "local").as_posix() for p in (tmp_path / "local").rglob("*.jsonl")] == [
        "2025-01-02/b.jsonl"
    ]
    assert download(source, tmp_path / "all") == 2
