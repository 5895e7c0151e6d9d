"""Field validators: each raises a 400 naming the offending `param`."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.blixo.core import JsonObj, bad, money

# Fields a client may echo back from a GET; they are never taken from the request.
ECHO_IGNORED = frozenset({"id", "createdAt", "updatedAt"})
MAX_AMOUNT = Decimal("1000000000000")
MIN_EXPONENT = 30
METADATA_MAX_KEYS = 20
METADATA_MAX_KEY = 40
METADATA_MAX_VALUE = 255

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A numeric string: ASCII digits only (Decimal() also takes '١٢', fullwidth digits and '1_000').
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")


def obj(value: Any, param: str) -> JsonObj:
    if not isinstance(value, dict):
        raise bad(f"{param} must be an object", param)
    return value


def check_keys(body: JsonObj, allowed: set[str] | frozenset[str], prefix: str = "") -> None:
    for key in body:
        if key in ECHO_IGNORED and not prefix:
            continue
        if key not in allowed:
            raise bad(f"Unknown field: {prefix}{key}", f"{prefix}{key}")


def string(value: Any, param: str, *, max_len: int = 255, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise bad(f"{param} must be a string", param)
    if "\x00" in value:
        raise bad(f"{param} must not contain NUL characters", param)
    if not allow_empty and not value.strip():
        raise bad(f"{param} must not be empty", param)
    if len(value) > max_len:
        raise bad(f"{param} must be at most {max_len} characters", param)
    return value


def opt_string(value: Any, param: str, *, max_len: int = 255) -> str | None:
    if value is None:
        return None
    return string(value, param, max_len=max_len, allow_empty=True)


def decimal(value: Any, param: str) -> Decimal:
    """A JSON number or a numeric string (pydantic sends Decimals as strings)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise bad(f"{param} must be a number", param)
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in _NOT_FINITE:
            raise bad(f"{param} must be a finite number", param)
        if not _NUMBER_RE.fullmatch(text):
            raise bad(f"{param} must be a number (ASCII digits)", param)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise bad(f"{param} must be a number", param) from None
    if not number.is_finite():
        raise bad(f"{param} must be a finite number", param)
    # adjusted() needs no arithmetic context; abs(Decimal("1e999999999")) raises Overflow (a 500).
    if number and number.adjusted() >= MAX_AMOUNT.adjusted():
        raise bad(f"{param} is too large", param)
    if number and number.adjusted() < -MIN_EXPONENT:
        # Far below a cent: read as 0 so exponents such as 1e-999999999 stay out of arithmetic.
        return Decimal(0)
    return number


def places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


FLOAT_NOISE = Decimal("1e-9")


def snap(number: Decimal, digits: int) -> Decimal:
    """Undo binary float noise (0.1 + 0.2 = 0.30000000000000004): a value within 1e-9 of
    `digits` places is that value. Anything further off is left alone, so a genuinely more
    precise input (1.005) still fails the places check instead of being rounded silently."""
    if places(number) <= digits:
        return number
    rounded = number.quantize(Decimal(1).scaleb(-digits))
    return rounded if abs(number - rounded) < FLOAT_NOISE else number


def amount(value: Any, param: str, *, positive: bool = False, allow_negative: bool = False) -> Decimal:
    number = snap(decimal(value, param), 2)
    if places(number) > 2:
        raise bad(f"{param} must have at most 2 decimal places", param)
    if positive and number <= 0:
        raise bad(f"{param} must be greater than 0", param)
    if not allow_negative and number < 0:
        raise bad(f"{param} must not be negative", param)
    return money(number)


def date_str(value: Any, param: str) -> str:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise bad(f"{param} must be a date YYYY-MM-DD", param)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise bad(f"{param} is not a valid date", param) from None
    return value


def currency(value: Any, param: str = "currency") -> str:
    if not isinstance(value, str) or not _CURRENCY_RE.match(value):
        raise bad(f"{param} must be a 3-letter ISO currency code", param)
    return value.upper()


def email(value: Any, param: str = "email") -> str | None:
    if value is None:
        return None
    text = string(value, param)
    if not _EMAIL_RE.match(text):
        raise bad(f"{param} is not a valid email address", param)
    return text


def choice(value: Any, param: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise bad(f"{param} must be one of: {', '.join(options)}", param)
    return str(value)


def metadata(value: Any, existing: dict[str, str] | None = None, param: str = "metadata") -> dict[str, str]:
    """Merge `value` into `existing` (a null or empty value removes a key) and check the limits."""
    if value is None:
        return dict(existing or {})
    if not isinstance(value, dict):
        raise bad("metadata must be an object of string keys and string values", param)
    merged = dict(existing or {})
    for key, val in value.items():
        if not key or len(key) > METADATA_MAX_KEY:
            raise bad(f"metadata keys must be 1-{METADATA_MAX_KEY} characters: {key[:60]!r}", param)
        if val is None or val == "":
            merged.pop(key, None)
            continue
        if not isinstance(val, str):
            raise bad(f"metadata values must be strings (key {key!r})", param)
        if len(val) > METADATA_MAX_VALUE:
            raise bad(f"metadata values must be at most {METADATA_MAX_VALUE} characters (key {key!r})", param)
        if "\x00" in val or "\x00" in key:
            raise bad("metadata must not contain NUL characters", param)
        merged[key] = val
    if len(merged) > METADATA_MAX_KEYS:
        raise bad(f"metadata may hold at most {METADATA_MAX_KEYS} keys", param)
    return merged
