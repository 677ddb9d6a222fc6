from __future__ import annotations

import pytest

from retail_lakehouse.generator.options import GeneratorOptions


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"scale": 0}, "--scale must be above 0"), ({"days": 0}, "--days must be at least 1")]
)
def test_invalid_options_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GeneratorOptions(**kwargs)  # type: ignore[arg-type]
