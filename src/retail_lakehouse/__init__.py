"""Retail lakehouse: config-driven PySpark + Delta Lake jobs from raw retail feeds to gold tables."""

__version__ = "0.1.0"
