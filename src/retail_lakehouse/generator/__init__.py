"""Synthetic retail source feeds for the landing zone, deterministic for a seed, with a manifest."""
