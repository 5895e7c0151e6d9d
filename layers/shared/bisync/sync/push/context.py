"""What a push writer works with: the tenant's settings, its mappings, Blixo reads for
dependencies, and the clock. No AWS, no HTTP: the push Lambda hands in the adapters."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol

from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.intacct.functions import Function
from bisync.intacct.outcome import Outcome
from bisync.mapping.common import is_echo
from bisync.settings import TenantSettings
from bisync.store.models import Mapping, Origin
from bisync.sync.failures import BusinessSyncError

Step = list[Function]


class Mappings(Protocol):
    def by_blixo(self, tenant_id: str, object_type: str, blixo_id: str) -> Mapping | None: ...

    def by_intacct(self, tenant_id: str, object_type: str, intacct_key: str) -> Mapping | None: ...

    def link(self, mapping: Mapping) -> Mapping: ...

    def save(self, mapping: Mapping, *, previous_intacct_key: str | None = None) -> Mapping: ...

    def expect(self, tenant_id: str, object_type: str, probe: str, blixo_id: str) -> None: ...

    def unexpect(self, tenant_id: str, object_type: str, probe: str) -> None: ...


class BlixoReads(Protocol):
    """The Blixo records a push may need to read (a dependency not yet in Intacct)."""

    def customer(self, customer_id: str) -> Customer: ...

    def invoice(self, invoice_id: str) -> Invoice: ...

    def credit_note(self, credit_note_id: str) -> CreditNote: ...

    def payment(self, payment_id: str) -> Payment: ...


class PushStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    LINKED = "linked"
    UNCHANGED = "unchanged"
    REVERSED = "reversed"
    DELETED = "deleted"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class PushResult:
    status: PushStatus
    object_type: str
    object_id: str
    intacct_key: str | None = None
    reason: str = ""
    # Synced as far as Intacct allows; the rest is a warning sync error that says why.
    warning: str | None = None

    @property
    def wrote(self) -> bool:
        return self.status not in (PushStatus.UNCHANGED, PushStatus.SKIPPED)


@dataclass
class PushContext:
    settings: TenantSettings
    mappings: Mappings
    blixo: BlixoReads
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    def today(self) -> date:
        return self.now().astimezone(UTC).date()


def ok(outcome: Outcome) -> Outcome:
    """The outcome of a function that had to happen; its refusal is the object's sync error."""
    if not outcome.done:
        error = outcome.error
        raise BusinessSyncError(
            error.message if error else f"{outcome.function.name} {outcome.status}",
            errorno=error.errorno if error else None,
        )
    return outcome


def run_one(function: Function) -> Generator[Step, list[Outcome], Outcome]:
    outcomes = yield [function]
    return ok(outcomes[0])


def owned_by_intacct(linked: Mapping | None, metadata: dict[str, str]) -> bool:
    """A record the pull brought from Intacct: its Blixo webhooks are echoes, never pushed back."""
    if linked is not None:
        return linked.origin is Origin.INTACCT
    return is_echo(metadata)


def version_of(record: Customer | Invoice | CreditNote | Payment) -> str | None:
    """The Blixo version a mapping records (updatedAt), so late events are not applied."""
    return record.updated_at.isoformat() if record.updated_at else None


# Set on an invoice's mapping when a payment or credit is applied: Intacct keeps its line items
# locked even after that is reversed.
STATE_EVER_PAID = "ever_paid"


def mark_invoice_paid(ctx: PushContext, invoice_id: str | None) -> None:
    if invoice_id is None:
        return
    linked = ctx.mappings.by_blixo(ctx.tenant_id, "invoice", invoice_id)
    if linked is not None and not linked.state.get(STATE_EVER_PAID):
        ctx.mappings.save(linked.model_copy(update={"state": {**linked.state, STATE_EVER_PAID: "1"}}))


def change_version(record: Customer | Invoice | CreditNote | Payment, digest: str) -> str:
    """The version a change's controlid carries: Blixo's updatedAt with the content digest.
    The digest alone repeats when an object returns to an earlier state (A -> B -> A), and
    Intacct would refuse that write as already done; updatedAt moves with every change."""
    return f"{version_of(record) or ''}|{digest}"


def is_stale(linked: Mapping | None, version: str | None) -> bool:
    """An event older than what was last synced (a late redelivery): never applied over it."""
    return bool(linked and linked.source_version and version and version < linked.source_version)


def key_of(outcome: Outcome, what: str) -> str:
    if not outcome.key:
        raise BusinessSyncError(f"Intacct recorded the {what} but its key could not be found")
    return outcome.key
