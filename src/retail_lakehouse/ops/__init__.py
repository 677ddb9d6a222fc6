"""Operational records in the lakehouse's _ops folder: job runs and extraction watermarks."""
