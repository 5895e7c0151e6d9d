"""What every gateway function builder shares: the Function, its Lookup, controlids, money."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from bisync.intacct.filters import F, Filter
from bisync.intacct.xml import FunctionCall, Payload

MAX_QUERY_PAGESIZE = 2000
MAX_READBYQUERY_PAGESIZE = 1000
MAX_READ_KEYS = 100
_CENT = Decimal("0.01")
# The rate a document in another currency than the base one is converted at, unless it says.
DEFAULT_RATE_TYPE = "Intacct Daily Rate"


@dataclass(frozen=True)
class Lookup:
    """How to find the record a write made: `object` where every field equals its value."""

    object: str
    equals: tuple[tuple[str, str], ...]
    # Values the record cannot have: a reversed payment (STATE V) keeps its reference, and so
    # does its Reversal, so neither is the one a re-post just made.
    excluding: tuple[tuple[str, str], ...] = ()

    def to_filter(self) -> Filter:
        parts = [F.eq(k, v) for k, v in self.equals] + [F.ne(k, v) for k, v in self.excluding]
        return F.and_(*parts)


@dataclass(frozen=True)
class Function:
    name: str
    controlid: str
    payload: Payload = field(default_factory=dict)
    is_write: bool = False
    lookup: Lookup | None = None

    def call(self) -> FunctionCall:
        return FunctionCall(self.name, self.controlid, self.payload)


def new_controlid() -> str:
    return str(uuid.uuid4())


def money(value: Decimal | int | str) -> Decimal:
    """Intacct rounds amounts to 2 decimals; round the same way before sending."""
    return Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def write(name: str, controlid: str, payload: Payload, lookup: Lookup | None = None) -> Function:
    if not controlid:
        raise ValueError("writes need the caller's deterministic controlid")
    return Function(name, controlid, payload, is_write=True, lookup=lookup)


class Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
