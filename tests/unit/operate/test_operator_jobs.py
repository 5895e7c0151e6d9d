"""The jobs operators start: what they carry, how they deduplicate, exact numbers in events."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bisync.blixo.models import Invoice, parse_event
from bisync.operate.backfill import backfill_jobs
from bisync.operate.jobs import JobError, exact_json, pull_now, push_record
from bisync.operate.settings_edit import SettingsChangeError, apply_change, merge, parse_assignments
from bisync.operate.status import next_hour
from bisync.settings import TenantSettings

NOW = datetime(2026, 12, 1, 9, 41, 7, tzinfo=UTC)
INVOICE: dict[str, Any] = {
    "id": "inv_1",
    "object": "invoice",
    "invoiceNo": "INV-0001",
    "customerId": "cus_1",
    "currency": "USD",
    "status": "issued",
    "issueDate": "2026-11-20",
    "items": [
        {
            "name": "A",
            "quantity": Decimal("1"),
            "unitPrice": Decimal("12345678901234567.89"),
            "amount": Decimal("12345678901234567.89"),
        }
    ],
    "subtotal": Decimal("12345678901234567.89"),
    "total": Decimal("12345678901234567.89"),
    "balance": Decimal("12345678901234567.89"),
    "updatedAt": "2026-11-30T10:00:00Z",
    "createdAt": "2026-11-30T10:00:00Z",
}


def test_exact_json_writes_decimals_as_the_numbers_they_are() -> None:
    text = exact_json({"a": Decimal("12345678901234567.89"), "b": [Decimal("0.10")], "c": "\x00x:0\x00"})
    assert text == '{"a":12345678901234567.89,"b":[0.10],"c":"\\u0000x:0\\u0000"}'
    assert json.loads(text, parse_float=Decimal)["a"] == Decimal("12345678901234567.89")


def test_a_pushed_record_is_a_valid_event_with_its_exact_amounts() -> None:
    job = push_record("acme", "invoice", INVOICE, reason="backfill", now=NOW)

    event = parse_event(job.event())
    assert event.type == "invoice.updated"
    assert isinstance(event.object, Invoice)
    assert event.object.total == Decimal("12345678901234567.89")
    assert job.customer_id == "cus_1"
    # Within one request a record version is one SQS message; a later request (after a fix)
    # is never dropped as a duplicate.
    first = push_record("acme", "invoice", INVOICE, reason="backfill", request="r1")
    second = push_record(
        "acme", "invoice", INVOICE, reason="backfill", now=NOW.replace(hour=11), request="r1"
    )
    assert first.to_message().deduplication_id == second.to_message().deduplication_id
    again = push_record("acme", "invoice", INVOICE, reason="retry", now=NOW)
    assert again.to_message().deduplication_id != job.to_message().deduplication_id
    assert job.to_message().group_id == "acme:cus_1"


def test_push_record_refuses_what_it_cannot_send() -> None:
    with pytest.raises(JobError, match="unknown object type"):
        push_record("acme", "order", INVOICE, reason="x")
    with pytest.raises(JobError, match="has no id"):
        push_record("acme", "invoice", {**INVOICE, "id": ""}, reason="x")


def test_pull_now_carries_flows_window_and_keys() -> None:
    job = pull_now("acme", flows=["payments", "invoices", "payments"], since=date(2026, 11, 1), now=NOW)
    assert job.trigger == "operator"
    assert job.resume["flows"] == ["payments", "invoices"]
    assert job.resume["since"] == "2026-11-01T00:00:00+00:00"
    keyed = pull_now("acme", keys={"invoices": ["9", "3", "9"]}, now=NOW)
    assert keyed.resume["keys"] == {"invoices": ["3", "9"]}
    assert keyed.resume["flows"] == ["invoices"]
    # Two requests in the same second are two jobs.
    assert (
        pull_now("acme", now=NOW).to_message().deduplication_id
        != pull_now("acme", now=NOW).to_message().deduplication_id
    )
    with pytest.raises(JobError, match="unknown pull flow orders"):
        pull_now("acme", flows=["orders"])
    with pytest.raises(JobError, match="unknown pull flow x"):
        pull_now("acme", keys={"x": ["1"]})


def test_backfill_sends_dependencies_first_and_only_the_types_asked() -> None:
    seen: list[tuple[str, datetime]] = []
    records = {
        "customer": [{"id": "cus_1", "updatedAt": "2026-11-01T00:00:00Z"}],
        "invoice": [INVOICE],
        "credit_note": [],
        "payment": [{"id": "pay_1", "customerId": "cus_1", "updatedAt": "2026-11-02T00:00:00Z"}],
    }

    def listing(object_type: str, since: datetime) -> list[dict[str, Any]]:
        seen.append((object_type, since))
        return records[object_type]

    since = datetime(2026, 10, 1, tzinfo=UTC)
    jobs = list(backfill_jobs("acme", since, listing, types=["payment", "customer", "invoice"]))
    assert [j.event_type for j in jobs] == ["customer.updated", "invoice.updated", "payment.updated"]
    assert [s[0] for s in seen] == ["customer", "invoice", "payment"]
    assert {s[1] for s in seen} == {since}
    with pytest.raises(JobError, match="unknown type widget"):
        list(backfill_jobs("acme", since, listing, types=["widget"]))


def test_settings_changes_merge_nested_and_replace_lists() -> None:
    assert merge({"a": {"x": 1, "y": 2}, "l": [1]}, {"a": {"y": 3}, "l": [2]}) == {
        "a": {"x": 1, "y": 3},
        "l": [2],
    }
    current = TenantSettings(tenant_id="acme")
    changed = apply_change(current, {"flows": {"push_payments": False}, "accounts": {"ar_account": "1210"}})
    assert changed.flows.push_payments is False
    assert changed.flows.push_invoices is True
    assert changed.accounts.ar_account == "1210"
    assert changed.accounts.revenue_account == current.accounts.revenue_account
    with pytest.raises(SettingsChangeError, match="secret_name cannot be changed"):
        apply_change(current, {"secret_name": "other"})


def test_assignments_read_json_values_and_dotted_names() -> None:
    assert parse_assignments(
        ["flows.pull_invoices=false", "name=Acme Corp", "lookback_minutes=15", 'terms={"N30": "Net 30"}']
    ) == {
        "flows": {"pull_invoices": "false"},
        "name": "Acme Corp",
        "lookback_minutes": "15",
        "terms": {"N30": "Net 30"},
    }
    assert parse_assignments(["entity_id=null", "accounts.ar_account=1200"]) == {
        "entity_id": None,
        "accounts": {"ar_account": "1200"},
    }
    current = TenantSettings(tenant_id="acme")
    changed = apply_change(current, parse_assignments(["flows.pull_invoices=false", "lookback_minutes=15"]))
    assert changed.flows.pull_invoices is False
    assert changed.lookback_minutes == 15
    with pytest.raises(SettingsChangeError, match="is not valid JSON"):
        parse_assignments(["terms={oops"])
    for bad in ("novalue", "=1", "a..b=1"):
        with pytest.raises(SettingsChangeError):
            parse_assignments([bad])
    with pytest.raises(SettingsChangeError, match="inside a value"):
        parse_assignments(["name=x", "name.first=y"])


def test_the_next_pull_is_the_next_top_of_the_hour() -> None:
    assert next_hour(NOW) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert next_hour(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)


def test_maps_other_than_flows_and_accounts_are_replaced_whole() -> None:
    current = TenantSettings(tenant_id="acme", terms={"net30": "N30", "net60": "N60"})
    assert apply_change(current, {"terms": {}}).terms == {}
    assert apply_change(current, {"terms": {"due": "Due on receipt"}}).terms == {"due": "Due on receipt"}
