"""Configuration: YAML layers under conf/, secret references, typed models, validation."""

from retail_lakehouse.config.loader import LoadedConfig, load_config
from retail_lakehouse.config.models import LakehouseConfig

__all__ = ["LakehouseConfig", "LoadedConfig", "load_config"]
