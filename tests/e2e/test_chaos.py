"""The small chaos run (a tenth of `make chaos`, the same faults) on the deployed local stack.

It runs alone (`-m chaos`, after the parallel e2e tests): its faults are injected into the
sandboxes every tenant shares. The figures are written to .local/chaos-small.json."""

from __future__ import annotations

from typing import Any

import pytest

from ops.chaos.run import Options, execute
from ops.chaos.workload import Sizes
from tests.conftest import ROOT
from tests.e2e.conftest import Stack

# The first test's time includes the run (the fixture): a quiet stack first (what other tests left
# queued takes up to about two minutes to settle), then the run itself.
pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.timeout(600)]

SCALE = 0.1


@pytest.fixture(scope="module")
def report(stack: Stack) -> dict[str, Any]:
    return execute(Options(scale=SCALE, results=ROOT / ".local" / "chaos-small.json"))


def test_nothing_is_duplicated_lost_unbalanced_or_written_twice(report: dict[str, Any]) -> None:
    assert report["details"] == {
        "duplicates": [],
        "lost": [],
        "balance_differences": [],
        "open_sync_errors": [],
    }
    assert (report["duplicates"], report["lost"], report["balance_differences"]) == (0, 0, 0)
    assert report["second_pass_writes"] == 0, report["second_pass_changes"]
    assert report["webhooks_given_up"] == 0  # every event reached the intake in the end
    assert report["reconciliation"].endswith("0 differences, 0 open sync errors")


def test_every_object_of_the_workload_is_mapped_exactly_once(report: dict[str, Any]) -> None:
    sizes = Sizes.at(SCALE)
    made = report["made"]
    # Objects voided (Blixo) or reversed (Intacct) before any sync saw them are in no mapping:
    # there is nothing of them to carry over. Only voided or reversed objects may be among them.
    undone = report["undone_before_synced"]
    assert set(undone) <= {"invoice", "credit_note", "payment"}
    assert undone.get("invoice", 0) <= sizes.blixo_invoice_voids
    assert undone.get("credit_note", 0) <= sizes.blixo_credit_voids
    assert undone.get("payment", 0) <= sizes.blixo_payment_voids + sizes.intacct_reversals
    assert {k: v + undone.get(k, 0) for k, v in report["mapped"].items()} == {
        "customer": made["blixo_customers"] + made["intacct_customers"],
        "invoice": made["blixo_invoices"] + made["intacct_orders"],
        "credit_note": made["blixo_credit_notes"] + made["intacct_returns"],
        "payment": made["blixo_payments"] + made["intacct_payments"],
        "convenience_fee": sum(1 for j in range(sizes.blixo_payments) if 13 <= j % 20 < 17),
    }


def test_every_fault_was_injected(report: dict[str, Any]) -> None:
    faults = report["faults"]
    assert faults["push_crashes"] == 1, report["crashes"]
    assert "Worker process died" in report["crashes"]["push"]["esm"]
    assert faults["pull_crashes"] == 1, report["crashes"]
    assert report["crashes"]["pull"]["exit"] == -9  # SIGKILL, after a checkpoint, before the end
    # Each Intacct fault kind at least once (one of each is forced on top of the rates).
    assert faults["intacct_5xx"] >= 1
    assert faults["intacct_429"] >= 1
    assert faults["intacct_lost_responses"] >= 1
    assert faults["blixo_5xx"] > 0
    # Live sessions were ended (the push's among them), requests were refused for it, and the
    # clients logged in again.
    expiry = report["session_expiry"]
    assert faults["intacct_session_expiries"] == expiry["sessions_ended"] >= 1
    assert expiry["requests_refused_after"] >= 1, expiry
    assert expiry["logins_after"] >= 1, expiry
    # Every webhook was delivered twice: one second copy per event Blixo emitted.
    assert faults["webhook_second_copies"] == report["events_by_source"]["blixo_webhook_events"]
    assert report["faults_injected"] == sum(faults.values())
    assert report["retries"] > 0
