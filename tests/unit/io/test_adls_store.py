"""AdlsFileStore against an in-memory stand-in for azure-storage-file-datalake's clients (a mock of the
Azure endpoint: ADLS cannot be reached from here). It checks what the store asks of the SDK: paths under
the prefix, upload under a hidden name then rename, the MD5 kept with the file, ACLs merged or recursive."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from retail_lakehouse.io.adls_store import AdlsFileStore, merged_acl, parse_abfss
from retail_lakehouse.io.file_stores import FileStoreError, LocalFileStore
from retail_lakehouse.ops.landing_upload import upload

BASE_ACL = "user::rwx,group::r-x,other::---"


@dataclass
class FakeFileSystem:
    file_system_name: str = "landing"
    files: dict[str, tuple[bytes, bytes | None]] = field(default_factory=dict)
    acls: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def get_paths(self, path: str | None = None, recursive: bool = True) -> list[Any]:
        prefix = f"{path}/" if path else ""
        return [
            SimpleNamespace(name=name, content_length=len(data), is_directory=False)
            for name, (data, _) in self.files.items()
            if name.startswith(prefix)
        ]

    def get_file_client(self, path: str) -> FakeFile:
        return FakeFile(self, path)

    def get_directory_client(self, path: str) -> FakeDirectory:
        return FakeDirectory(self, path)


@dataclass
class FakeFile:
    fs: FakeFileSystem
    path: str

    def upload_data(self, data: bytes, overwrite: bool = False, content_settings: Any = None) -> None:
        assert overwrite
        self.fs.calls.append(("upload", self.path))
        self.fs.files[self.path] = (data, bytes(content_settings.content_md5))

    def rename_file(self, new_name: str) -> None:
        container, _, target = new_name.partition("/")
        assert container == self.fs.file_system_name
        self.fs.calls.append(("rename", target))
        self.fs.files[target] = self.fs.files.pop(self.path)

    def download_file(self) -> Any:
        return SimpleNamespace(readall=lambda: self.fs.files[self.path][0])

    def exists(self) -> bool:
        return self.path in self.fs.files

    def get_file_properties(self) -> Any:
        return SimpleNamespace(content_settings=SimpleNamespace(content_md5=self.fs.files[self.path][1]))


@dataclass
class FakeDirectory:
    fs: FakeFileSystem
    path: str

    def exists(self) -> bool:
        return self.path in self.fs.acls

    def create_directory(self) -> None:
        self.fs.acls[self.path] = BASE_ACL

    def get_access_control(self) -> dict[str, str]:
        return {"acl": self.fs.acls.setdefault(self.path, BASE_ACL)}

    def set_access_control(self, acl: str) -> None:
        self.fs.calls.append(("set_acl", self.path))
        self.fs.acls[self.path] = acl

    def update_access_control_recursive(self, acl: str) -> Any:
        self.fs.calls.append(("update_acl_recursive", self.path))
        self.fs.acls[self.path] = merged_acl(self.fs.acls.get(self.path, BASE_ACL), acl)
        return SimpleNamespace(counters=SimpleNamespace(failure_count=0))


def test_abfss_uris_are_parsed_and_others_refused() -> None:
    assert parse_abfss("abfss://landing@acct.dfs.core.windows.net/retail/pos") == (
        "acct.dfs.core.windows.net",
        "landing",
        "retail/pos",
    )
    assert parse_abfss("abfss://lakehouse@acct.dfs.core.windows.net") == ("acct.dfs.core.windows.net", "lakehouse", "")
    with pytest.raises(FileStoreError, match="is not an abfss:// URI"):
        parse_abfss("abfss://acct.dfs.core.windows.net/x")


def test_merging_an_acl_replaces_the_same_entry_and_keeps_the_others() -> None:
    assert merged_acl(BASE_ACL + ",group:g1:--x", "group:g1:r-x,default:group:g1:r-x") == (
        "user::rwx,group::r-x,other::---,group:g1:r-x,default:group:g1:r-x"
    )


def test_upload_to_adls_writes_under_a_hidden_name_renames_and_keeps_the_md5(tmp_path: Any) -> None:
    (tmp_path / "pos/2025-01-01").mkdir(parents=True)
    (tmp_path / "pos/2025-01-01/a.jsonl").write_text("{}\n")
    fs = FakeFileSystem(files={"retail/old.csv": (b"1\n", None)})
    store = AdlsFileStore(fs, "retail", "abfss://landing@acct.dfs.core.windows.net/retail")
    done = upload(LocalFileStore(tmp_path), store)
    assert done.copied == 1 and done.present == 0
    assert fs.calls == [
        ("upload", "retail/pos/2025-01-01/.a.jsonl.uploading"),
        ("rename", "retail/pos/2025-01-01/a.jsonl"),
    ]
    assert [f.path for f in store.list_files()] == ["old.csv", "pos/2025-01-01/a.jsonl"]
    assert store.read_bytes("pos/2025-01-01/a.jsonl") == b"{}\n"
    assert store.is_file("pos/2025-01-01/a.jsonl") and not store.is_file("pos/2025-01-01/.a.jsonl.uploading")
    assert store.md5("pos/2025-01-01/a.jsonl") == LocalFileStore(tmp_path).md5("pos/2025-01-01/a.jsonl")
    assert upload(LocalFileStore(tmp_path), store, checksum=True).present == 1


def test_acls_traverse_from_the_container_root_and_apply_recursively_below() -> None:
    fs = FakeFileSystem(file_system_name="lakehouse")
    store = AdlsFileStore(fs, "retail/v1", "abfss://lakehouse@acct.dfs.core.windows.net/retail/v1")
    store.allow_traverse("group:g1:--x")
    store.update_access_control("gold", "group:g1:r-x,default:group:g1:r-x", recursive=True)
    assert fs.calls == [
        ("set_acl", "/"),
        ("set_acl", "retail"),
        ("set_acl", "retail/v1"),
        ("update_acl_recursive", "retail/v1/gold"),
    ]
    assert fs.acls["retail"] == BASE_ACL + ",group:g1:--x"
    assert fs.acls["retail/v1/gold"] == BASE_ACL + ",group:g1:r-x,default:group:g1:r-x"
