"""Independent random streams, one per purpose and day, so a day's data does not depend on how many days
were generated before it in the same call (generating 90 days, or 89 then 1, gives the same bytes)."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, day: int = -1) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), day + 1])
