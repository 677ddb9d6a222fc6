"""ACLs per area and role from `access.roles`: the exact changes, and the same changes applied to a local
disk through setfacl (POSIX ACLs, the syntax ADLS Gen2 takes), read back with getfacl."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LakehouseConfig, load_config
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.core.errors import ConfigError
from retail_lakehouse.io.file_stores import LocalFileStore
from retail_lakehouse.ops.access_lists import AclChange, acl_changes, apply_acl_changes
from tests.conftest import REPO_ROOT

# Groups every Debian system has, standing in for the Entra ID groups' object ids.
ENGINEERS, ANALYSTS = "users", "nogroup"


def config(tmp_path: Path, *overrides: str) -> LakehouseConfig:
    settings = [f"storage.root={tmp_path / 'lakehouse'}", f"storage.landing={tmp_path / 'landing'}", *overrides]
    return load_config(
        transforms=catalogue(), conf_dir=REPO_ROOT / "conf", set_overrides=settings, secrets_for=NO_JOBS
    ).config


def with_principals(tmp_path: Path) -> LakehouseConfig:
    return config(
        tmp_path, f"access.roles.engineers.principal={ENGINEERS}", f"access.roles.analysts.principal={ANALYSTS}"
    )


def test_the_default_roles_give_engineers_every_area_and_analysts_gold_to_read(tmp_path: Path) -> None:
    e, a = f"group:{ENGINEERS}", f"group:{ANALYSTS}"
    assert acl_changes(with_principals(tmp_path)) == [
        AclChange("landing", "", f"{e}:--x", recursive=False),
        AclChange("lakehouse", "", f"{e}:--x,{a}:--x", recursive=False),
        AclChange("lakehouse", "_checkpoints", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("lakehouse", "_ops", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("lakehouse", "bronze", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("lakehouse", "gold", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("landing", "", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("lakehouse", "silver", f"{e}:rwx,default:{e}:rwx", recursive=True),
        AclChange("lakehouse", "gold", f"{a}:r-x,default:{a}:r-x", recursive=True),
    ]


def test_a_role_without_principal_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"access.roles.engineers.principal is not set"):
        acl_changes(config(tmp_path))


def test_an_unknown_area_is_refused_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"access.roles.analysts.areas.*unknown area platinum"):
        config(tmp_path, "access.roles.analysts.areas={platinum: read}")


def test_applied_on_a_local_disk_the_acls_read_back_per_folder(tmp_path: Path) -> None:
    """Needs setfacl and getfacl (`make acl` installs Debian's acl package, as `make test` does)."""
    for folder in ("lakehouse/gold/sales_daily", "lakehouse/silver/customers", "landing/pos/2025-01-01"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "lakehouse/gold/sales_daily/part-0.parquet").write_bytes(b"x")
    stores = {"landing": LocalFileStore(tmp_path / "landing"), "lakehouse": LocalFileStore(tmp_path / "lakehouse")}
    apply_acl_changes(acl_changes(with_principals(tmp_path)), stores)  # type: ignore[arg-type]
    lakehouse = stores["lakehouse"]

    def entries(path: str) -> set[str]:
        return set(lakehouse.access_control(path).split(","))

    # Gold, and what was already in it: engineers write, analysts read; new files inherit both.
    for path in ("gold", "gold/sales_daily"):
        assert {f"group:{ENGINEERS}:rwx", f"group:{ANALYSTS}:r-x"} <= entries(path), path
        assert {f"default:group:{ENGINEERS}:rwx", f"default:group:{ANALYSTS}:r-x"} <= entries(path), path
    assert "group:nogroup:r-x" in lakehouse.access_control("gold/sales_daily/part-0.parquet").split(",")
    # Silver: engineers only; the analysts may traverse the root but find no entry in silver.
    assert f"group:{ENGINEERS}:rwx" in entries("silver/customers")
    assert not any(ANALYSTS in entry for entry in entries("silver/customers"))
    assert f"group:{ANALYSTS}:--x" in entries("")
    # The landing zone: engineers write, including the folders already there.
    landing = set(stores["landing"].access_control("pos/2025-01-01").split(","))
    assert f"group:{ENGINEERS}:rwx" in landing and not any(ANALYSTS in entry for entry in landing)
