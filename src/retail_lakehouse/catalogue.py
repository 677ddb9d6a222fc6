"""The catalogue: every transform configuration may name. The only module that imports the layers'
transforms: it imports every module of bronze/, silver/, gold/ and inventory/ and collects the functions
declared there with `@transform`; nothing in them imports it. The CLI passes the catalogue to
configuration loading, which checks jobs against it, and through the loaded configuration to the runner.

Adding a transform: declare it with `@transform` beside its function in a module of one of those
packages (see `core.contracts`), and name it in a job (`conf/base/jobs.yaml`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from retail_lakehouse.core.contracts import Catalogue, Transform, TransformSpec

LAYER_PACKAGES = (
    "retail_lakehouse.bronze",
    "retail_lakehouse.silver",
    "retail_lakehouse.gold",
    "retail_lakehouse.sql",
    "retail_lakehouse.inventory",
    "retail_lakehouse.forecast",
)


def declared_transforms() -> Iterator[TransformSpec]:
    """Every transform declared in the layer packages, in module order; each where it is defined (a module
    that imports another's transform does not list it again)."""
    for package_name in LAYER_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in sorted(pkgutil.walk_packages(package.__path__, f"{package_name}."), key=lambda m: m.name):
            module = importlib.import_module(module_info.name)
            for value in vars(module).values():
                if isinstance(value, Transform) and value.spec.function.__module__ == module.__name__:
                    yield value.spec


def catalogue(*extra: TransformSpec) -> Catalogue:
    """The built-in transforms by name, with `extra` ones (a test's, a deployment's own) added."""
    by_name: dict[str, TransformSpec] = {}
    for spec in [*declared_transforms(), *extra]:
        if spec.name in by_name:
            raise ValueError(f"two transforms are named {spec.name}")
        by_name[spec.name] = spec
    return by_name
