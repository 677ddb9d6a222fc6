"""`lakehouse upload`, `lakehouse acl show` and a remote (abfss://) landing zone for `generate`, run
in-process. The abfss:// store is a local folder behind the same FileStore interface (ADLS itself cannot
be reached from here; tests/unit/io/test_adls_store.py covers the ADLS client calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse import commands
from retail_lakehouse.io.file_stores import FileStore, LocalFileStore
from tests.unit.test_cli import CONF, run_cli

REMOTE = "abfss://landing@acct.dfs.core.windows.net/retail"


def test_upload_copies_new_files_then_nothing(tmp_path: Path) -> None:
    (tmp_path / "src/pos/2025-01-01").mkdir(parents=True)
    (tmp_path / "src/pos/2025-01-01/a.jsonl").write_text("{}\n" * 500)
    destination = tmp_path / "dest"
    code, out, err = run_cli("upload", str(tmp_path / "src"), str(destination), "--conf-dir", str(CONF))
    assert (code, err) == (0, "")
    assert out.startswith(f"{destination}: 1 files copied (0.0 MB), 0 already there, in ")
    code, out, _ = run_cli("upload", str(tmp_path / "src"), str(destination), "--checksum", "--conf-dir", str(CONF))
    assert code == 0 and ": 0 files copied (0.0 MB), 1 already there" in out
    (tmp_path / "src/pos/2025-01-01/a.jsonl").write_text("{}\n")
    code, out, err = run_cli("upload", str(tmp_path / "src"), str(destination), "--conf-dir", str(CONF))
    assert (code, out) == (2, "")
    assert err.startswith(f"lakehouse: error: 1 file(s) already in {destination} with other content: ")


def test_upload_names_a_source_that_is_not_a_folder(tmp_path: Path) -> None:
    code, _, err = run_cli("upload", str(tmp_path / "nothing"), str(tmp_path / "dest"), "--conf-dir", str(CONF))
    assert (code, err) == (2, f"lakehouse: error: upload: {tmp_path / 'nothing'} is not a folder\n")


def test_acl_show_prints_the_changes_and_names_a_missing_principal() -> None:
    code, _, err = run_cli("acl", "show", "--conf-dir", str(CONF))
    assert code == 2 and "access.roles.engineers.principal is not set" in err
    code, out, _ = run_cli(
        "acl", "show", "--conf-dir", str(CONF),
        "--set", "access.roles.engineers.principal=e1", "--set", "access.roles.analysts.principal=a1",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[:2] == [
        "landing (and the folders above it): group:e1:--x",
        "lakehouse (and the folders above it): group:e1:--x,group:a1:--x",
    ]
    assert out.splitlines()[-1] == "lakehouse/gold: group:a1:r-x,default:group:a1:r-x (recursive)"


@pytest.fixture
def remote_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "remote"

    def store_for(location: str) -> FileStore:
        return LocalFileStore(folder) if location == REMOTE else LocalFileStore(Path(location))

    monkeypatch.setattr(commands, "store_for", store_for)
    return folder


def test_generate_to_a_remote_landing_zone_uploads_every_file_once(remote_folder: Path, tmp_path: Path) -> None:
    argv = ("generate", "--scale", "0.01", "--days", "2", "--conf-dir", str(CONF), "--set", f"storage.landing={REMOTE}")
    code, out, err = run_cli(*argv)
    assert (code, err) == (0, "")
    local = tmp_path / "local"
    assert run_cli(*argv[:-1], f"storage.landing={local}")[0] == 0
    # The remote landing zone holds exactly what a local generate writes.
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert sorted(p.relative_to(remote_folder).as_posix() for p in remote_folder.rglob("*") if p.is_file()) == files
    # The manifest is written last, apart from the delivery's files.
    assert out.splitlines()[0] == f"uploaded {len(files) - 1} files (0 already there)"
    assert out.splitlines()[-1] == f"manifest: {REMOTE}/_manifest.json"
    assert (remote_folder / "_manifest.json").read_bytes() == (local / "_manifest.json").read_bytes()
    # The same delivery again copies nothing.
    assert run_cli(*argv)[1].splitlines()[0] == f"uploaded 0 files ({len(files) - 1} already there)"


def test_a_later_generate_continues_the_remote_data_set(remote_folder: Path, tmp_path: Path) -> None:
    """Two days, then a third from its start date: the remote landing zone ends as a local one does."""
    common = ("--scale", "0.01", "--conf-dir", str(CONF), "--set")
    local = tmp_path / "local"
    for landing in (REMOTE, str(local)):
        assert run_cli("generate", "--days", "2", *common, f"storage.landing={landing}")[0] == 0
        later = run_cli("generate", "--days", "1", "--start-date", "2025-01-03", *common, f"storage.landing={landing}")
        assert later[0] == 0, later[2]
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert sorted(p.relative_to(remote_folder).as_posix() for p in remote_folder.rglob("*") if p.is_file()) == files
    assert any("/2025-01-03/" in name for name in files)
    for name in files:
        assert (remote_folder / name).read_bytes() == (local / name).read_bytes(), name
