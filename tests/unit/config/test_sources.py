from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.config.sources import default_conf_dir, load_layers, parse_set_override, read_layer
from retail_lakehouse.core.errors import ConfigError
from tests.conftest import REPO_ROOT
from tests.helpers import write_conf


def test_overlay_merges_deeply_and_records_the_file_of_each_key(tmp_path: Path) -> None:
    write_conf(
        tmp_path,
        base={"lakehouse": {"spark": {"master": "local[2]", "shuffle_partitions": 4}, "storage": {"root": "/a"}}},
        local={"lakehouse": {"spark": {"shuffle_partitions": 8}}},
    )
    tree = load_layers(tmp_path, "local", [], environ={})
    assert tree.values["spark"] == {"master": "local[2]", "shuffle_partitions": 8}
    assert tree.origin_of(("spark", "shuffle_partitions")) == "conf/local/lakehouse.yaml"
    assert tree.origin_of(("spark", "master")) == "conf/base/lakehouse.yaml"
    # A key nobody set is attributed to the file that holds its section.
    assert tree.origin_of(("spark", "no_such_key")) == "conf/base/lakehouse.yaml"


def test_environment_variables_then_set_overrides_win_in_that_order(tmp_path: Path) -> None:
    write_conf(tmp_path, base={"lakehouse": {"storage": {"root": "/base", "landing": "/base-landing"}}})
    tree = load_layers(
        tmp_path,
        "local",
        ["storage.root=/from-set", "spark.shuffle_partitions=16"],
        environ={"LAKEHOUSE_ROOT": "/from-env", "LAKEHOUSE_LANDING": "/landing-env"},
    )
    assert tree.values["storage"] == {"root": "/from-set", "landing": "/landing-env"}
    assert tree.values["spark"] == {"shuffle_partitions": 16}
    assert tree.origin_of(("storage", "landing")) == "environment variable LAKEHOUSE_LANDING"
    assert tree.origin_of(("storage", "root")) == "--set storage.root"


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("spark.shuffle_partitions=8", ("spark", "shuffle_partitions"), 8),
        ("spark.ui_enabled=true", ("spark", "ui_enabled"), True),
        ("storage.root=abfss://c@a.dfs.core.windows.net/x", ("storage", "root"), "abfss://c@a.dfs.core.windows.net/x"),
        ("pipelines.daily.jobs=[a, b]", ("pipelines", "daily", "jobs"), ["a", "b"]),
        ("logging.level=", ("logging", "level"), ""),
    ],
)
def test_set_override_values_are_read_as_yaml(text: str, path: tuple[str, ...], value: object) -> None:
    assert parse_set_override(text) == (path, value)


@pytest.mark.parametrize("text", ["no-equals-sign", "=value", "a..b=1"])
def test_malformed_set_override_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="expected --set KEY=VALUE"):
        parse_set_override(text)


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "jobs.yaml").write_text("jobs:\n  a: [1, 2\n  b: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        read_layer(tmp_path / "base", "conf/base")
    assert str(error.value).startswith("conf/base/jobs.yaml: line 3, column")


def test_a_section_defined_in_two_files_of_one_layer_is_an_error(tmp_path: Path) -> None:
    write_conf(tmp_path, base={"a": {"jobs": {}}, "b": {"jobs": {}}})
    with pytest.raises(ConfigError, match=r"top-level key 'jobs' is also defined in conf/base/a\.yaml"):
        read_layer(tmp_path / "base", "conf/base")


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    write_conf(tmp_path, base={"lakehouse": {}})
    (tmp_path / "dev").mkdir()
    with pytest.raises(ConfigError, match=r"unknown environment 'qa'.*\(environments: dev, local\)"):
        load_layers(tmp_path, "qa", [], environ={})


def test_set_below_a_scalar_is_an_error(tmp_path: Path) -> None:
    write_conf(tmp_path, base={"lakehouse": {"storage": {"root": "/x"}}})
    with pytest.raises(ConfigError, match="cannot set a key below 'root'"):
        load_layers(tmp_path, "local", ["storage.root.deeper=1"], environ={})


def test_conf_dir_from_variable_then_working_directory_then_package(tmp_path: Path) -> None:
    assert default_conf_dir({"LAKEHOUSE_CONF_DIR": "/etc/lakehouse"}, tmp_path) == Path("/etc/lakehouse")
    assert default_conf_dir({}, tmp_path) == REPO_ROOT / "conf"  # editable install: the repository's conf/
    (tmp_path / "conf" / "base").mkdir(parents=True)
    assert default_conf_dir({}, tmp_path) == tmp_path / "conf"


def test_anchor_sections_are_shared_and_then_dropped(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "jobs.yaml").write_text(
        "x-common: &common {transform: bronze.ingest, write: {mode: append}}\n"
        "jobs:\n  a: {<<: *common, output: bronze/a}\n",
        encoding="utf-8",
    )
    ((name, mapping),) = read_layer(tmp_path / "base", "conf/base")
    assert name == "conf/base/jobs.yaml"
    assert mapping == {"jobs": {"a": {"transform": "bronze.ingest", "write": {"mode": "append"}, "output": "bronze/a"}}}
