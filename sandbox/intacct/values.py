"""Errors and value conversions shared by the sandbox modules."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sandbox.intacct.catalog import field_type


@dataclass
class ErrorDetail:
    errorno: str
    description2: str
    description: str = ""
    correction: str = ""


@dataclass
class IntacctError(Exception):
    """A function-level failure: one or more <error> elements, culprit first."""

    errors: list[ErrorDetail] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{e.errorno}: {e.description2}" for e in self.errors)


def fail(
    errorno: str, description2: str, *chain: str, description: str = "", correction: str = ""
) -> IntacctError:
    """Build an error; `chain` adds the follow-up BL01001973 lines ("Could not create ...")."""
    errs = [ErrorDetail(errorno, description2, description, correction)]
    errs.extend(ErrorDetail("BL01001973", text) for text in chain)
    return IntacctError(errs)


def field_error(obj: str, name: str) -> IntacctError:
    return fail(
        "DL02000001",
        f"{name} is not a valid field for {obj}",
        description="Invalid field name",
        correction="Use the lookup function to list the fields of the object.",
    )


def support_id() -> str:
    """An opaque, percent-encoded token like the one real Intacct appends to description2.

    The raw token (base64 with a `~` after ten characters) is encoded as a whole, so every `%`
    starts a complete escape (no `%2%7E` from splitting one)."""
    raw = base64.b64encode(os.urandom(18)).decode()
    raw = f"{raw[:10]}~{raw[10:]}"
    return "".join(c if c.isascii() and c.isalnum() else f"%{ord(c):02X}" for c in raw)


def now_ts() -> str:
    """Internal timestamp form (sortable); rendered as MM/DD/YYYY HH:MM:SS."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


# re.ASCII: \d would also match '١٢' and fullwidth digits, which int() then reads as 12.
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_US_TS = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$", re.ASCII)
# Integers (keys, page sizes, offsets, line numbers): ASCII digits, and few enough to fit SQLite's
# 64-bit integers (str.isdigit() passes '²', which int() refuses, and '١٢', which it reads as 12).
_INT_RE = re.compile(r"[0-9]{1,18}")
# Numbers: ASCII digits (Decimal() also takes '١٢' and '1_000'), an optional exponent.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?")
# Amounts up to 10^15 and down to 10^-15; beyond, Decimal arithmetic overflows or quantize fails.
_MAX_EXPONENT = 15


def is_int(text: str) -> bool:
    """An ASCII integer that int() and SQLite both take."""
    return _INT_RE.fullmatch(text) is not None


def parse_us_date(text: str) -> str | None:
    """mm/dd/yyyy -> internal yyyy-mm-dd; None when the text is not a valid US date (ISO included)."""
    m = _US_DATE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))).isoformat()
    except ValueError:
        return None


def parse_us_timestamp(text: str) -> str | None:
    """mm/dd/yyyy [HH:MM[:SS]] -> internal 'yyyy-mm-dd HH:MM:SS'."""
    text = text.strip()
    d = parse_us_date(text)
    if d is not None:
        return f"{d} 00:00:00"
    m = _US_TS.match(text)
    if not m:
        return None
    try:
        value = dt.datetime(
            int(m.group(3)),
            int(m.group(1)),
            int(m.group(2)),
            int(m.group(4)),
            int(m.group(5)),
            int(m.group(6) or 0),
        )
    except ValueError:
        return None
    return value.strftime("%Y-%m-%d %H:%M:%S")


def parse_decimal(text: str) -> Decimal | None:
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value:
        return Decimal(0)
    # adjusted() needs no context: comparing 1e999999 by value would raise Overflow.
    if not -_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT:
        return None
    return value


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt_number(value: Decimal) -> str:
    """Intacct prints amounts without trailing zeros (50, 2.51, -35)."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def render(obj: str, name: str, value: str) -> str:
    """Internal value -> the text the gateway shows."""
    if not value:
        return ""
    kind = field_type(obj, name)
    if obj == "ARPAYMENT":
        # The legacy payment object answers in ISO form (2021-09-01, 2021-08-26T16:46:42Z).
        if kind == "timestamp" and len(value) == 19:
            return f"{value[:10]}T{value[11:]}Z"
        return value
    if kind == "date" and len(value) == 10 and value[4] == "-":
        return f"{value[5:7]}/{value[8:10]}/{value[0:4]}"
    if kind == "timestamp" and len(value) == 19 and value[4] == "-":
        return f"{value[5:7]}/{value[8:10]}/{value[0:4]} {value[11:]}"
    return value


def coerce_input(obj: str, name: str, text: str) -> str:
    """Request value -> internal value, refusing bad dates (DL02000001) and bad numbers."""
    text = text.strip()
    if not text:
        return ""
    kind = field_type(obj, name)
    if kind == "date":
        parsed = parse_us_date(text)
        if parsed is None:
            raise fail(
                "DL02000001",
                f"Invalid date format for {name}: {text}. Use mm/dd/yyyy.",
                description="Invalid date",
            )
        return parsed
    if kind == "timestamp":
        ts = parse_us_timestamp(text)
        if ts is None:
            raise fail(
                "DL02000001",
                f"Invalid date format for {name}: {text}. Use mm/dd/yyyy hh:mm:ss.",
                description="Invalid date",
            )
        return ts
    if kind == "number":
        num = parse_decimal(text)
        if num is None:
            raise fail("DL02000001", f"Invalid number for {name}: {text}", description="Invalid number")
        return fmt_number(num)
    return text
