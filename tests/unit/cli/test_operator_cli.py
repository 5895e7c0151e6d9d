"""The operators' command over a stack in moto: what it prints, what it changes, how it fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bisync.settings import Flows, TenantSettings
from bisync.store.models import ErrorLevel, RunOutcome
from bisync.sync.jobs import PullJob
from blixo_cli.target import Target
from tests.unit.cli.moto_stack import invoke, messages, moto_target

__all__ = ["moto_target"]

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)


@pytest.fixture
def target(moto_target: Target) -> Target:
    store = moto_target.store()
    store.put_tenant(TenantSettings(tenant_id="acme", name="Acme Corp"))
    return moto_target


def test_status_json_has_every_flow_with_its_timing_and_errors(target: Target) -> None:
    store = target.store()
    started, finished = NOW - timedelta(minutes=3), NOW - timedelta(minutes=2)
    store.record_flow_activity(
        "acme", "pull:invoices", started=started, finished=finished, outcome=RunOutcome.SUCCEEDED, processed=7
    )
    store.record_flow_activity(
        "acme", "pull:invoices", started=NOW, finished=NOW, outcome=RunOutcome.PARTIAL, processed=2
    )
    store.errors.record(
        "acme", "invoice", "SO-9", direction="pull", message="customer C1 of SO-9 is not in Blixo", now=NOW
    )

    result = invoke(target, "status", "acme", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    [tenant] = report["tenants"]
    flows = {f["flow"]: f for f in tenant["flows"]}
    assert set(flows) == {
        "pull:customers", "pull:invoices", "pull:credit_notes", "pull:payments",
        "push:customers", "push:invoices", "push:credit_notes", "push:payments", "push:convenience_fees",
    }  # fmt: skip
    invoices = flows["pull:invoices"]
    assert invoices["last_outcome"] == "partial"
    assert invoices["records_last_run"] == 2
    assert invoices["records_total"] == 9
    assert datetime.fromisoformat(invoices["last_success"]) == finished
    assert invoices["open_errors"] == 1
    assert flows["pull:customers"]["last_run_finished"] is None
    assert tenant["open_errors"] == 1
    # The schedule fires at the top of each hour.
    assert datetime.fromisoformat(tenant["next_pull"]).minute == 0
    assert report["queues"] == {
        "push": 0, "push_in_flight": 0, "push_dlq": 0, "pull": 0, "pull_in_flight": 0, "pull_dlq": 0,
    }  # fmt: skip


def test_status_shows_switched_off_flows_and_no_next_pull(target: Target) -> None:
    off = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)
    target.store().put_tenant(TenantSettings(tenant_id="quiet", flows=off))

    result = invoke(target, "status", "quiet", "--json")

    [tenant] = json.loads(result.output)["tenants"]
    assert tenant["next_pull"] is None
    assert [f["enabled"] for f in tenant["flows"] if f["direction"] == "pull"] == [False] * 4
    table = invoke(target, "status")
    assert table.exit_code == 0
    assert "quiet" in table.output
    assert "acme (Acme Corp)" in table.output


def test_an_unknown_tenant_is_a_message_and_exit_1(target: Target) -> None:
    for args in (
        ["status", "nope"],
        ["tenant", "show", "nope"],
        ["errors", "list", "nope"],
        ["sync", "now", "nope"],
    ):
        result = invoke(target, *args)
        assert result.exit_code == 1, args
        assert "unknown tenant nope" in result.output
        assert "Traceback" not in result.output


def test_tenant_set_validates_before_saving(target: Target) -> None:
    store = target.store()
    ok = invoke(target, "tenant", "set", "acme", "flows.pull_invoices=false", "lookback_minutes=30",
                'invoice_definitions=["Sales Invoice", "Project Invoice"]', "--no-check")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    saved = store.get_tenant("acme")
    assert saved.flows.pull_invoices is False
    assert saved.flows.pull_payments is True  # untouched siblings stay
    assert saved.lookback_minutes == 30
    assert saved.invoice_definitions == ["Sales Invoice", "Project Invoice"]

    for args, expected in (
        (["lookback_minutes=-1"], "lookback_minutes: Input should be greater than or equal to 0"),
        (["flows.pull_everything=true"], "flows.pull_everything: Extra inputs are not permitted"),
        (["tenant_id=other"], "tenant_id cannot be changed"),
        (["lookback_minutes"], "is not NAME=VALUE"),
        ([], "nothing to change"),
        (['return_definitions=["Sales Invoice"]'], "both an invoice and a return"),
    ):
        bad = invoke(target, "tenant", "set", "acme", *args, "--no-check")
        assert bad.exit_code == 1, args
        assert expected in bad.output, bad.output
    assert store.get_tenant("acme") == saved  # nothing of the refused changes was saved


def test_tenant_set_never_echoes_a_refused_value(target: Target) -> None:
    result = invoke(target, "tenant", "set", "acme", "lookback_minutes=hunter2-secret-ish")
    assert result.exit_code == 1
    assert "hunter2" not in result.output


def test_tenant_show_prints_the_settings_as_json(target: Target) -> None:
    result = invoke(target, "tenant", "show", "acme", "--json")
    assert json.loads(result.output)["name"] == "Acme Corp"


def test_sync_now_queues_an_operator_pull_with_its_window(target: Target) -> None:
    result = invoke(
        target, "sync", "now", "acme", "--flow", "invoices", "--flow", "payments", "--since", "2026-11-01"
    )

    assert result.exit_code == 0, result.output
    [message] = messages(target, target.pull_queue_url)
    job = PullJob.model_validate_json(message["Body"])
    assert job.trigger == "operator"
    assert job.resume["flows"] == ["invoices", "payments"]
    assert job.resume["since"] == "2026-11-01T00:00:00+00:00"
    assert message["Attributes"]["MessageGroupId"] == "acme"


def test_two_sync_nows_are_two_runs_not_one_deduplicated(target: Target) -> None:
    invoke(target, "sync", "now", "acme")
    invoke(target, "sync", "now", "acme")
    assert len(messages(target, target.pull_queue_url)) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--flow", "everything"], "unknown pull flow everything"),
        (["--since", "yesterday"], "--since must be a date"),
    ],
)
def test_sync_now_refuses_bad_input(target: Target, args: list[str], expected: str) -> None:
    result = invoke(target, "sync", "now", "acme", *args)
    assert result.exit_code == 1
    assert expected in result.output
    assert messages(target, target.pull_queue_url) == []


def test_sync_now_refuses_a_tenant_whose_pulls_are_off(target: Target) -> None:
    off = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)
    target.store().put_tenant(TenantSettings(tenant_id="quiet", flows=off))
    result = invoke(target, "sync", "now", "quiet")
    assert result.exit_code == 1
    assert "every pull flow of quiet is off" in result.output


def _pull_error(target: Target, object_id: str, flow: str = "invoices") -> None:
    target.store().errors.record(
        "acme",
        "invoice",
        object_id,
        direction="pull",
        message=f"customer C1 of {object_id} is not in Blixo",
        retry={"intacct_key": object_id, "flow": flow},
        now=NOW,
    )


def test_errors_list_show_and_ignore(target: Target) -> None:
    _pull_error(target, "101")
    target.store().errors.record(
        "acme", "payment", "pay_1", direction="push", message="overpaid", level=ErrorLevel.WARNING, now=NOW
    )

    listed = json.loads(invoke(target, "errors", "list", "acme", "--json").output)
    assert {(e["object_type"], e["object_id"]) for e in listed} == {("invoice", "101"), ("payment", "pay_1")}
    only_pull = json.loads(invoke(target, "errors", "list", "acme", "--direction", "pull", "--json").output)
    assert [e["object_id"] for e in only_pull] == ["101"]
    assert "customers flow" in only_pull[0]["hint"]

    shown = json.loads(invoke(target, "errors", "show", "acme", "invoice:101", "--json").output)
    assert shown["retry"] == {"intacct_key": "101", "flow": "invoices"}

    no_reason = invoke(target, "errors", "ignore", "acme", "payment:pay_1")
    assert no_reason.exit_code != 0
    ignored = invoke(
        target, "errors", "ignore", "acme", "payment:pay_1", "--reason", "customer refunded by hand"
    )
    assert ignored.exit_code == 0, ignored.output
    remaining = json.loads(invoke(target, "errors", "list", "acme", "--json").output)
    assert [e["object_id"] for e in remaining] == ["101"]
    everything = json.loads(invoke(target, "errors", "list", "acme", "--include-ignored", "--json").output)
    [closed] = [e for e in everything if e["object_id"] == "pay_1"]
    assert closed["ignored_reason"] == "customer refunded by hand"

    missing = invoke(target, "errors", "show", "acme", "invoice:999")
    assert missing.exit_code == 1
    assert "no sync error invoice:999" in missing.output


def test_errors_retry_requeues_pull_errors_as_one_pull_of_those_records(target: Target) -> None:
    _pull_error(target, "101")
    _pull_error(target, "102")

    result = invoke(target, "errors", "retry", "acme", "--all", "--json")

    assert result.exit_code == 0, result.output
    assert all(r["queued"] for r in json.loads(result.output))
    [message] = messages(target, target.pull_queue_url)
    job = PullJob.model_validate_json(message["Body"])
    assert job.resume["keys"] == {"invoices": ["101", "102"]}
    assert job.resume["flows"] == ["invoices"]
    # The errors stay open until the records sync.
    assert len(target.store().errors.list("acme")) == 2


def test_errors_retry_needs_a_choice(target: Target) -> None:
    _pull_error(target, "101")
    neither = invoke(target, "errors", "retry", "acme")
    assert neither.exit_code == 1
    assert "--all" in neither.output
    dry = invoke(target, "errors", "retry", "acme", "invoice:101", "--dry-run")
    assert dry.exit_code == 0
    assert messages(target, target.pull_queue_url) == []


def test_no_stack_is_a_message_not_a_traceback(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from blixo_cli.app import app

    missing = f"{tmp_path}/nothing.json"
    result = CliRunner().invoke(app, ["--stack-file", missing, "status"])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_a_change_intacct_must_confirm_needs_the_tenants_credentials(target: Target) -> None:
    result = invoke(target, "tenant", "set", "acme", "accounts.ar_account=1210")
    assert result.exit_code == 1
    assert "tenant acme has no secret" in result.output
    assert target.store().get_tenant("acme").accounts.ar_account == "1200"


def test_each_push_flow_shows_its_own_last_run(target: Target) -> None:
    store = target.store()
    store.record_flow_activity(
        "acme", "push:invoice", started=NOW, finished=NOW, outcome=RunOutcome.PARTIAL, processed=3
    )
    store.record_flow_activity(
        "acme", "push:payment", started=NOW, finished=NOW, outcome=RunOutcome.SUCCEEDED, processed=2
    )

    [tenant] = json.loads(invoke(target, "status", "acme", "--json").output)["tenants"]

    flows = {f["flow"]: f for f in tenant["flows"]}
    assert flows["push:invoices"]["last_outcome"] == "partial"
    assert flows["push:invoices"]["records_last_run"] == 3
    assert flows["push:customers"]["last_outcome"] is None
    # A convenience fee travels with its payment.
    assert (
        flows["push:convenience_fees"]["last_outcome"]
        == flows["push:payments"]["last_outcome"]
        == "succeeded"
    )


def test_the_entity_is_changed_by_connect_and_a_disabled_tenant_says_so(target: Target) -> None:
    entity = invoke(target, "tenant", "set", "acme", "entity_id=E999", "--no-check")
    assert entity.exit_code == 1
    assert "tenant connect acme --entity" in entity.output
    assert target.store().get_tenant("acme").entity_id is None
    invoke(target, "tenant", "set", "acme", "enabled=false", "--no-check")
    off = invoke(target, "sync", "now", "acme")
    assert off.exit_code == 1
    assert "acme is disabled" in off.output
