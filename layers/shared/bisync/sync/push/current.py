"""A webhook is a notice that an object changed, not the object: Blixo delivers events in any
order (a throttled delivery is retried later, every event may come twice) and for days. So
each push writes the object's current state, read once per object per batch, rather than the
copy its event carried. A void that overtook its object's creation then finds the object
voided on both events and nothing is written; an edit's older event writes the newer state;
an object deleted since is pushed as the deletion it now is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bisync.blixo.api import EventAction, ResourceKind
from bisync.blixo.errors import NotFoundError
from bisync.blixo.models import BlixoEvent, BlixoRecord
from bisync.sync.failures import SyncFailure, classify
from bisync.sync.push.context import BlixoReads

# Reads run side by side (Blixo allows far more requests in flight than a batch has objects).
READ_WORKERS = 8
_GONE = object()  # the object no longer exists in Blixo


def _reader(reads: BlixoReads, resource: ResourceKind) -> Callable[[str], BlixoRecord]:
    readers: dict[ResourceKind, Callable[[str], BlixoRecord]] = {
        ResourceKind.CUSTOMER: reads.customer,
        ResourceKind.INVOICE: reads.invoice,
        ResourceKind.CREDIT_NOTE: reads.credit_note,
        ResourceKind.PAYMENT: reads.payment,
    }
    return readers[resource]


def current_events(events: Sequence[BlixoEvent], reads: BlixoReads) -> list[BlixoEvent | SyncFailure]:
    """Each event with its object as Blixo has it now (or the failure that kept it from being
    read, which fails that event's message like any other)."""
    wanted = list(
        dict.fromkeys((e.resource, e.object_id) for e in events if e.action is not EventAction.DELETED)
    )

    def read(key: tuple[ResourceKind, str]) -> BlixoRecord | SyncFailure | object:
        resource, object_id = key
        try:
            return _reader(reads, resource)(object_id)
        except NotFoundError:
            return _GONE
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            return failure

    found: dict[tuple[ResourceKind, str], BlixoRecord | SyncFailure | object] = {}
    if wanted:
        with ThreadPoolExecutor(min(READ_WORKERS, len(wanted)), thread_name_prefix="push-read") as pool:
            found = dict(zip(wanted, pool.map(read, wanted), strict=True))
    out: list[BlixoEvent | SyncFailure] = []
    for event in events:
        if event.action is EventAction.DELETED:
            out.append(event)
            continue
        current = found[(event.resource, event.object_id)]
        if isinstance(current, SyncFailure):
            out.append(current)
        elif current is _GONE:
            out.append(event.model_copy(update={"action": EventAction.DELETED}))
        else:
            out.append(event.model_copy(update={"object": _newer(event.object, current)}))
    return out


def _newer(carried: BlixoRecord, current: object) -> BlixoRecord:
    """The current record, unless the event's copy is somehow newer (a read from a lagging
    replica, say): never step back."""
    assert isinstance(current, type(carried))
    if carried.updated_at and current.updated_at and carried.updated_at > current.updated_at:
        return carried
    return current
