"""The Databricks Asset Bundle: the YAML loads, every job's settings are valid Jobs API settings (they
round-trip through databricks-sdk's JobSettings unchanged), and every task runs a real `lakehouse`
command of the built wheel with the configuration the wheel carries."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from databricks.sdk.service.jobs import JobSettings

from tests.deploy.bundle_files import REPO_ROOT, bundle_root, included_files, jobs_for

TARGETS = ("dev", "prod")
# Every task reads its secrets from the Key Vault-backed secret scope.
SECRETS = ["--set", "secrets.backend=databricks", "--set", "secrets.scope=retail-lakehouse"]

# Run inside a subprocess with the installed wheel ahead of site-packages: the command's --help through the
# wheel's own entry point, and the names the task uses checked against the wheel's configuration.
_CHECK_TASK = """
import contextlib, io, json, sys
import retail_lakehouse
from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.cli import build_parser, main
from retail_lakehouse.config import load_config
from retail_lakehouse.config.loader import NO_JOBS
arguments, wheel = json.loads(sys.argv[1]), sys.argv[2]
assert retail_lakehouse.__file__.startswith(wheel), retail_lakehouse.__file__
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main([*arguments, "--help"])
    except SystemExit as exit:
        assert exit.code == 0, exit.code
parsed = build_parser().parse_args(arguments)
config = load_config(
    transforms=catalogue(), env=parsed.env, set_overrides=parsed.overrides, secrets_for=NO_JOBS
).config
assert (config.secrets.backend, config.secrets.scope) == ("databricks", "retail-lakehouse"), config.secrets
if parsed.command == "pipeline":
    assert parsed.name in config.pipelines, parsed.name
    selected = config.pipelines[parsed.name].maintain or config.job_names_of(parsed.name, parsed.layer)
    assert selected, ("no job", parsed.name, parsed.layer)
if parsed.command == "stream":
    assert config.jobs[parsed.name].kind == "stream", parsed.name
print(json.dumps({"command": parsed.command, "env": parsed.env, "help": out.getvalue().splitlines()[0]}))
"""


def test_bundle_yaml_loads_with_both_targets_the_wheel_and_four_jobs() -> None:
    root = bundle_root()
    assert root["bundle"]["name"] == "retail-lakehouse"
    assert set(root["targets"]) == set(TARGETS)
    assert root["targets"]["dev"]["mode"] == "development"
    assert root["targets"]["prod"]["mode"] == "production"
    (artifact,) = root["artifacts"].values()
    assert artifact["type"] == "whl"
    assert [path.name for path in included_files()] == [
        "analytics.job.yml",
        "daily.job.yml",
        "inventory_stream.job.yml",
        "maintenance.job.yml",
    ]
    for target in TARGETS:
        assert sorted(jobs_for(target)) == ["analytics", "daily", "inventory_stream", "maintenance"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_job_is_valid_jobs_api_settings(target: str) -> None:
    for name, job in jobs_for(target).items():
        settings = JobSettings.from_dict(job)
        # Anything the SDK does not know (a misspelt key, a wrong nesting) would be lost in the round trip.
        assert settings.as_dict() == job, name
        assert settings.name == f"retail-lakehouse-{name.replace('_', '-')}-{target}"
        assert settings.max_concurrent_runs == 1


@pytest.mark.parametrize("target", TARGETS)
def test_daily_runs_a_task_per_layer_in_order_on_an_autoscaling_spark_4_cluster(target: str) -> None:
    daily = JobSettings.from_dict(jobs_for(target)["daily"])
    assert daily.schedule is not None and daily.schedule.quartz_cron_expression == "0 0 2 * * ?"
    assert [(task.task_key, [d.task_key for d in task.depends_on or []]) for task in daily.tasks or []] == [
        ("bronze", []),
        ("silver", ["bronze"]),
        ("gold", ["silver"]),
    ]
    for task in daily.tasks or []:
        assert task.python_wheel_task is not None
        assert task.python_wheel_task.parameters == [
            "pipeline",
            "daily",
            "--layer",
            task.task_key,
            "--env",
            target,
            *SECRETS,
        ]
    (cluster,) = daily.job_clusters or []
    assert cluster.new_cluster.spark_version == "17.3.x-scala2.13"  # Spark 4.0
    assert cluster.new_cluster.autoscale is not None
    expected = {"dev": (1, 2), "prod": (2, 8)}[target]
    assert (cluster.new_cluster.autoscale.min_workers, cluster.new_cluster.autoscale.max_workers) == expected
    assert daily.schedule.pause_status.value == ("UNPAUSED" if target == "prod" else "PAUSED")


def test_inventory_stream_is_continuous_and_maintenance_and_analytics_are_scheduled() -> None:
    jobs = {name: JobSettings.from_dict(job) for name, job in jobs_for("prod").items()}
    stream = jobs["inventory_stream"]
    assert stream.continuous is not None and stream.schedule is None
    assert stream.continuous.pause_status.value == "UNPAUSED"
    (task,) = stream.tasks or []
    assert task.python_wheel_task.parameters == ["stream", "inventory", "--trigger", "5", "--env", "prod", *SECRETS]
    assert jobs["maintenance"].schedule is not None and jobs["analytics"].schedule is not None
    assert [task.python_wheel_task.parameters[:2] for task in jobs["analytics"].tasks or []] == [
        ["pipeline", "analytics"],
        ["pipeline", "forecast"],
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    # As the bundle's artifact builds it.
    build = bundle_root()["artifacts"]["retail_lakehouse"]["build"].split()
    assert build[:2] == ["python", "-m"]
    subprocess.run([sys.executable, *build[1:-3], "--wheel-dir", str(folder), str(REPO_ROOT)], check=True)
    (built,) = folder.glob("retail_lakehouse-*.whl")
    return built


@pytest.fixture(scope="module")
def installed_wheel(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed as a Databricks cluster library is (its dependencies are this venv's)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    return target


def test_every_task_runs_a_real_lakehouse_command_of_the_built_wheel(
    wheel: Path, installed_wheel: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        assert "lakehouse = retail_lakehouse.cli:main" in archive.read(entry_points).decode()
        assert "retail_lakehouse/_conf/base/jobs.yaml" in archive.namelist()
    checked = []
    for target in TARGETS:
        for name, job in jobs_for(target).items():
            for task in job["tasks"]:
                wheel_task = task["python_wheel_task"]
                assert (wheel_task["package_name"], wheel_task["entry_point"]) == ("retail_lakehouse", "lakehouse")
                assert task["libraries"] == [{"whl": "../dist/*.whl"}]
                completed = subprocess.run(
                    [sys.executable, "-c", _CHECK_TASK, json.dumps(wheel_task["parameters"]), str(installed_wheel)],
                    capture_output=True,
                    text=True,
                    cwd=tmp_path,  # no ./conf here: the wheel's configuration is used, as on Databricks
                    env={"PYTHONPATH": str(installed_wheel), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                    timeout=120,
                )
                assert completed.returncode == 0, (name, task["task_key"], completed.stderr[-3000:])
                result = json.loads(completed.stdout.splitlines()[-1])
                assert result["env"] == target
                assert result["help"].startswith(f"usage: lakehouse {result['command']}")
                checked.append((target, name, task["task_key"]))
    assert len(checked) == 2 * 7
