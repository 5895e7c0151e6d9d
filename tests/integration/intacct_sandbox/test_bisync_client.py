"""The project's own client (bisync.intacct) against the sandbox: sessions, paging, idempotent
writes after a lost response, transactions, retries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import SecretStr

from bisync.intacct import CompanyLimiter, Credentials, F, IntacctClient, OutcomeStatus, RetryPolicy
from bisync.intacct import functions as fn
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD

from .conftest import Gateway


@pytest.fixture
def client(gw: Gateway) -> IntacctClient:
    creds = Credentials(
        sender_id=SENDER_ID,
        sender_password=SecretStr(SENDER_PASSWORD),
        company_id=COMPANY_ID,
        user_id=USER_ID,
        user_password=SecretStr(USER_PASSWORD),
        endpoint_url=gw.handle.gateway_url,
    )
    return IntacctClient(
        creds, retry=RetryPolicy(attempts=4, sleep=lambda _s: None), limiter=CompanyLimiter(2)
    )


def test_session_and_reference_reads(client: IntacctClient) -> None:
    accounts = {r["ACCOUNTNO"]: r["TITLE"] for r in client.query("GLACCOUNT", ["ACCOUNTNO", "TITLE"])}
    assert accounts["1200"] == "Accounts Receivable"
    assert accounts["4900"] == "Convenience Fee Income"


def test_query_and_read_by_query_page_through_everything(client: IntacctClient, gw: Gateway) -> None:
    gw.admin("seed", {"customers": 2300, "invoices": 0, "payments": 0})
    ids = [r["CUSTOMERID"] for r in client.query("CUSTOMER", ["CUSTOMERID"], pagesize=1000)]
    assert len(ids) == 2300 == len(set(ids))
    filtered = list(client.query("CUSTOMER", ["CUSTOMERID"], filter=F.like("CUSTOMERID", "SEED-C00001%")))
    assert len(filtered) == 10
    rbq = [
        r["CUSTOMERID"]
        for r in client.read_by_query("CUSTOMER", ["CUSTOMERID"], "STATUS = 'active'", pagesize=400)
    ]
    assert sorted(rbq) == sorted(ids)


def test_idempotent_write_after_a_lost_response(client: IntacctClient, gw: Gateway) -> None:
    gw.admin("faults", {"rate_lost_response": 1, "seed": 1})
    customer = fn.CustomerInput(customer_id="IDEM-1", name="Exactly once <&>")
    outcome = client.run(fn.create_customer(customer, controlid="tenant-a:customer:IDEM-1:v1"))
    assert outcome.status is OutcomeStatus.ALREADY_DONE  # the first attempt committed, its reply was lost
    dump = gw.admin("dump?object=CUSTOMER", None)[COMPANY_ID]["CUSTOMER"]
    assert [c["CUSTOMERID"] for c in dump] == ["IDEM-1"]
    assert dump[0]["NAME"] == "Exactly once <&>"
    assert outcome.key == dump[0]["RECORDNO"]
    assert gw.admin("counters", None)[COMPANY_ID]["lost_responses"] == 1


def test_invoice_payment_and_transaction_rollback(client: IntacctClient, gw: Gateway) -> None:
    client.run(fn.create_customer(fn.CustomerInput(customer_id="CL-1", name="Client"), controlid="c-cl-1"))
    invoice = fn.InvoiceInput(
        customerid="CL-1",
        datecreated=dt.date(2024, 8, 1),
        termname="N30",
        invoiceno="CL-INV-1",
        lines=(fn.InvoiceLineInput(glaccountno="4000", amount=Decimal("99.99"), locationid="E100"),),
    )
    key = client.run(fn.create_invoice(invoice, controlid="inv-cl-1")).key
    assert key
    payment = fn.ArPymtInput(
        customer_id="CL-1",
        payment_method="EFT",
        receipt_date=dt.date(2024, 8, 3),
        bank_account_id="BOA-CHK",
        details=(fn.ArPaymentDetailInput(invoice_key=key, amount=Decimal("99.99")),),
    )
    client.run(fn.create_arpymt(payment, controlid="pay-cl-1"))
    inv = client.read("ARINVOICE", [key], ["STATE", "TOTALDUE"])[0]
    assert (inv["STATE"], inv["TOTALDUE"]) == ("Paid", "0")
    bad = fn.InvoiceInput(
        customerid="NOBODY",
        datecreated=dt.date(2024, 8, 1),
        termname="N30",
        lines=(fn.InvoiceLineInput(glaccountno="4000", amount=Decimal(1), locationid="E100"),),
    )
    outcomes = client.execute(
        [
            fn.create_customer(fn.CustomerInput(customer_id="CL-2", name="Rolled back"), controlid="c-cl-2"),
            fn.create_invoice(bad, controlid="inv-bad"),
        ],
        transaction=True,
    )
    assert [o.status for o in outcomes] == [OutcomeStatus.ABORTED, OutcomeStatus.FAILED]
    assert not list(client.query("CUSTOMER", ["CUSTOMERID"], filter=F.eq("CUSTOMERID", "CL-2")))


def test_transient_faults_are_retried(client: IntacctClient, gw: Gateway) -> None:
    # Seed 22 at rate 0.3: the first request gets a 5xx, the next several do not.
    gw.admin("faults", {"rate_5xx": 0.3, "seed": 22})
    assert list(client.query("ARTERM", ["NAME"]))
    assert gw.admin("counters", None)[COMPANY_ID]["faults_injected"] == 1
