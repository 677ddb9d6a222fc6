"""What `lakehouse generate` is asked for: size, period and seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DEFAULT_START_DATE = dt.date(2025, 1, 1)


@dataclass(frozen=True)
class GeneratorOptions:
    scale: float = 1.0
    days: int = 90
    start_date: dt.date = DEFAULT_START_DATE
    seed: int = 42

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"--scale must be above 0, got {self.scale}")
        if self.days < 1:
            raise ValueError(f"--days must be at least 1, got {self.days}")

    @property
    def arrival_folder(self) -> str:
        """Feeds are delivered into one folder per arrival date."""
        return self.start_date.isoformat()
