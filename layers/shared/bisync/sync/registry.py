"""For each (object, direction): the settings flag that turns it on and the code that runs it."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import date
from typing import Any

from bisync.blixo.api import CustomerStatus, EventAction, ResourceKind
from bisync.blixo.models import BlixoEvent, CreditNote, Customer, Invoice, Payment
from bisync.intacct.outcome import Outcome
from bisync.settings import TenantSettings
from bisync.sync.push.context import PushContext, PushResult, Step
from bisync.sync.push.credit_notes import push_credit_note
from bisync.sync.push.customers import push_customer
from bisync.sync.push.invoices import push_invoice
from bisync.sync.push.payments import push_payment

PushWriter = Callable[[PushContext, BlixoEvent], Generator[Step, list[Outcome], PushResult]]


@dataclass(frozen=True)
class Flow:
    object_type: str
    direction: str  # "push" (Blixo -> Intacct) or "pull" (Intacct -> Blixo)
    flag: str  # the TenantSettings.flows field that turns it on
    run: Any

    def enabled(self, settings: TenantSettings) -> bool:
        on = settings.push_enabled if self.direction == "push" else settings.pull_enabled
        return on and bool(getattr(settings.flows, self.flag))


def _event_date(event: BlixoEvent) -> date:
    return event.created_at.date()


def _customer(ctx: PushContext, event: BlixoEvent) -> Generator[Step, list[Outcome], PushResult]:
    customer = event.object
    assert isinstance(customer, Customer)
    if event.action is EventAction.DELETED:
        # A customer with history is never deleted in Intacct: it becomes inactive.
        customer = customer.model_copy(update={"status": CustomerStatus.ARCHIVED})
    return (yield from push_customer(ctx, customer))


def _invoice(ctx: PushContext, event: BlixoEvent) -> Generator[Step, list[Outcome], PushResult]:
    assert isinstance(event.object, Invoice)
    deleted = event.action is EventAction.DELETED
    return (yield from push_invoice(ctx, event.object, deleted=deleted, event_date=_event_date(event)))


def _credit_note(ctx: PushContext, event: BlixoEvent) -> Generator[Step, list[Outcome], PushResult]:
    assert isinstance(event.object, CreditNote)
    return (yield from push_credit_note(ctx, event.object, deleted=event.action is EventAction.DELETED))


def _payment(ctx: PushContext, event: BlixoEvent) -> Generator[Step, list[Outcome], PushResult]:
    assert isinstance(event.object, Payment)
    deleted = event.action is EventAction.DELETED
    return (yield from push_payment(ctx, event.object, deleted=deleted, event_date=_event_date(event)))


PUSH_FLOWS: dict[ResourceKind, Flow] = {
    ResourceKind.CUSTOMER: Flow("customer", "push", "push_customers", _customer),
    ResourceKind.INVOICE: Flow("invoice", "push", "push_invoices", _invoice),
    ResourceKind.CREDIT_NOTE: Flow("credit_note", "push", "push_credit_notes", _credit_note),
    ResourceKind.PAYMENT: Flow("payment", "push", "push_payments", _payment),
}


def push_flow(resource: ResourceKind) -> Flow:
    return PUSH_FLOWS[resource]
