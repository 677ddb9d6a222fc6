"""What `lakehouse generate` is asked for: size, period, seed and the share of dirty records."""

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
    dirty_rate: float = 0.002

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"--scale must be above 0, got {self.scale}")
        if self.days < 1:
            raise ValueError(f"--days must be at least 1, got {self.days}")
        if not 0 <= self.dirty_rate < 0.5:
            raise ValueError(f"--dirty-rate must be at least 0 and below 0.5, got {self.dirty_rate}")

    @property
    def end_date(self) -> dt.date:
        """The last day generated (inclusive)."""
        return self.start_date + dt.timedelta(days=self.days - 1)

    def dates(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=i) for i in range(self.days)]
