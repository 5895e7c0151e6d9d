"""`blixo-intacct reconcile TENANT` through typer's runner, on a Target built over moto and the
two sandboxes: the table, the JSON, and exit code 1 exactly when something differs."""

from __future__ import annotations

import json

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from blixo_cli import output
from blixo_cli.commands.reconcile import reconcile
from blixo_cli.target import Target
from tests.integration.foundation.conftest import REGION, SECRET_PREFIX, TABLE_NAME
from tests.integration.operate.conftest import TENANT, World


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich sizes tables to the terminal; the runner has none, so give it room for a row.
    monkeypatch.setattr(output, "console", Console(width=200))


def run(world: World, *args: str) -> tuple[int, str]:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The command group, as blixo_cli.app registers it."""

    app.command("reconcile")(reconcile)
    target = Target(
        region=REGION,
        sync_table=TABLE_NAME,
        push_queue_url=world.aws.push_queue_url,
        push_dlq_url="",
        pull_queue_url=world.aws.pull_queue_url,
        pull_dlq_url="",
        tenant_secret_prefix=SECRET_PREFIX,
        blixo_url=world.blixo_url,
        local={"intacct": {"url": world.intacct_handle.gateway_url}},
    )
    result = CliRunner().invoke(app, ["reconcile", *args], obj=target)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_balanced_ledgers_exit_0_with_the_table_and_the_summary(world: World) -> None:
    customer = world.customer("Globex & Partners", customerNo="GLX-1")
    world.invoice(customer.id, "1250.00", "2500.00")
    assert world.pump() == []

    code, out = run(world, TENANT)

    assert code == 0, out
    assert "Globex & Partners" in out
    assert "GLX-1" in out
    assert "3,750.00" in out
    assert "0 differences" in out

    code, out = run(world, TENANT, "--json")
    assert code == 0, out
    doc = json.loads(out)
    [row] = doc["customers"]
    assert (row["blixo"]["total"], row["intacct"]["total"], row["difference"]) == (
        "3750.00",
        "3750.00",
        "0.00",
    )
    assert doc["totals"]["differences"] == 0
    assert doc["totals"]["invoices_compared"] == 1


def test_a_difference_exits_1_and_names_its_record(world: World) -> None:
    customer = world.customer("Initech", customerNo="INI-1")
    invoice = world.invoice(customer.id, "300.00")
    assert world.pump() == []
    # Paid in Blixo, but the push never hears of it.
    world.aws.store.put_tenant(
        world.settings.model_copy(
            update={"flows": world.settings.flows.model_copy(update={"push_payments": False})}
        )
    )
    payment = world.pay(
        customer.id, "120.50", {"type": "invoice", "invoiceId": invoice.id, "amount": "120.50"}
    )
    assert world.pump() == []

    code, out = run(world, TENANT, "--json")

    assert code == 1, out
    doc = json.loads(out)
    [row] = doc["customers"]
    assert (row["blixo"]["total"], row["intacct"]["total"], row["difference"]) == (
        "179.50",
        "300.00",
        "-120.50",
    )
    assert [(e["kind"], e["object_type"], e["blixo_id"]) for e in doc["explanations"]] == [
        ("mismatch", "invoice", invoice.id),
        ("unsynced", "payment", payment.id),
    ]
    assert doc["totals"]["differences"] == 2

    code, out = run(world, TENANT, "--differences-only")
    assert code == 1
    assert "-120.50" in out
    assert payment.id in out
    assert "2 differences" in out


def test_help_says_what_the_exit_code_means() -> None:
    app = typer.Typer()
    app.command()(reconcile)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit code 1 when anything differs" in result.output
