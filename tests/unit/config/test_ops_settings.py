"""Operations settings are validated with the rest: each mistake is one line naming file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.core.errors import ConfigError
from tests.helpers import minimal_base, write_conf


def load(tmp_path: Path, change: Any) -> LoadedConfig:
    base = minimal_base(tmp_path / "lh", tmp_path / "landing")
    change(base)
    return load_config(transforms=catalogue(), conf_dir=write_conf(tmp_path / "conf", base), environ={})


def test_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, lambda base: None).config
    assert (config.ops.leases.expire_seconds, config.ops.leases.wait_seconds) == (300, 0)
    assert config.ops.maintenance.time_travel_hours == 168
    assert config.tables["bronze/stores"].maintenance.optimize is True
    assert config.ops.notifications == {}


def test_a_landing_retention_needs_a_feed_read_only_incrementally(tmp_path: Path) -> None:
    def whole_folder(base: dict[str, Any]) -> None:
        base["feeds"]["feeds"]["stores"]["landing_retention"] = {"after_days": 7}
        base["jobs"]["jobs"]["bronze_stores"]["incremental"] = False
        base["jobs"]["jobs"]["bronze_stores"]["write"] = {"mode": "overwrite"}

    with pytest.raises(ConfigError) as error:
        load(tmp_path, whole_folder)
    assert str(error.value) == (
        "conf/base/feeds.yaml: feeds.stores.landing_retention: landing_retention needs a feed read only "
        "incrementally (incremental: true, or a stream): job bronze_stores reads the whole folder each run"
    )


def test_a_pipeline_maintains_known_tables(tmp_path: Path) -> None:
    def unknown(base: dict[str, Any]) -> None:
        base["pipelines"]["pipelines"]["nightly"] = {"maintain": ["gold/nope"]}

    with pytest.raises(ConfigError) as error:
        load(tmp_path, unknown)
    assert str(error.value) == (
        "conf/base/pipelines.yaml: pipelines.nightly.maintain.0: unknown table 'gold/nope' to maintain (see tables)"
    )


def test_liquid_clustering_and_partitions_do_not_mix(tmp_path: Path) -> None:
    def clustered(base: dict[str, Any]) -> None:
        base["tables"]["tables"]["bronze/stores"]["maintenance"] = {"cluster_by": ["store_id"]}

    with pytest.raises(ConfigError) as error:
        load(tmp_path, clustered)
    assert "maintenance.cluster_by needs an unpartitioned table (partition_by is set)" in str(error.value)


def test_a_notification_sink_of_unknown_kind(tmp_path: Path) -> None:
    def pager(base: dict[str, Any]) -> None:
        base["lakehouse"]["ops"] = {"notifications": {"p": {"kind": "pager", "url": "x"}}}

    with pytest.raises(ConfigError) as error:
        load(tmp_path, pager)
    assert str(error.value) == (
        "conf/base/lakehouse.yaml: ops.notifications.p: Input tag 'pager' found using 'kind' does not match any "
        "of the expected tags: 'webhook', 'email', 'azure_monitor' (got {'kind': 'pager', 'url': 'x'})"
    )
