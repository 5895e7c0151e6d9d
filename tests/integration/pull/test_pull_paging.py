"""The pull's paging guarantees, driven directly with small pages: rows inserted between pages,
a crash between pages, a run cut by the time limit, ambiguous reversals, and the request count
against the lower bound."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from bisync.blixo.errors import BlixoConnectionError
from bisync.intacct import functions as fn
from bisync.intacct.errors import TransientError
from bisync.intacct.outcome import Outcome
from bisync.store.models import ErrorLevel, Origin
from bisync.sync.failures import TransientSyncError
from bisync.sync.jobs import PullJob
from bisync.sync.pull import PullSession, cursor_flow, pull_report
from bisync.sync.pull.flows import CUSTOMERS
from tests.integration.pull.conftest import DAY, Seeder, World

TENANT = "acme"


def session(
    world: World, pagesize: int, hook: Callable[[int], None] | None = None
) -> Callable[[Any], PullSession]:
    calls = {"n": 0}

    def execute(functions: Sequence[fn.Function]) -> list[Outcome]:
        calls["n"] += 1
        if hook is not None:
            hook(calls["n"])
        return world.intacct.execute(functions)

    return lambda settings: PullSession(execute=execute, blixo=world.blixo, pagesize=pagesize)


def job(**over: Any) -> PullJob:
    return PullJob(tenant_id=TENANT, scheduled_for=dt.datetime.now(dt.UTC), **over)


def customer_numbers(world: World) -> list[str]:
    return sorted(c.customer_no or "" for c in world.blixo.customers.list())


def only_customers(world: World) -> None:
    flows = world.settings.flows.model_copy(
        update={"pull_invoices": False, "pull_credit_notes": False, "pull_payments": False}
    )
    world.aws.store.put_tenant(world.settings.model_copy(update={"flows": flows}))


def test_rows_inserted_between_pages_lose_and_repeat_nothing(world: World) -> None:
    seed = Seeder(world)
    only_customers(world)
    for i in range(23):
        seed.customer(f"PG-{i:03d}", f"Paged {i}")

    def insert(call: int) -> None:
        if call == 2:  # after the first page came back: new rows appear, one is edited
            time.sleep(1.1)  # Intacct stamps to the second: the edit lands after the seed
            seed.customer("PG-NEW-1", "Inserted")
            world.intacct.run(
                fn.update_customer(fn.CustomerInput(customer_id="PG-000", name="Edited"), controlid="pg-edit")
            )

    report = pull_report(job(), world.aws.store, open_session=session(world, 10, insert))
    numbers = customer_numbers(world)
    assert len(numbers) == len(set(numbers)) == 24
    assert "PG-NEW-1" in numbers
    assert report.rows["CUSTOMER"] >= 24
    # The row edited mid-scan came again at its new place and was written as it now is, in
    # this run: the cursor has passed its edit, so no later run would bring it.
    names = {c.customer_no: c.name for c in world.blixo.customers.list()}
    assert names["PG-000"] == "Edited"
    link = world.aws.store.mappings.by_intacct(TENANT, "customer", "PG-000")
    assert link is not None
    assert link.origin is Origin.INTACCT


def test_a_transient_blixo_failure_mid_chunk_keeps_the_links_of_what_was_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = Seeder(world)
    only_customers(world)
    for i in (1, 2, 3):
        seed.customer(f"CX-{i}", f"Crash {i}")
    api = world.blixo.customers
    real_create = api.create

    def flaky(payload: Any, *, idempotency_key: str) -> Any:
        if payload.get("customerNo") == "CX-3":
            raise BlixoConnectionError("no response from Blixo", method="POST", path="customers")
        return real_create(payload, idempotency_key=idempotency_key)

    monkeypatch.setattr(api, "create", flaky)
    with pytest.raises(TransientSyncError):
        pull_report(job(), world.aws.store, open_session=session(world, 2000))
    # The run failed (SQS retries it), but what it wrote beside the failure is linked.
    assert customer_numbers(world) == ["CX-1", "CX-2"]
    for number in ("CX-1", "CX-2"):
        link = world.aws.store.mappings.by_intacct(TENANT, "customer", number)
        assert link is not None
        assert link.origin is Origin.INTACCT
    monkeypatch.setattr(api, "create", real_create)
    world.intacct.run(
        fn.update_customer(fn.CustomerInput(customer_id="CX-1", name="Crash 1 renamed"), controlid="cx-1-ed")
    )
    pull_report(job(), world.aws.store, open_session=session(world, 2000))
    assert customer_numbers(world) == ["CX-1", "CX-2", "CX-3"]
    # Still Intacct's: its edit in Intacct reaches Blixo.
    names = {c.customer_no: c.name for c in world.blixo.customers.list()}
    assert names["CX-1"] == "Crash 1 renamed"


def test_a_crash_between_two_pages_resumes_without_duplicates(world: World) -> None:
    seed = Seeder(world)
    only_customers(world)
    for i in range(25):
        seed.customer(f"CR-{i:03d}", f"Crash {i}")

    def crash(call: int) -> None:
        if call == 3:
            raise TransientError("Intacct server error (HTTP 503)")

    with pytest.raises(TransientError):
        pull_report(job(), world.aws.store, open_session=session(world, 10, crash))
    partial = customer_numbers(world)
    assert 10 <= len(partial) < 25
    failed = world.aws.store.get_cursor(TENANT, cursor_flow(CUSTOMERS))
    assert failed.high_water is not None
    # The status shows the failure on the flow, not the run before it.
    assert failed.last_outcome is not None
    assert failed.last_outcome.value == "failed"
    assert failed.last_success is None
    pull_report(job(), world.aws.store, open_session=session(world, 10))
    numbers = customer_numbers(world)
    assert len(numbers) == len(set(numbers)) == 25
    assert world.aws.store.list_runs(TENANT)[-1].outcome.value == "failed"


def test_a_run_cut_by_the_time_limit_continues_in_a_new_job(world: World) -> None:
    seed = Seeder(world)
    only_customers(world)
    for i in range(25):
        seed.customer(f"TL-{i:03d}", f"Timed {i}")
    left = iter([1000.0, 1000.0, 1.0])  # the run had 1000 s; after the second page 1 s is left
    queued: list[PullJob] = []
    report = pull_report(
        job(),
        world.aws.store,
        open_session=session(world, 10),
        time_left=lambda: next(left, 1.0),
        continue_later=queued.append,
    )
    assert report.continued
    assert report.run.outcome.value == "partial"
    [continuation] = queued
    assert continuation.trigger == "continuation"
    assert continuation.to_message().deduplication_id != job().to_message().deduplication_id
    assert 10 <= len(customer_numbers(world)) < 25
    pull_report(continuation, world.aws.store, open_session=session(world, 10), time_left=lambda: math.inf)
    numbers = customer_numbers(world)
    assert len(numbers) == len(set(numbers)) == 25


def test_an_ambiguous_reversal_is_a_warning_not_a_guess(world: World) -> None:
    seed = Seeder(world)
    seed.customer("AMB-1", "Ambiguous")
    docs = [seed.order("AMB-1", f"AMB-SO-{i}", ("WIDGET", 1)) for i in range(2)]
    pays = [seed.pay("AMB-1", "25.00", (seed.ar_key(d), "25.00"), refid="SAME-REF") for d in docs]
    pull_report(job(), world.aws.store, open_session=session(world, 2000))
    for n, key in enumerate(pays):
        world.intacct.run(fn.reverse_arpayment(key, DAY + dt.timedelta(days=5), controlid=f"amb-rev-{n}"))
    pull_report(job(), world.aws.store, open_session=session(world, 2000))
    warnings = [e for e in world.aws.store.errors.list(TENANT) if e.level is ErrorLevel.WARNING]
    assert len(warnings) == 2
    assert all("matches 2 voided payments" in w.message for w in warnings)
    # Each original was still voided once, by its own STATE V.
    assert sorted(p.status.value for p in world.blixo.payments.list()) == ["voided", "voided"]


def test_requests_stay_within_the_lower_bound_on_a_seeded_data_set(world: World) -> None:
    seeded = world.intacct_admin(
        "seed", {"customers": 150, "orders": 300, "returns": 120, "order_payments": 200, "entity": "E100"}
    )
    assert (seeded["orders"], seeded["order_lines"], seeded["returns"]) == (300, 900, 120)
    before = world.counters().get("requests", 0)
    report = pull_report(job(), world.aws.store, open_session=session(world, 2000))
    used = world.counters()["requests"] - before
    rows = report.rows
    assert rows["CUSTOMER"] == 150
    assert rows["SODOCUMENT"] == 420  # invoices and returns, each flow its own query
    assert rows["SODOCUMENTENTRY"] == 900 + 120
    assert rows["ARPYMT"] == 200
    assert rows["ARPYMTDETAIL"] == 200
    # The fewest requests the data allows: per kind of record, ceil(rows / 2000).
    kinds = {
        "customers": 150,
        "invoices": 300,
        "invoice_lines": 900,
        "returns": 120,
        "return_lines": 120,
        "payments": 200,
        "details": 200,
    }
    lower_bound = sum(math.ceil(n / 2000) for n in kinds.values())
    assert used <= 1.2 * lower_bound, (used, lower_bound, rows)
    run = report.run
    assert run.counts["invoices.created"] == 300
    assert run.counts["credit_notes.created"] == 120
    assert run.counts["payments.created"] == 200
    assert len(world.blixo.invoices.list()) == 300


def test_the_time_limit_is_checked_within_a_page_of_writes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bisync.sync.pull.run as run_module

    monkeypatch.setattr(run_module, "WRITE_CHUNK", 10)
    seed = Seeder(world)
    only_customers(world)
    for i in range(25):
        seed.customer(f"WC-{i:03d}", f"Chunked {i}")
    left = iter([1000.0, 1.0])  # one full page of 25; the clock runs out after its first slice
    queued: list[PullJob] = []
    report = pull_report(
        job(),
        world.aws.store,
        open_session=session(world, 2000),
        time_left=lambda: next(left, 1.0),
        continue_later=queued.append,
    )
    assert report.continued
    assert len(customer_numbers(world)) == 10  # one slice written and checkpointed, then handed on
    [continuation] = queued
    pull_report(continuation, world.aws.store, open_session=session(world, 2000))
    numbers = customer_numbers(world)
    assert len(numbers) == len(set(numbers)) == 25


def test_a_backfill_cut_by_the_time_limit_continues_from_its_checkpoint(world: World) -> None:
    """An operator's `sync now --since`: the continuation keeps the backfill's window (the
    cursor is ahead of it) and resumes after the last written page, not from the start."""
    only_customers(world)
    # Seeded rows are a second apart, so the checkpoint's WHENMODIFIED tells pages apart.
    world.intacct_admin("seed", {"customers": 25, "prefix": "BF"})
    store = world.aws.store
    store.advance_high_water(TENANT, cursor_flow(CUSTOMERS), "2099-01-01T00:00:00+00:00")
    left = iter([1000.0, 1000.0, 1.0])
    queued: list[PullJob] = []
    backfill = job(trigger="operator", resume={"since": "2026-01-01T00:00:00+00:00", "flows": ["customers"]})
    pull_report(
        backfill,
        store,
        open_session=session(world, 10),
        time_left=lambda: next(left, 1.0),
        continue_later=queued.append,
    )
    [continuation] = queued
    assert continuation.resume["since"] == "2026-01-01T00:00:00+00:00"
    assert continuation.resume["flows"] == ["customers"]
    assert continuation.resume["checkpoint"]["flow"] == "customers"
    assert continuation.resume["checkpoint"]["since"] > "2026-01-01"
    written = len(customer_numbers(world))
    assert 10 <= written < 25

    report = pull_report(continuation, store, open_session=session(world, 10), time_left=lambda: math.inf)

    numbers = customer_numbers(world)
    assert len(numbers) == len(set(numbers)) == 25
    # It read from the checkpoint: not the first pages again.
    assert report.rows["CUSTOMER"] <= 25 - written + 10


def test_a_flow_that_finds_nothing_new_still_records_that_it_ran(world: World) -> None:
    """The settings page shows each flow's last sync: a quiet flow has one too."""
    report = pull_report(job(), world.aws.store, open_session=session(world, 100))
    assert report.run.outcome.value == "succeeded"
    for flow in ("customers", "invoices", "credit_notes", "payments"):
        cursor = world.aws.store.get_cursor(TENANT, f"pull:{flow}")
        finished = report.run.finished_at
        assert finished is not None
        # The store keeps milliseconds.
        assert cursor.last_run_finished == finished.replace(
            microsecond=finished.microsecond // 1000 * 1000
        ), flow
        assert cursor.last_success == cursor.last_run_finished, flow
        assert cursor.last_processed == 0
