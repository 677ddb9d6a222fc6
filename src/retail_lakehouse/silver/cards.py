"""Payment cards: a keyed token instead of the number, the last four digits and the brand."""

from __future__ import annotations

import hashlib
import hmac
from typing import cast

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import StringType


def card_digits(card_number: Column) -> Column:
    digits = F.regexp_replace(card_number, r"[^0-9]", "")
    return F.when(F.length(digits) > 0, digits)


def card_token(digits: Column, key: bytes) -> Column:
    """HMAC-SHA256 of the digits under `key`: the same card always gets the same token (so cards can be
    counted and followed), and without the key the token cannot be turned back into a number."""

    def tokens(numbers: pd.Series) -> pd.Series:
        return numbers.map(
            lambda number: None if pd.isna(number) else hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
        )

    token = pandas_udf(tokens, StringType())  # type: ignore[call-overload]
    return cast(Column, token(digits))


def card_last4(digits: Column) -> Column:
    return F.when(F.length(digits) >= 4, F.substring(digits, -4, 4))


def card_brand(digits: Column) -> Column:
    two = F.substring(digits, 1, 2).try_cast("int")
    four = F.substring(digits, 1, 4).try_cast("int")
    return (
        F.when(digits.isNull(), None)
        .when(digits.startswith("4"), "visa")
        .when(two.between(51, 55) | four.between(2221, 2720), "mastercard")
        .when(two.isin(34, 37), "amex")
        .when(digits.startswith("6011") | digits.startswith("65"), "discover")
        .otherwise("other")
    )
