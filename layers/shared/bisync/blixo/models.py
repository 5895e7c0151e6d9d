"""Pydantic v2 models of Blixo's records and webhook events.

Read models (``Customer``, ``Invoice``, ...) tolerate fields Blixo may add (kept as extras);
write models (``CustomerWrite``, ...) forbid unknown fields so a typo in our own mapping fails
here rather than being silently dropped by Blixo. Wire names come from ``api.wire_name``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)

from bisync.blixo import api
from bisync.blixo.api import (
    AppliedToType,
    CreditNoteStatus,
    CustomerStatus,
    EventAction,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
    ResourceKind,
)

# Float has 15 safe significant digits: beyond that a money value cannot travel as a JSON
# number through the stdlib encoder without changing.
_MAX_JSON_DIGITS = 15


# Beyond any real amount, and far inside Decimal's 28-digit context (quantize would fail).
_MAX_MONEY_ADJUSTED_EXPONENT = 17  # |amount| < 10^18, exact with 2 places in 28 digits


def _to_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be a finite number")
    if value and value.adjusted() > _MAX_MONEY_ADJUSTED_EXPONENT:
        raise ValueError(f"money must be less than 10^{_MAX_MONEY_ADJUSTED_EXPONENT + 1} in magnitude")
    quantized = value.quantize(api.MONEY_QUANTUM)
    # Refuse rather than round: a silently rounded amount would put the two ledgers apart.
    if quantized != value:
        raise ValueError(f"money has at most {api.MONEY_PLACES} decimal places")
    return quantized


def _decimal_to_json(value: Decimal) -> float:
    # Blixo takes money as a JSON number. Converting through float is exact for up to 15
    # significant digits (repr(float) is the shortest round-trip form).
    if len(value.as_tuple().digits) > _MAX_JSON_DIGITS:
        raise ValueError(f"{value} has too many digits to send as a JSON number")
    return float(value)


Money = Annotated[
    Decimal,
    AfterValidator(_to_money),
    PlainSerializer(_decimal_to_json, return_type=float, when_used="json"),
]
"""A decimal amount in the document currency with exactly ``api.MONEY_PLACES`` places."""


def _to_quantity(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("quantities and prices must be finite numbers")
    if value and not -10 <= value.adjusted() <= _MAX_MONEY_ADJUSTED_EXPONENT:
        raise ValueError("quantity or price out of range")
    return value


Quantity = Annotated[
    Decimal,
    AfterValidator(_to_quantity),
    PlainSerializer(_decimal_to_json, return_type=float, when_used="json"),
]
"""Quantities and unit prices: decimal, not limited to two places."""


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    api.validate_metadata(value)
    return value


WritableMetadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]


class BlixoModel(BaseModel):
    """A record read from Blixo: unknown fields are kept, not rejected."""

    model_config = ConfigDict(
        alias_generator=api.wire_name,
        populate_by_name=True,
        extra="allow",
        frozen=True,
    )


class BlixoWriteModel(BaseModel):
    """A request body: only the fields that were set are sent (``exclude_unset``)."""

    model_config = ConfigDict(
        alias_generator=api.wire_name,
        populate_by_name=True,
        extra="forbid",
        validate_assignment=True,
    )

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# --- Customers -------------------------------------------------------------------------------
class Address(BlixoModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class AddressWrite(BlixoWriteModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Customer(BlixoModel):
    id: str
    customer_no: str | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    currency: str | None = None
    payment_terms: str | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class CustomerWrite(BlixoWriteModel):
    customer_no: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: AddressWrite | None = None
    currency: str | None = None
    payment_terms: str | None = None
    status: CustomerStatus | None = None
    metadata: WritableMetadata | None = None


# --- Invoices and credit notes ---------------------------------------------------------------
class LineItem(BlixoModel):
    name: str | None = None
    description: str | None = None
    quantity: Quantity = Decimal(1)
    unit_price: Quantity | None = None
    amount: Money | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class LineItemWrite(BlixoWriteModel):
    name: str | None = None
    description: str | None = None
    quantity: Quantity | None = None
    unit_price: Quantity | None = None
    amount: Money | None = None
    metadata: WritableMetadata | None = None


class Adjustment(BlixoModel):
    """A discount or tax on a document: a percentage ``rate`` or a fixed ``amount``."""

    name: str | None = None
    rate: Decimal | None = None
    amount: Money = Decimal("0.00")


class AdjustmentWrite(BlixoWriteModel):
    name: str | None = None
    rate: Quantity | None = None
    amount: Money | None = None


_ZERO = Decimal("0.00")


class Invoice(BlixoModel):
    id: str
    invoice_no: str | None = None
    customer_id: str
    currency: str
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    payment_terms: str | None = None
    purchase_order: str | None = None
    items: list[LineItem] = Field(default_factory=list)
    discounts: list[Adjustment] = Field(default_factory=list)
    taxes: list[Adjustment] = Field(default_factory=list)
    subtotal: Money = _ZERO
    tax_total: Money = _ZERO
    discount_total: Money = _ZERO
    total: Money
    amount_paid: Money = _ZERO
    amount_credited: Money = _ZERO
    balance: Money
    status: InvoiceStatus
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class InvoiceWrite(BlixoWriteModel):
    invoice_no: str | None = None
    customer_id: str | None = None
    currency: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    payment_terms: str | None = None
    purchase_order: str | None = None
    items: list[LineItemWrite] | None = None
    discounts: list[AdjustmentWrite] | None = None
    taxes: list[AdjustmentWrite] | None = None
    status: InvoiceStatus | None = None
    metadata: WritableMetadata | None = None


class CreditNote(BlixoModel):
    id: str
    credit_note_no: str | None = None
    customer_id: str
    invoice_id: str | None = None
    currency: str
    issue_date: dt.date | None = None
    items: list[LineItem] = Field(default_factory=list)
    discounts: list[Adjustment] = Field(default_factory=list)
    taxes: list[Adjustment] = Field(default_factory=list)
    subtotal: Money = _ZERO
    tax_total: Money = _ZERO
    discount_total: Money = _ZERO
    total: Money
    balance: Money
    status: CreditNoteStatus
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class CreditNoteWrite(BlixoWriteModel):
    credit_note_no: str | None = None
    customer_id: str | None = None
    invoice_id: str | None = None
    currency: str | None = None
    issue_date: dt.date | None = None
    items: list[LineItemWrite] | None = None
    discounts: list[AdjustmentWrite] | None = None
    taxes: list[AdjustmentWrite] | None = None
    status: CreditNoteStatus | None = None
    metadata: WritableMetadata | None = None


# --- Payments --------------------------------------------------------------------------------
class InvoiceApplication(BlixoModel):
    type: Literal[AppliedToType.INVOICE] = AppliedToType.INVOICE
    invoice_id: str
    amount: Money


class CreditNoteApplication(BlixoModel):
    type: Literal[AppliedToType.CREDIT_NOTE] = AppliedToType.CREDIT_NOTE
    credit_note_id: str
    invoice_id: str | None = None
    amount: Money


class ConvenienceFeeApplication(BlixoModel):
    """The part of a card payment that pays a convenience fee (not part of any invoice)."""

    type: Literal[AppliedToType.CONVENIENCE_FEE] = AppliedToType.CONVENIENCE_FEE
    amount: Money


Application: TypeAlias = Annotated[
    InvoiceApplication | CreditNoteApplication | ConvenienceFeeApplication,
    Field(discriminator=api.APPLIED_TO_DISCRIMINATOR),
]


class Payment(BlixoModel):
    id: str
    customer_id: str
    date: dt.date | None = None
    currency: str
    amount: Money
    method: PaymentMethod | None = None
    reference: str | None = None
    applied_to: list[Application] = Field(default_factory=list)
    unapplied_amount: Money = _ZERO
    status: PaymentStatus
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @property
    def convenience_fee(self) -> Decimal:
        return sum(
            (a.amount for a in self.applied_to if isinstance(a, ConvenienceFeeApplication)),
            start=_ZERO,
        )

    @property
    def invoice_applications(self) -> list[InvoiceApplication]:
        return [a for a in self.applied_to if isinstance(a, InvoiceApplication)]

    @property
    def credit_note_applications(self) -> list[CreditNoteApplication]:
        return [a for a in self.applied_to if isinstance(a, CreditNoteApplication)]


class InvoiceApplicationWrite(BlixoWriteModel):
    type: Literal[AppliedToType.INVOICE] = AppliedToType.INVOICE
    invoice_id: str
    amount: Money

    def to_wire(self) -> dict[str, Any]:
        # The discriminator must travel even though it was defaulted.
        return self.model_dump(mode="json", by_alias=True)


class CreditNoteApplicationWrite(BlixoWriteModel):
    type: Literal[AppliedToType.CREDIT_NOTE] = AppliedToType.CREDIT_NOTE
    credit_note_id: str
    invoice_id: str | None = None
    amount: Money

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ConvenienceFeeApplicationWrite(BlixoWriteModel):
    type: Literal[AppliedToType.CONVENIENCE_FEE] = AppliedToType.CONVENIENCE_FEE
    amount: Money

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


ApplicationWrite: TypeAlias = Annotated[
    InvoiceApplicationWrite | CreditNoteApplicationWrite | ConvenienceFeeApplicationWrite,
    Field(discriminator=api.APPLIED_TO_DISCRIMINATOR),
]


class PaymentWrite(BlixoWriteModel):
    customer_id: str | None = None
    date: dt.date | None = None
    currency: str | None = None
    amount: Money | None = None
    method: PaymentMethod | None = None
    reference: str | None = None
    applied_to: list[ApplicationWrite] | None = None
    status: PaymentStatus | None = None
    metadata: WritableMetadata | None = None

    def to_wire(self) -> dict[str, Any]:
        body = super().to_wire()
        if self.applied_to is not None:
            # exclude_unset would drop the defaulted "type" of each entry.
            body[api.wire_name("applied_to")] = [a.to_wire() for a in self.applied_to]
        return body


# --- Resource registry -----------------------------------------------------------------------
BlixoRecord: TypeAlias = Customer | Invoice | CreditNote | Payment

RECORD_MODELS: Mapping[ResourceKind, type[BlixoRecord]] = {
    ResourceKind.CUSTOMER: Customer,
    ResourceKind.INVOICE: Invoice,
    ResourceKind.CREDIT_NOTE: CreditNote,
    ResourceKind.PAYMENT: Payment,
}


# --- Webhook events --------------------------------------------------------------------------
class _EventData(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    object: dict[str, Any] = Field(alias=api.EVENT_OBJECT_KEY)
    previous: dict[str, Any] | None = Field(default=None, alias=api.EVENT_PREVIOUS_KEY)


class EventEnvelope(BaseModel):
    """Any Blixo event, its object still raw: enough to acknowledge an unknown type."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(alias=api.EVENT_ID_KEY, min_length=1, max_length=255)
    type: str = Field(alias=api.EVENT_TYPE_KEY, min_length=1, max_length=255)
    created_at: AwareDatetime = Field(alias=api.EVENT_CREATED_AT_KEY)
    data: _EventData = Field(alias=api.EVENT_DATA_KEY)

    @property
    def is_known_type(self) -> bool:
        return self.type in api.EVENT_TYPES


class BlixoEvent(BaseModel):
    """A webhook event of a known type, its object parsed into the record model."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    resource: ResourceKind
    action: EventAction
    created_at: AwareDatetime
    object: BlixoRecord
    previous: dict[str, Any] | None = None

    @property
    def object_id(self) -> str:
        return self.object.id

    @property
    def is_void(self) -> bool:
        """A void arrives as ``*.updated`` whose object's status is now ``voided``."""
        status = getattr(self.object, "status", None)
        return self.action is EventAction.UPDATED and status in _VOIDED


_VOIDED = frozenset({InvoiceStatus.VOIDED, CreditNoteStatus.VOIDED, PaymentStatus.VOIDED})


class UnknownEventType(ValueError):
    def __init__(self, envelope: EventEnvelope) -> None:
        super().__init__(f"unknown Blixo event type {envelope.type!r}")
        self.envelope = envelope


def parse_event(payload: Mapping[str, Any]) -> BlixoEvent:
    """Validate an event and parse its object by type.

    Raises ``pydantic.ValidationError`` for a malformed event and ``UnknownEventType`` (after
    the envelope validated) for a type this integration does not handle.
    """
    envelope = EventEnvelope.model_validate(payload)
    return event_from_envelope(envelope)


def event_from_envelope(envelope: EventEnvelope) -> BlixoEvent:
    known = api.EVENT_TYPES.get(envelope.type)
    if known is None:
        raise UnknownEventType(envelope)
    resource, action = known
    record = RECORD_MODELS[resource].model_validate(envelope.data.object)
    return BlixoEvent(
        id=envelope.id,
        type=envelope.type,
        resource=resource,
        action=action,
        created_at=envelope.created_at,
        object=record,
        previous=envelope.data.previous,
    )
