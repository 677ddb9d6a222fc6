"""ADLS Gen2 through azure-storage-file-datalake, credentials by DefaultAzureCredential (a managed
identity, `az login`, or AZURE_CLIENT_ID/SECRET/TENANT_ID). Never run against Azure from this repository:
tests/unit/io/test_adls_store.py drives it with a stand-in for the SDK's clients (docs/operations.md)."""

from __future__ import annotations

import re
from typing import Any

from retail_lakehouse.io.file_stores import FileStoreError, StoredFile, in_progress_name, md5_of

_ABFSS = re.compile(r"abfss://(?P<container>[^@/]+)@(?P<account>[^/]+?)(?:/(?P<prefix>.*))?$")


def parse_abfss(uri: str) -> tuple[str, str, str]:
    """(account host, container, folder) of abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/FOLDER."""
    match = _ABFSS.match(uri)
    if not match:
        raise FileStoreError(f"{uri} is not an abfss:// URI (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH)")
    return match["account"], match["container"], (match["prefix"] or "").strip("/")


def merged_acl(existing: str, changes: str) -> str:
    """`existing` with each entry of `changes` added or replacing the entry of the same scope, type and id
    (what setfacl -m does; ADLS's set_access_control replaces the whole list)."""

    def key(entry: str) -> str:
        return entry.rsplit(":", 1)[0]

    entries = {key(entry): entry for entry in existing.split(",") if entry}
    entries.update({key(entry): entry for entry in changes.split(",") if entry})
    return ",".join(entries.values())


class AdlsFileStore:
    def __init__(self, file_system: Any, prefix: str, location: str) -> None:
        self.file_system = file_system  # azure.storage.filedatalake.FileSystemClient
        self.prefix = prefix
        self.location = location

    @classmethod
    def from_uri(cls, uri: str, credential: Any | None = None) -> AdlsFileStore:
        from azure.storage.filedatalake import DataLakeServiceClient

        account, container, prefix = parse_abfss(uri)
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        service = DataLakeServiceClient(account_url=f"https://{account}", credential=credential)
        return cls(service.get_file_system_client(container), prefix, uri)

    def _full(self, path: str) -> str:
        return "/".join(part for part in (self.prefix, path) if part)

    def _relative(self, full: str) -> str:
        return full[len(self.prefix) + 1 :] if self.prefix else full

    def list_files(self, prefix: str = "") -> list[StoredFile]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            paths = list(self.file_system.get_paths(path=self._full(prefix) or None, recursive=True))
        except ResourceNotFoundError:
            return []
        except Exception as exc:  # the SDK's HTTP and authentication errors
            raise FileStoreError(f"cannot list {self.location}/{prefix}: {type(exc).__name__}: {exc}") from None
        files = [StoredFile(self._relative(p.name), int(p.content_length or 0)) for p in paths if not p.is_directory]
        return sorted(files, key=lambda stored: stored.path)

    def read_bytes(self, path: str) -> bytes:
        try:
            return bytes(self.file_system.get_file_client(self._full(path)).download_file().readall())
        except Exception as exc:
            raise FileStoreError(f"cannot read {self.location}/{path}: {type(exc).__name__}: {exc}") from None

    def is_file(self, path: str) -> bool:
        try:
            return bool(self.file_system.get_file_client(self._full(path)).exists())
        except Exception as exc:
            raise FileStoreError(f"cannot reach {self.location}/{path}: {type(exc).__name__}: {exc}") from None

    def md5(self, path: str) -> bytes | None:
        settings = self.file_system.get_file_client(self._full(path)).get_file_properties().content_settings
        return bytes(settings.content_md5) if settings.content_md5 else None

    def write_atomically(self, path: str, data: bytes) -> None:
        from azure.storage.filedatalake import ContentSettings

        partial = self.file_system.get_file_client(self._full(in_progress_name(path)))
        try:
            # The MD5 is stored with the file: `upload --checksum` compares against it without a download.
            partial.upload_data(data, overwrite=True, content_settings=ContentSettings(content_md5=md5_of(data)))
            partial.rename_file(f"{self.file_system.file_system_name}/{self._full(path)}")
        except Exception as exc:
            raise FileStoreError(f"cannot write {self.location}/{path}: {type(exc).__name__}: {exc}") from None

    def _directory(self, full: str) -> Any:
        return self.file_system.get_directory_client(full or "/")

    def update_access_control(self, path: str, acl: str, *, recursive: bool) -> None:
        self._update(self._full(path), acl, recursive=recursive)

    def allow_traverse(self, acl: str) -> None:
        """The container's root and every folder down to the prefix, the prefix included."""
        parts = self.prefix.split("/") if self.prefix else []
        for full in ["", *("/".join(parts[: depth + 1]) for depth in range(len(parts)))]:
            self._update(full, acl, recursive=False)

    def _update(self, full: str, acl: str, *, recursive: bool) -> None:
        directory = self._directory(full)
        shown = f"{self.location} (container path /{full})"
        try:
            if full and not directory.exists():
                directory.create_directory()
            if recursive:
                result = directory.update_access_control_recursive(acl=acl)
                failed = result.counters.failure_count
                if failed:
                    raise FileStoreError(f"{failed} paths under {shown} kept their ACL")
            else:
                existing = directory.get_access_control()["acl"]
                directory.set_access_control(acl=merged_acl(existing, acl))
        except FileStoreError:
            raise
        except Exception as exc:
            raise FileStoreError(f"cannot set the ACL of {shown}: {type(exc).__name__}: {exc}") from None

    def access_control(self, path: str) -> str:
        return str(self._directory(self._full(path)).get_access_control()["acl"])
