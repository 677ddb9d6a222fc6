"""Folders of files on a local disk or in ADLS Gen2 behind one interface: list, read, write atomically,
and POSIX access control lists. `lakehouse upload`, `lakehouse acl apply` and an abfss:// landing zone for
`generate` and `replay` use it; the local store runs the same logic on this machine (its ACLs through
setfacl, in ADLS's ACL syntax, which is POSIX's)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from retail_lakehouse.core.errors import LakehouseError


class FileStoreError(LakehouseError):
    """A store that cannot be reached, read or written: names the location."""


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the store's root, '/'-separated
    size: int


def md5_of(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def in_progress_name(path: str) -> str:
    """Where a file is written before it is renamed into place: a hidden name in the same folder, which
    Spark's file sources and bronze's listing skip, so no reader ever sees half a file."""
    folder, _, name = path.rpartition("/")
    return f"{folder}/.{name}.uploading" if folder else f".{name}.uploading"


def is_in_progress(path: str) -> bool:
    name = path.rpartition("/")[2]
    return name.startswith(".") and name.endswith(".uploading")


class FileStore(Protocol):
    location: str  # for messages: the root's path or URI

    def list_files(self, prefix: str = "") -> list[StoredFile]:
        """Every file under `prefix` (recursive), in path order."""
        ...

    def read_bytes(self, path: str) -> bytes: ...

    def is_file(self, path: str) -> bool: ...

    def md5(self, path: str) -> bytes | None:
        """The file's content MD5 (None when the store keeps none)."""
        ...

    def write_atomically(self, path: str, data: bytes) -> None:
        """Writes under an in-progress name, then renames into place (a rerun after a failure starts over)."""
        ...

    def update_access_control(self, path: str, acl: str, *, recursive: bool) -> None:
        """Adds or changes the ACL entries in `acl` ('[default:]user|group:ID:rwx,...'), keeping the others;
        `path` '' is the root; `recursive` applies it to everything below too."""
        ...

    def allow_traverse(self, acl: str) -> None:
        """Adds `acl` (execute entries) to the root and the folders above it inside the store's container,
        so that a role given a folder below can reach it."""
        ...

    def access_control(self, path: str) -> str:
        """The path's ACL, entries comma-separated."""
        ...


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path(self, path: str) -> Path:
        return self.root / path if path else self.root

    def list_files(self, prefix: str = "") -> list[StoredFile]:
        base = self._path(prefix)
        if base.is_file():
            return [StoredFile(prefix, base.stat().st_size)]
        if not base.is_dir():
            return []
        return sorted(
            (
                StoredFile(file.relative_to(self.root).as_posix(), file.stat().st_size)
                for file in base.rglob("*")
                if file.is_file()
            ),
            key=lambda stored: stored.path,
        )

    def read_bytes(self, path: str) -> bytes:
        try:
            return self._path(path).read_bytes()
        except OSError as exc:
            raise FileStoreError(f"cannot read {self._path(path)}: {exc.strerror}") from None

    def is_file(self, path: str) -> bool:
        return self._path(path).is_file()

    def md5(self, path: str) -> bytes | None:
        return md5_of(self.read_bytes(path))

    def write_atomically(self, path: str, data: bytes) -> None:
        target = self._path(path)
        partial = self._path(in_progress_name(path))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            partial.replace(target)
        except OSError as exc:
            raise FileStoreError(f"cannot write {target}: {exc.strerror}") from None

    def update_access_control(self, path: str, acl: str, *, recursive: bool) -> None:
        self._path(path).mkdir(parents=True, exist_ok=True)
        self._setfacl([*(["-R"] if recursive else []), "-m", acl, str(self._path(path))])

    def allow_traverse(self, acl: str) -> None:
        # The root itself: folders above it belong to the machine, not to the lakehouse.
        self.update_access_control("", acl, recursive=False)

    def access_control(self, path: str) -> str:
        listed = self._run(["getfacl", "--omit-header", "--absolute-names", str(self._path(path))])
        return ",".join(line for line in listed.splitlines() if line)

    def _setfacl(self, arguments: list[str]) -> None:
        self._run(["setfacl", *arguments])

    @staticmethod
    def _run(command: list[str]) -> str:
        if shutil.which(command[0]) is None:
            raise FileStoreError(f"{command[0]} is not installed (Debian: apt-get install acl)")
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise FileStoreError(f"{' '.join(command[:-1])} failed: {completed.stderr.strip()}")
        return completed.stdout
