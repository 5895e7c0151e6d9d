"""Shared pieces of the Blixo sandbox: API errors, exact money in JSON, the sandbox clock."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
JsonObj = dict[str, Any]


class ApiError(Exception):
    """An error answered to the caller as `{"message": ..., "param": ...}`."""

    def __init__(
        self, status: int, message: str, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.headers = headers or {}

    def body(self) -> JsonObj:
        return {"message": self.message, "param": self.param}


def bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param)


def money(value: Decimal) -> Decimal:
    """Round half up to cents; never a negative zero (it would print as -0.00)."""
    q = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return q if q != 0 else Decimal("0.00")


# JSON: money must leave as exact decimal numbers (10.50, not 10.5 or "10.50"). The stdlib encoder
# cannot emit raw number text, so Decimals travel as a marked string and the marks are removed
# afterwards. Input strings can never carry the mark because validation rejects NUL characters.
_MARK_RE = re.compile(r'"\\u0000D(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def _prep(value: Any) -> Any:
    if isinstance(value, Decimal):
        return "\x00D" + format(value, "f") + "\x00"
    if isinstance(value, dict):
        return {k: _prep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_prep(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return _MARK_RE.sub(r"\1", json.dumps(_prep(value), separators=(",", ":")))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping fractional numbers exact (Decimal) and refusing NaN/Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)


# A request body nested deeper than this is a 400; the stdlib parser would recurse until a
# RecursionError (a 500) on 100k nested brackets. Real bodies nest 4 levels.
MAX_JSON_DEPTH = 64
# Integers longer than this are read as Decimal: int() refuses more than 4300 digits (a 500), and
# as a Decimal the field's own validator answers "too large" / "must be an integer" naming it.
MAX_INT_DIGITS = 30
# String literals (escaped quotes included) are skipped when counting brackets. The closing quote
# is optional so an unterminated string ends the scan instead of backtracking (linear time).
_JSON_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_JSON_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else Decimal(text)


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if brackets outside string literals nest deeper than `limit` (no recursion)."""
    brackets = _JSON_NOT_BRACKET_RE.sub("", _JSON_STRING_RE.sub("", text))
    depth = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads_request(raw: bytes) -> Any:
    """Parse a request body: a 400 (never a 500) for bad JSON, deep nesting or bad encoding."""
    encoding = json.detect_encoding(raw)
    try:
        # A BOM stays in the text, so it is refused as before ("Unexpected UTF-8 BOM").
        text = raw.decode("utf-8" if encoding == "utf-8-sig" else encoding)
    except UnicodeDecodeError:
        raise bad("The request body is not valid JSON") from None
    if json_depth_exceeds(text):
        raise bad(f"The request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise bad("The request body is not valid JSON") from None
    _refuse_surrogates(body, "")
    return body


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(value: Any, param: str) -> None:
    """A lone surrogate ("\\ud800" in JSON) is not text: SQLite and UTF-8 cannot take it.

    Recursion is bounded by MAX_JSON_DEPTH, checked before parsing."""
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            raise bad(
                f"{param or 'The request body'} must be valid Unicode (no lone surrogates)", param or None
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{param}.{key}" if param else key
            if _SURROGATE_RE.search(key):
                shown = key.encode("utf-8", "backslashreplace").decode()
                raise bad(f"Field names must be valid Unicode (no lone surrogates): {shown!r}", param or None)
            _refuse_surrogates(item, name)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _refuse_surrogates(item, f"{param}[{n}]")


def ts(moment: datetime) -> str:
    """The one timestamp format: ISO-8601 UTC with microseconds, so string order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str, param: str) -> datetime:
    try:
        # "+" arrives as " " from an unencoded query string; "z"/"t" are as valid as "Z"/"T".
        moment = datetime.fromisoformat(text.strip().replace(" ", "+").upper())
    except ValueError:
        raise bad(f"{param} must be an ISO-8601 timestamp, e.g. 2024-01-31T12:00:00Z", param) from None
    if moment.tzinfo is None:  # a naive timestamp is read as UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the last representable UTC moment
        raise bad(f"{param} is out of range", param) from None


class Clock:
    """Wall clock plus an adjustable offset (to test 24 h expiry); every reading is unique.

    Strictly increasing readings keep `updatedAfter` unambiguous: two writes never share an
    `updatedAt`. The clock therefore never goes back while data exists: a smaller offset is
    raised to the latest reading (from there it advances with real time). `reset` forgets the
    readings, because the data they stamped is gone, and returns to real time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._last_us = 0

    def now(self) -> datetime:
        with self._lock:
            us = int((time.time() + self._offset) * 1_000_000)
            us = max(us, self._last_us + 1)  # two readings in the same microsecond
            self._last_us = us
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)

    def epoch(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            # Never behind the last reading: moving back would stamp new writes before old ones.
            floor = self._last_us / 1_000_000 - time.time()
            self._offset = max(seconds, floor)

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._last_us = 0
