"""The store's sync items on moto: two-way mappings made once, sync errors one per object,
and the Intacct slots that cap a tenant's requests across containers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bisync.intacct import functions as fn
from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import LeaseLimiter, NoSlotError
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials
from bisync.store import ErrorLevel, Mapping, MappingConflictError, Origin, SyncStore


def link(store: SyncStore, blixo_id: str = "inv_1", key: str = "101", **over: object) -> Mapping:
    return store.mappings.link(
        Mapping(
            tenant_id="acme",
            object_type="invoice",
            blixo_id=blixo_id,
            intacct_key=key,
            origin=Origin.BLIXO,
            **{"hash": "h1", **over},
        )
    )


def test_a_link_is_found_from_both_sides(store: SyncStore) -> None:
    link(store)
    by_blixo = store.mappings.by_blixo("acme", "invoice", "inv_1")
    by_intacct = store.mappings.by_intacct("acme", "invoice", "101")
    assert by_blixo is not None
    assert by_intacct is not None
    assert by_blixo.intacct_key == "101"
    assert by_intacct.blixo_id == "inv_1"
    assert store.mappings.by_blixo("other", "invoice", "inv_1") is None
    assert store.mappings.by_blixo("acme", "payment", "inv_1") is None


def test_a_link_is_never_made_twice_from_either_side(store: SyncStore) -> None:
    link(store)
    with pytest.raises(MappingConflictError):
        link(store, "inv_1", "102")
    with pytest.raises(MappingConflictError):
        link(store, "inv_2", "101")
    assert store.mappings.by_blixo("acme", "invoice", "inv_2") is None
    assert store.mappings.by_intacct("acme", "invoice", "102") is None


def test_the_same_pair_linked_again_is_the_stored_link(store: SyncStore) -> None:
    first = link(store)
    again = link(store, hash="h2")  # a second writer of the batch that made the same record
    assert again.intacct_key == "101"
    assert again.hash == "h1"  # the stored link, not overwritten
    assert again.updated_at == first.updated_at
    with pytest.raises(MappingConflictError):
        link(store, "inv_1", "102")


def test_racing_links_make_exactly_one(store: SyncStore, serialized_dynamodb: None) -> None:
    wins: list[str] = []
    lost: list[str] = []

    def attempt(n: int) -> None:
        try:
            link(store, "inv_race", f"2{n}")
            wins.append(str(n))
        except MappingConflictError:
            lost.append(str(n))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert len(lost) == 5


def test_a_moved_intacct_key_moves_the_link(store: SyncStore) -> None:
    first = link(store)
    store.mappings.save(
        first.model_copy(update={"intacct_key": "555", "hash": "h2"}), previous_intacct_key="101"
    )
    assert store.mappings.by_intacct("acme", "invoice", "101") is None
    moved = store.mappings.by_intacct("acme", "invoice", "555")
    assert moved is not None
    assert (moved.blixo_id, moved.hash) == ("inv_1", "h2")
    link(store, "inv_9", "777")
    with pytest.raises(MappingConflictError):  # onto a key another link holds
        store.mappings.save(moved.model_copy(update={"intacct_key": "777"}), previous_intacct_key="555")


def test_many_by_blixo_reads_in_batches(store: SyncStore) -> None:
    for n in range(130):
        link(store, f"inv_{n}", str(1000 + n))
    found = store.mappings.many_by_blixo("acme", "invoice", [f"inv_{n}" for n in range(0, 140)])
    assert len(found) == 130
    assert found["inv_129"].intacct_key == "1129"


def test_all_lists_every_link_of_a_kind_once_across_pages(store: SyncStore) -> None:
    for n in range(300):  # ~2.5 MB of items: DynamoDB answers the query in more than one page
        link(store, f"inv_{n:04}", str(5000 + n), state={"pad": "x" * 4000})
    store.mappings.link(
        Mapping(
            tenant_id="acme", object_type="customer", blixo_id="cus_1", intacct_key="C-1", origin=Origin.BLIXO
        )
    )
    first = store.mappings.by_blixo("acme", "invoice", "inv_0000")
    assert first is not None
    store.mappings.save(first.model_copy(update={"intacct_key": "9999"}), previous_intacct_key="5000")
    links = store.mappings.all("acme", "invoice")
    assert len(links) == 300
    assert len({m.blixo_id for m in links}) == 300
    assert {m.intacct_key for m in links} == {str(5000 + n) for n in range(1, 300)} | {"9999"}
    assert [m.blixo_id for m in store.mappings.all("acme", "customer")] == ["cus_1"]
    assert store.mappings.all("other", "invoice") == []


def test_a_sync_error_is_one_per_object_counted_and_cleared(store: SyncStore) -> None:
    t0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
    first = store.errors.record(
        "acme",
        "invoice",
        "inv_1",
        direction="push",
        message="GL 9999 unknown",
        intacct_errorno="BL01001973",
        retry={"event_type": "invoice.created"},
        now=t0,
    )
    second = store.errors.record(
        "acme", "invoice", "inv_1", direction="push", message="still unknown", now=t0 + timedelta(minutes=5)
    )
    assert first.attempts == 1
    assert second.attempts == 2
    assert second.first_seen == t0
    assert second.last_seen == t0 + timedelta(minutes=5)
    assert second.message == "still unknown"
    [listed] = store.errors.list("acme")
    assert listed.object_id == "inv_1"
    store.errors.record(
        "acme", "payment", "pay_1", direction="push", message="warn", level=ErrorLevel.WARNING
    )
    assert len(store.errors.list("acme")) == 2
    assert store.errors.clear("acme", "invoice", "inv_1") is True
    assert store.errors.clear("acme", "invoice", "inv_1") is False
    assert [e.object_id for e in store.errors.list("acme")] == ["pay_1"]
    ignored = store.errors.ignore("acme", "payment", "pay_1", "accepted difference")
    assert ignored is not None
    assert ignored.ignored
    assert store.errors.list("acme") == []
    assert len(store.errors.list("acme", include_ignored=True)) == 1
    assert store.errors.ignore("acme", "payment", "nope", "x") is None


def test_slots_cap_holders_and_free_themselves_when_a_lease_expires(store: SyncStore) -> None:
    a = store.slots.try_acquire("acme", 2, "holder-a", 30)
    b = store.slots.try_acquire("acme", 2, "holder-b", 30)
    assert {a, b} == {0, 1}
    assert store.slots.try_acquire("acme", 2, "holder-c", 30) is None
    assert store.slots.try_acquire("other", 2, "holder-c", 30) is not None  # per tenant
    assert a is not None
    store.slots.release("acme", a, "holder-a")
    assert store.slots.try_acquire("acme", 2, "holder-c", 30) == a
    # A crashed holder: a lease of 0.05 s is free again once it has run out.
    assert b is not None
    store.slots.release("acme", b, "holder-b")
    assert store.slots.try_acquire("acme", 2, "crashed", 0.05) == b
    assert store.slots.try_acquire("acme", 2, "waiting", 30) is None
    time.sleep(0.1)
    assert store.slots.try_acquire("acme", 2, "waiting", 30) == b
    store.slots.release("acme", b, "crashed")  # the old holder's late release takes nothing
    assert store.slots.try_acquire("acme", 2, "third", 30) is None


def test_the_lease_limiter_waits_boundedly_then_fails_transiently(store: SyncStore) -> None:
    holder = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=0.2)
    waiter = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=0.2)
    with holder.slot("CO"):
        started = time.monotonic()
        with pytest.raises(NoSlotError), waiter.slot("CO"):
            pass
        assert time.monotonic() - started < 2
    with waiter.slot("CO"):
        pass  # free again after release


def test_a_slot_wait_never_outlasts_what_the_caller_has_left(store: SyncStore) -> None:
    holder = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=0.2)
    left = [0.05]
    waiter = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=30, wait_limit=lambda: left[0])
    with holder.slot("CO"):
        started = time.monotonic()
        with pytest.raises(NoSlotError, match=r"within 0\.05 s"), waiter.slot("CO"):
            pass
        assert time.monotonic() - started < 1  # the caller's 0.05 s, not the limiter's 30 s
        left[0] = -3.0  # nothing left: no wait at all
        with pytest.raises(NoSlotError, match=r"within 0 s"), waiter.slot("CO"):
            pass


def test_the_client_does_not_retry_a_slot_it_could_not_get(store: SyncStore) -> None:
    """Each attempt would wait again: 4 attempts of 20 s outlast a 60 s push function."""
    holder = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=0.2)
    waiter = LeaseLimiter(store.slots, "acme", 1, lease_seconds=30, max_wait=0.1)
    waits: list[float] = []
    client = IntacctClient(
        Credentials(
            sender_id="s",
            sender_password=SecretStr("x"),
            company_id="CO",
            user_id="u",
            user_password=SecretStr("y"),
            endpoint_url="http://127.0.0.1:9/unused",
        ),
        retry=RetryPolicy(attempts=4, sleep=waits.append),
        limiter=waiter,
    )
    with holder.slot("CO"):
        started = time.monotonic()
        with pytest.raises(NoSlotError):
            client.execute([fn.query("CUSTOMER", ["CUSTOMERID"])])
        assert time.monotonic() - started < 1
    assert waits == []  # raised after one wait, never slept on and retried


def test_the_lease_limiter_never_exceeds_its_limit_across_limiters(
    store: SyncStore, serialized_dynamodb: None
) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        nonlocal in_flight, peak
        limiter = LeaseLimiter(store.slots, "acme", 2, lease_seconds=30, max_wait=20)  # one per "container"
        try:
            for _ in range(3):
                with limiter.slot("CO"):
                    with lock:
                        in_flight += 1
                        peak = max(peak, in_flight)
                    time.sleep(0.01)
                    with lock:
                        in_flight -= 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert peak == 2
