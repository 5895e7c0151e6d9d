"""Blixo's wire contract: every *assumed* part of ../shared/docs/blixo-api.md lives here.

Only part of Blixo's API is public, so this module is the single place to correct when the
real API turns out to differ (a path, a field name, the list envelope, a limit, an event type,
the signature header). The client, the models and the webhook verifier read these names and
never spell a wire name themselves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote

from pydantic.alias_generators import to_camel

from bisync.endpoints import BLIXO_API_URL

# --- Known -----------------------------------------------------------------------------------
DEFAULT_BASE_URL: Final = BLIXO_API_URL
DATA_KEY: Final = "data"  # every response body is {"data": ...}
ERROR_MESSAGE_KEY: Final = "message"
PAGE_PARAM: Final = "page"  # pages count from 1
PER_PAGE_PARAM: Final = "perPage"
FIRST_PAGE: Final = 1

# --- Assumed: lists ---------------------------------------------------------------------------
UPDATED_AFTER_PARAM: Final = "updatedAfter"
MAX_PER_PAGE: Final = 100
TOTAL_KEY: Final = "total"  # informative only: paging stops at the first short page

# --- Assumed: errors, rate limits, idempotency ----------------------------------------------
ERROR_PARAM_KEY: Final = "param"
RETRY_AFTER_HEADER: Final = "Retry-After"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
# A 409 whose `param` is the header name means "same key still in flight" (retryable); a reuse
# of a key with a different body is refused as a validation error (a caller bug, not retried).
IDEMPOTENCY_KEY_MIN_LEN: Final = 6
IDEMPOTENCY_KEY_MAX_LEN: Final = 64
# Printable ASCII without spaces: safe in any HTTP header and in any server's key store.
_IDEMPOTENCY_KEY_RE: Final = re.compile(r"[\x21-\x7e]+")

# --- Assumed: metadata ------------------------------------------------------------------------
METADATA_MAX_KEYS: Final = 20
METADATA_MAX_KEY_LEN: Final = 40
METADATA_MAX_VALUE_LEN: Final = 255

# --- Assumed: money ---------------------------------------------------------------------------
MONEY_PLACES: Final = 2
MONEY_QUANTUM: Final = Decimal(1).scaleb(-MONEY_PLACES)  # Decimal("0.01")


class ResourceKind(StrEnum):
    CUSTOMER = "customer"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"


# Collection paths, relative to the base URL (no leading slash so urljoin keeps "/v1/").
RESOURCE_PATHS: Final[Mapping[ResourceKind, str]] = {
    ResourceKind.CUSTOMER: "customers",
    ResourceKind.INVOICE: "invoices",
    ResourceKind.CREDIT_NOTE: "credit-notes",
    ResourceKind.PAYMENT: "payments",
}
VOID_ACTION: Final = "void"  # POST /{collection}/{id}/void


def collection_path(kind: ResourceKind) -> str:
    return RESOURCE_PATHS[kind]


def object_path(kind: ResourceKind, object_id: str) -> str:
    return f"{RESOURCE_PATHS[kind]}/{_path_segment(object_id)}"


def void_path(kind: ResourceKind, object_id: str) -> str:
    return f"{object_path(kind, object_id)}/{VOID_ACTION}"


def _path_segment(object_id: str) -> str:
    # Ids are opaque: refuse what could address another path even once escaped (some servers
    # decode %2F), escape everything else.
    if object_id in {"", ".", ".."} or "/" in object_id or "\\" in object_id:
        raise ValueError(f"invalid Blixo id: {object_id!r}")
    return quote(object_id, safe="")


# --- Assumed: field names and enumerations ---------------------------------------------------
# Field names are camelCase versions of the models' snake_case names; a field Blixo spells
# differently goes here (python name -> wire name).
FIELD_NAME_OVERRIDES: Final[Mapping[str, str]] = {}


def wire_name(field_name: str) -> str:
    """The pydantic alias generator for every Blixo model."""
    return FIELD_NAME_OVERRIDES.get(field_name, to_camel(field_name))


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOIDED = "voided"


class CreditNoteStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    APPLIED = "applied"
    VOIDED = "voided"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    VOIDED = "voided"


class PaymentMethod(StrEnum):
    CHECK = "check"
    CASH = "cash"
    ACH = "ach"
    WIRE = "wire"
    CREDIT_CARD = "credit_card"
    OTHER = "other"


class AppliedToType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    CONVENIENCE_FEE = "convenience_fee"


APPLIED_TO_DISCRIMINATOR: Final = "type"


# --- Assumed: webhooks ------------------------------------------------------------------------
SIGNATURE_HEADER: Final = "X-Blixo-Signature"
SIGNATURE_DIGEST: Final[Callable[..., Any]] = hashlib.sha256
SIGNATURE_HEX_LEN: Final = 64
_SIGNATURE_RE: Final = re.compile(r"[0-9a-f]{64}")

EVENT_ID_KEY: Final = "id"
EVENT_TYPE_KEY: Final = "type"
EVENT_CREATED_AT_KEY: Final = "createdAt"
EVENT_DATA_KEY: Final = "data"
EVENT_OBJECT_KEY: Final = "object"
EVENT_PREVIOUS_KEY: Final = "previous"


class EventAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # a void arrives as *.updated with status "voided"
    DELETED = "deleted"


EVENT_TYPES: Final[Mapping[str, tuple[ResourceKind, EventAction]]] = {
    f"{kind.value}.{action.value}": (kind, action) for kind in ResourceKind for action in EventAction
}


def parse_signature_header(value: str) -> str | None:
    """The hex digest carried by the signature header, or None if it is not one.

    The contract says lowercase hex; case and surrounding whitespace are forgiven because
    they change nothing about what was signed.
    """
    candidate = value.strip().lower()
    return candidate if _SIGNATURE_RE.fullmatch(candidate) else None


# --- Helpers for the client and the models ---------------------------------------------------
def format_timestamp(moment: datetime) -> str:
    """An aware datetime as the ISO-8601 UTC string Blixo expects (``...Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps sent to Blixo must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def validate_idempotency_key(key: str) -> str:
    if not IDEMPOTENCY_KEY_MIN_LEN <= len(key) <= IDEMPOTENCY_KEY_MAX_LEN:
        raise ValueError(
            f"Idempotency-Key must be {IDEMPOTENCY_KEY_MIN_LEN}-{IDEMPOTENCY_KEY_MAX_LEN} characters, "
            f"got {len(key)}"
        )
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ValueError("Idempotency-Key must be printable ASCII without spaces")
    return key


def validate_metadata(metadata: Mapping[str, str]) -> Mapping[str, str]:
    if len(metadata) > METADATA_MAX_KEYS:
        raise ValueError(f"metadata holds at most {METADATA_MAX_KEYS} keys, got {len(metadata)}")
    for key, value in metadata.items():
        if not key or len(key) > METADATA_MAX_KEY_LEN:
            raise ValueError(f"metadata key {key!r} must be 1-{METADATA_MAX_KEY_LEN} characters")
        if len(value) > METADATA_MAX_VALUE_LEN:
            raise ValueError(f"metadata value for {key!r} exceeds {METADATA_MAX_VALUE_LEN} characters")
    return metadata
