"""POSIX ACLs per area and role from configuration (`access.roles`), applied by `lakehouse acl apply` to
ADLS Gen2 (or a local disk, through setfacl). Each role gets, on each area it is given:

- read: r-x, write: rwx, as an access entry and as a default entry (files created later inherit it),
  on the area's folder and everything already below it;
- execute (--x) on the root of the lakehouse or landing zone and the folders above it, to reach the area.

Areas a role is not given get no entry for it: with `other::---` on the root, it sees nothing there."""

from __future__ import annotations

from dataclasses import dataclass

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.core.errors import ConfigError
from retail_lakehouse.io.file_stores import FileStore

PERMISSIONS = {"read": "r-x", "write": "rwx"}
LANDING = "landing"


@dataclass(frozen=True)
class AclChange:
    root: str  # "landing" or "lakehouse": which store
    path: str  # relative to that root ('' for the root itself)
    acl: str
    recursive: bool

    def describe(self) -> str:
        where = f"{self.root}/{self.path}" if self.path else f"{self.root} (and the folders above it)"
        return f"{where}: {self.acl}{' (recursive)' if self.recursive else ''}"


def acl_changes(config: LakehouseConfig) -> list[AclChange]:
    """Every change `acl apply` makes, in order: traversal first, then each area."""
    missing = [name for name, role in config.access.roles.items() if role.areas and not role.principal]
    if missing:
        raise ConfigError(
            f"access.roles.{missing[0]}.principal is not set: the object id of the role's Entra ID group "
            "(on a local disk, a group name); set it in conf/<env>/lakehouse.yaml"
        )
    traverse: dict[str, list[str]] = {LANDING: [], "lakehouse": []}
    areas: list[AclChange] = []
    for role in config.access.roles.values():
        for area, level in sorted(role.areas.items()):
            root, path = (LANDING, "") if area == LANDING else ("lakehouse", area)
            entry = f"group:{role.principal}:{PERMISSIONS[level]}"
            areas.append(AclChange(root, path, f"{entry},default:{entry}", recursive=True))
            if f"group:{role.principal}:--x" not in traverse[root]:
                traverse[root].append(f"group:{role.principal}:--x")
    roots = [AclChange(root, "", ",".join(entries), recursive=False) for root, entries in traverse.items() if entries]
    return roots + areas


def apply_acl_changes(changes: list[AclChange], stores: dict[str, FileStore]) -> None:
    for change in changes:
        store = stores[change.root]
        if change.path == "" and not change.recursive:
            store.allow_traverse(change.acl)
        else:
            store.update_access_control(change.path, change.acl, recursive=change.recursive)
