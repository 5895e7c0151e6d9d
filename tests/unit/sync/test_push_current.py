"""current_events: each event is pushed with its object as Blixo has it now."""

from __future__ import annotations

from typing import Any

import pytest

from bisync.blixo import errors as blixo_errors
from bisync.blixo.api import EventAction
from bisync.blixo.models import BlixoEvent, Invoice, parse_event
from bisync.sync.failures import BusinessSyncError, TransientSyncError
from bisync.sync.push.current import current_events
from tests.unit.foundation.fakes import customer_object, event_payload, invoice_object


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1") -> BlixoEvent:
    return parse_event(event_payload(event_type, obj, event_id))


class Blixo:
    def __init__(self, *objects: dict[str, Any], failing: Exception | None = None) -> None:
        self.now = {o["id"]: event("invoice.updated", o).object for o in objects if o["id"].startswith("inv")}
        self.now |= {
            o["id"]: event("customer.updated", o).object for o in objects if o["id"].startswith("cus")
        }
        self.failing = failing
        self.reads: list[str] = []

    def _get(self, object_id: str) -> Any:
        self.reads.append(object_id)
        if self.failing is not None:
            raise self.failing
        if object_id not in self.now:
            raise blixo_errors.NotFoundError("not found", status_code=404)
        return self.now[object_id]

    customer = invoice = credit_note = payment = _get


def test_a_creation_overtaken_by_its_void_carries_the_voided_invoice() -> None:
    blixo = Blixo(invoice_object(status="voided", balance=0.0, updatedAt="2026-11-26T15:09:00Z"))
    [created] = current_events([event("invoice.created", invoice_object())], blixo)
    assert isinstance(created, BlixoEvent)
    assert isinstance(created.object, Invoice)
    assert (created.action, created.object.status.value) == (EventAction.CREATED, "voided")


def test_each_object_is_read_once_per_batch_and_events_keep_their_order() -> None:
    blixo = Blixo(invoice_object(), customer_object())
    events = [
        event("invoice.created", invoice_object(), "e1"),
        event("customer.updated", customer_object(), "e2"),
        event("invoice.updated", invoice_object(), "e3"),
    ]
    out = current_events(events, blixo)
    assert [e.id for e in out if isinstance(e, BlixoEvent)] == ["e1", "e2", "e3"]
    assert sorted(blixo.reads) == ["cus_7", "inv_1"]


def test_an_object_deleted_since_is_pushed_as_its_deletion() -> None:
    [gone] = current_events([event("customer.created", customer_object())], Blixo())
    assert isinstance(gone, BlixoEvent)
    assert gone.action is EventAction.DELETED


def test_a_deletion_is_never_read_again() -> None:
    blixo = Blixo()
    [deleted] = current_events([event("invoice.deleted", invoice_object())], blixo)
    assert isinstance(deleted, BlixoEvent)
    assert (deleted.action, blixo.reads) == (EventAction.DELETED, [])


def test_a_newer_copy_in_the_event_is_never_stepped_back() -> None:
    blixo = Blixo(invoice_object(updatedAt="2026-11-26T15:00:00Z"))
    carried = invoice_object(status="voided", balance=0.0, updatedAt="2026-11-26T15:30:00Z")
    [out] = current_events([event("invoice.updated", carried)], blixo)
    assert isinstance(out, BlixoEvent)
    assert isinstance(out.object, Invoice)
    assert out.object.status.value == "voided"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (blixo_errors.ServerError("unavailable", status_code=503), TransientSyncError),
        (blixo_errors.ValidationError("bad", status_code=400), BusinessSyncError),
    ],
)
def test_a_read_that_fails_fails_only_that_event(error: Exception, kind: type) -> None:
    out = current_events([event("invoice.created", invoice_object())], Blixo(failing=error))
    assert [type(o) for o in out] == [kind]


def test_a_bug_in_a_read_is_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        current_events([event("invoice.created", invoice_object())], Blixo(failing=ZeroDivisionError()))
