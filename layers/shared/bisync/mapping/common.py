"""What every object's mapping shares: canonical forms and their hash, idempotency keys,
money, dimensions from line metadata, and the error a mapping raises."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bisync.settings import AccountMappings, TenantSettings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Line metadata a Blixo user sets to route a line in Intacct.
GL_ACCOUNT_KEY = "intacct.glAccount"
DIMENSION_KEYS = {
    "locationid": "intacct.location",
    "departmentid": "intacct.department",
    "classid": "intacct.class",
    "projectid": "intacct.project",
}
# Metadata the integration writes on the Blixo objects it creates (echo recognition).
SOURCE_KEY = "intacct.source"
RECORDNO_KEY = "intacct.recordNo"
SOURCE_INTACCT = "intacct"
_INTACCT_ID = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_CONTROLID = 100


class MappingError(ValueError):
    """A record that cannot be expressed on the other side (a business error of that object)."""


def cents(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def canonical_hash(form: Mapping[str, Any]) -> str:
    """Stable digest of a canonical form (sorted keys, decimals and dates as text)."""
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def controlid(tenant_id: str, object_type: str, object_id: str, action: str, version: str = "") -> str:
    """The function controlid of a write: the same (tenant, object, action, version) always
    gives the same id, so a retry is refused by Intacct as already done."""
    if len(version) > 16:
        # The whole version counts (a Blixo updatedAt and a digest): a prefix could repeat.
        version = hashlib.sha256(version.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    raw = f"{tenant_id}:{object_type}:{object_id}:{action}" + (f":{version}" if version else "")
    if len(raw) <= _MAX_CONTROLID and raw.isascii():
        return raw
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{tenant_id[:40]}:{object_type[:12]}:{action[:12]}:{digest}"


def idempotency_key(tenant_id: str, object_type: str, object_id: str, action: str, version: str = "") -> str:
    """A Blixo Idempotency-Key (6-64 printable characters) derived the same way."""
    raw = f"{tenant_id}:{object_type}:{object_id}:{action}:{version}"
    return "bi-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:48]


def intacct_id(value: str, limit: int = 20) -> str:
    """A business id Intacct accepts (CUSTOMERID is at most 20 characters): kept when it fits,
    else a stable digest so two different ids never collide."""
    if len(value) <= limit and not _INTACCT_ID.search(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return "B" + digest[: limit - 1].upper()


@dataclass(frozen=True)
class Dimensions:
    locationid: str | None = None
    departmentid: str | None = None
    classid: str | None = None
    projectid: str | None = None


def default_dimensions(settings: TenantSettings) -> Dimensions:
    accounts = settings.accounts
    return Dimensions(
        locationid=accounts.location_id or settings.entity_id,
        departmentid=accounts.department_id,
        classid=accounts.class_id,
    )


def line_routing(metadata: Mapping[str, str], default_gl: str, dims: Dimensions) -> tuple[str, Dimensions]:
    """The GL account and dimensions of one line: its metadata wins over the defaults."""
    gl = (metadata.get(GL_ACCOUNT_KEY) or "").strip() or default_gl
    values = {
        field: (metadata.get(key) or "").strip() or getattr(dims, field)
        for field, key in DIMENSION_KEYS.items()
    }
    return gl, Dimensions(**values)


def transaction_currency(settings: TenantSettings, currency: str | None) -> str | None:
    """The currency to name on a write: None in the base currency (Intacct's default)."""
    if not currency or currency.upper() == settings.base_currency:
        return None
    return currency.upper()


def is_echo(metadata: Mapping[str, str]) -> bool:
    """A Blixo object the pull wrote (its webhook is an echo, never pushed back)."""
    return metadata.get(SOURCE_KEY) == SOURCE_INTACCT


def not_before(day: date, floor: date | None) -> date:
    return max(day, floor) if floor else day


__all__ = [
    "CENT",
    "ZERO",
    "AccountMappings",
    "Dimensions",
    "MappingError",
    "canonical_hash",
    "cents",
    "controlid",
    "default_dimensions",
    "idempotency_key",
    "intacct_id",
    "is_echo",
    "line_routing",
    "transaction_currency",
]
