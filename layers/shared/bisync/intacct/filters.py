"""A small builder for the `query` filter grammar.

    F.and_(F.eq("STATUS", "active"), F.gte("WHENMODIFIED", since)).to_payload()

Values are converted to the formats Intacct accepts (mm/dd/yyyy dates, Decimal as text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bisync.intacct.xml import Payload, to_text

CompareOp = Literal[
    "equalto",
    "notequalto",
    "lessthan",
    "lessthanorequalto",
    "greaterthan",
    "greaterthanorequalto",
    "like",
    "notlike",
]


class Filter:
    def to_payload(self) -> Payload:  # pragma: no cover - abstract
        raise NotImplementedError

    def __and__(self, other: Filter) -> Filter:
        return And((self, other))

    def __or__(self, other: Filter) -> Filter:
        return Or((self, other))


@dataclass(frozen=True)
class Compare(Filter):
    op: CompareOp
    field: str
    value: Any

    def to_payload(self) -> Payload:
        return {self.op: {"field": self.field, "value": to_text(self.value)}}


@dataclass(frozen=True)
class Between(Filter):
    field: str
    low: Any
    high: Any

    def to_payload(self) -> Payload:
        return {"between": {"field": self.field, "value": [to_text(self.low), to_text(self.high)]}}


@dataclass(frozen=True)
class In(Filter):
    field: str
    values: tuple[Any, ...]
    negate: bool = False

    def to_payload(self) -> Payload:
        if not self.values:
            raise ValueError("in/notin needs at least one value")
        return {
            "notin" if self.negate else "in": {
                "field": self.field,
                "value": [to_text(v) for v in self.values],
            }
        }


@dataclass(frozen=True)
class Null(Filter):
    field: str
    negate: bool = False

    def to_payload(self) -> Payload:
        return {"isnotnull" if self.negate else "isnull": {"field": self.field}}


def _group(op: str, parts: tuple[Filter, ...]) -> Payload:
    if len(parts) < 2:
        raise ValueError(f"{op} needs at least two filters")
    # Siblings of the same operator become a list under one key (xmltodict writes them as
    # repeated elements); order between different operators does not matter to and/or.
    body: dict[str, Any] = {}
    for part in parts:
        for key, value in part.to_payload().items():
            if key in body:
                existing = body[key]
                body[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                body[key] = value
    return {op: body}


@dataclass(frozen=True)
class And(Filter):
    parts: tuple[Filter, ...]

    def to_payload(self) -> Payload:
        return _group("and", self.parts)


@dataclass(frozen=True)
class Or(Filter):
    parts: tuple[Filter, ...]

    def to_payload(self) -> Payload:
        return _group("or", self.parts)


class F:
    """Short constructors: F.eq, F.ne, F.lt, F.lte, F.gt, F.gte, F.between, F.in_, F.not_in,
    F.like, F.not_like, F.is_null, F.is_not_null, F.and_, F.or_."""

    @staticmethod
    def eq(field: str, value: Any) -> Filter:
        return Compare("equalto", field, value)

    @staticmethod
    def ne(field: str, value: Any) -> Filter:
        return Compare("notequalto", field, value)

    @staticmethod
    def lt(field: str, value: Any) -> Filter:
        return Compare("lessthan", field, value)

    @staticmethod
    def lte(field: str, value: Any) -> Filter:
        return Compare("lessthanorequalto", field, value)

    @staticmethod
    def gt(field: str, value: Any) -> Filter:
        return Compare("greaterthan", field, value)

    @staticmethod
    def gte(field: str, value: Any) -> Filter:
        return Compare("greaterthanorequalto", field, value)

    @staticmethod
    def like(field: str, pattern: str) -> Filter:
        return Compare("like", field, pattern)

    @staticmethod
    def not_like(field: str, pattern: str) -> Filter:
        return Compare("notlike", field, pattern)

    @staticmethod
    def between(field: str, low: Any, high: Any) -> Filter:
        return Between(field, low, high)

    @staticmethod
    def in_(field: str, values: Iterable[Any]) -> Filter:
        return In(field, tuple(values))

    @staticmethod
    def not_in(field: str, values: Iterable[Any]) -> Filter:
        return In(field, tuple(values), negate=True)

    @staticmethod
    def is_null(field: str) -> Filter:
        return Null(field)

    @staticmethod
    def is_not_null(field: str) -> Filter:
        return Null(field, negate=True)

    @staticmethod
    def and_(*parts: Filter) -> Filter:
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    @staticmethod
    def or_(*parts: Filter) -> Filter:
        return parts[0] if len(parts) == 1 else Or(tuple(parts))
