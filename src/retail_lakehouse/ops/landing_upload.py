"""`lakehouse upload SRC DEST`: copies the landing files DEST does not have yet. A file already there with
the same name and size (and, with `checksum`, the same MD5) is skipped; one with the same name but other
content is a conflict - landed files are immutable, bronze ingests each path once - and stops the upload
before anything is copied, unless `overwrite`. Each file is written under a hidden name and renamed into
place, so an interrupted upload leaves no partial file and a rerun copies what is still missing."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from retail_lakehouse.config.models import IN_PROGRESS_ENDINGS
from retail_lakehouse.core.errors import LandingConflictError
from retail_lakehouse.io.file_stores import FileStore, StoredFile, is_in_progress

# Conflicts named in the error (the count says how many there are).
CONFLICTS_SHOWN = 5


@dataclass(frozen=True)
class UploadPlan:
    to_copy: list[StoredFile] = field(default_factory=list)
    present: list[StoredFile] = field(default_factory=list)
    conflicts: list[tuple[StoredFile, str]] = field(default_factory=list)


@dataclass(frozen=True)
class UploadOutcome:
    copied: int
    bytes_copied: int
    present: int
    overwritten: int
    seconds: float


def _complete(stored: StoredFile) -> bool:
    """Files still being written (ours, or another tool's in-progress names) are not landing files yet."""
    return not is_in_progress(stored.path) and not stored.path.endswith(IN_PROGRESS_ENDINGS)


def plan_upload(source: FileStore, target: FileStore, *, checksum: bool) -> UploadPlan:
    there = {stored.path: stored for stored in target.list_files() if _complete(stored)}
    plan = UploadPlan()
    for stored in source.list_files():
        if not _complete(stored):
            continue
        existing = there.get(stored.path)
        if existing is None:
            plan.to_copy.append(stored)
        elif existing.size != stored.size:
            plan.conflicts.append((stored, f"{existing.size:,} bytes there, {stored.size:,} here"))
        elif checksum and target.md5(stored.path) != source.md5(stored.path):
            plan.conflicts.append((stored, "same size, other content (MD5)"))
        else:
            plan.present.append(stored)
    return plan


def upload(source: FileStore, target: FileStore, *, checksum: bool = False, overwrite: bool = False) -> UploadOutcome:
    started = time.monotonic()
    plan = plan_upload(source, target, checksum=checksum)
    if plan.conflicts and not overwrite:
        shown = "; ".join(f"{stored.path} ({why})" for stored, why in plan.conflicts[:CONFLICTS_SHOWN])
        raise LandingConflictError(
            f"{len(plan.conflicts)} file(s) already in {target.location} with other content: {shown}. Landed "
            "files are immutable (bronze ingests each path once): land the new content under a new name, or "
            "pass --overwrite to replace them; nothing was copied"
        )
    copying = plan.to_copy + [stored for stored, _ in plan.conflicts]
    for stored in copying:
        target.write_atomically(stored.path, source.read_bytes(stored.path))
    return UploadOutcome(
        copied=len(copying),
        bytes_copied=sum(stored.size for stored in copying),
        present=len(plan.present),
        overwritten=len(plan.conflicts),
        seconds=time.monotonic() - started,
    )


def download(source: FileStore, target: Path, folders: Collection[str] = ()) -> int:
    """Copies the complete files of `source` (only those under the top-level `folders`, when given) into
    the local folder `target`; returns how many. Replay reads a remote feed's arrival-date folders so."""
    copied = 0
    for stored in source.list_files():
        if _complete(stored) and (not folders or stored.path.split("/", 1)[0] in folders):
            local = target / stored.path
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(source.read_bytes(stored.path))
            copied += 1
    return copied
