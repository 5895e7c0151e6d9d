"""The project's own client (bisync.intacct) against the sandbox: sessions, paging, idempotent
writes after a lost response, transactions, retries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import SecretStr

from bisync.intacct import (
    AuthenticationError,
    BusinessError,
    CompanyLimiter,
    Credentials,
    F,
    IntacctClient,
    OutcomeStatus,
    RetryPolicy,
)
from bisync.intacct import functions as fn
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD

from .conftest import Gateway, Response


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


def invoiced_customer(client: IntacctClient, n: int, amount: Decimal, name: str) -> str:
    """Customer CL-<n> with one E100 invoice CL-INV-<n> of `amount`; returns the invoice key."""
    client.run(fn.create_customer(fn.CustomerInput(customer_id=f"CL-{n}", name=name), controlid=f"c-cl-{n}"))
    invoice = fn.InvoiceInput(
        customerid=f"CL-{n}",
        datecreated=dt.date(2024, 8, 1),
        termname="N30",
        invoiceno=f"CL-INV-{n}",
        lines=(fn.InvoiceLineInput(glaccountno="4000", amount=amount, locationid="E100"),),
    )
    key = client.run(fn.create_invoice(invoice, controlid=f"inv-cl-{n}")).key
    assert key
    return key


def eft_payment(n: int, *details: fn.ArPaymentDetailInput) -> fn.ArPymtInput:
    return fn.ArPymtInput(
        customer_id=f"CL-{n}",
        payment_method="EFT",
        receipt_date=dt.date(2024, 8, 3),
        bank_account_id="BOA-CHK",
        details=details,
    )


def test_invoice_payment_and_transaction_rollback(client: IntacctClient, gw: Gateway) -> None:
    key = invoiced_customer(client, 1, Decimal("99.99"), "Client")
    payment = eft_payment(1, fn.ArPaymentDetailInput(invoice_key=key, amount=Decimal("99.99")))
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


def test_wrong_sender_password_is_an_authentication_error_sent_once(
    client: IntacctClient, gw: Gateway
) -> None:
    client.credentials = client.credentials.model_copy(
        update={"sender_password": SecretStr("wrong-sender-pw")}
    )
    with pytest.raises(AuthenticationError) as info:
        list(client.query("ARTERM", ["NAME"]))
    err = info.value
    assert err.http_status == 401
    assert err.errorno == "XMLGW_JPP0002"
    assert err.description == "Sign-in information is incorrect. Please check your request."
    text = f"{err} {err!r} {err.args}"
    assert "wrong-sender-pw" not in text
    assert USER_PASSWORD not in text
    # One HTTP request (the login): not retried, no re-login.
    assert gw.admin("counters", None)[COMPANY_ID]["requests"] == 1


def test_wrong_sender_password_on_a_live_session_relogs_in_once(client: IntacctClient, gw: Gateway) -> None:
    assert list(client.query("ARTERM", ["NAME"]))  # login + one query
    client.credentials = client.credentials.model_copy(
        update={"sender_password": SecretStr("wrong-sender-pw")}
    )
    with pytest.raises(AuthenticationError) as info:
        list(client.query("ARTERM", ["NAME"]))
    assert info.value.errorno == "XMLGW_JPP0002"
    # The session request, one fresh login, then it gives up.
    assert gw.admin("counters", None)[COMPANY_ID]["requests"] == 2 + 2


@pytest.mark.parametrize(
    "override",
    [{"sender_id": "nobody"}, {"user_password": SecretStr("wrong")}],
    ids=["unknown-sender-control-level", "bad-user-password-authentication-level"],
)
def test_xml_level_sign_in_failures_are_authentication_errors(
    client: IntacctClient, gw: Gateway, override: dict[str, object]
) -> None:
    client.credentials = client.credentials.model_copy(update=override)
    with pytest.raises(AuthenticationError) as info:
        list(client.query("ARTERM", ["NAME"]))
    assert info.value.http_status == 200
    assert info.value.errorno == "XL03000006"
    assert gw.admin("counters", None)[COMPANY_ID]["requests"] == 1


def test_remaining_functions_and_error_shapes_through_the_client(client: IntacctClient) -> None:
    """readByName, update, delete, the legacy A/R and Order Entry functions and the business
    error shapes, each through the real client (the raw-XML tests cover the details)."""
    day = dt.date(2024, 8, 1)
    client.run(fn.create_customer(fn.CustomerInput(customer_id="RF-1", name="Before"), controlid="rf-c1"))
    client.run(
        fn.update_customer(fn.CustomerInput(customer_id="RF-1", name="After & <co>"), controlid="rf-u1")
    )
    [cust] = client.execute([fn.read_by_name("CUSTOMER", ["RF-1"], ["RECORDNO", "NAME"])])[0].records
    assert cust["NAME"] == "After & <co>"

    dup = client.execute(
        [fn.create_customer(fn.CustomerInput(customer_id="RF-1", name="x"), controlid="rf-c2")]
    )
    assert isinstance(dup[0].error, BusinessError)
    assert dup[0].error.errorno == "BL01001973"
    assert "Support ID" not in (dup[0].error.description2 or "")

    line = fn.InvoiceLineInput(glaccountno="4000", amount=Decimal(100), locationid="E100")
    inv = client.run(
        fn.create_invoice(
            fn.InvoiceInput(
                customerid="RF-1", datecreated=day, termname="N30", invoiceno="RF-I1", lines=(line,)
            ),
            controlid="rf-i1",
        )
    ).key
    assert inv
    closed = client.execute(
        [
            fn.create_invoice(
                fn.InvoiceInput(
                    customerid="RF-1", datecreated=dt.date(2019, 6, 1), termname="N30", lines=(line,)
                ),
                controlid="rf-i0",
            )
        ]
    )[0]
    assert isinstance(closed.error, BusinessError)
    assert "closed period" in closed.error.message

    adj_line = fn.AdjustmentLineInput(glaccountno="4000", amount=Decimal(-5), locationid="E100")
    adj = client.run(
        fn.create_aradjustment(
            fn.AdjustmentInput(customerid="RF-1", datecreated=day, lines=(adj_line,)), controlid="rf-a1"
        )
    ).key
    assert adj
    client.run(fn.delete_aradjustment(adj, controlid="rf-a1-del"))
    assert client.read("ARADJUSTMENT", [adj]) == []

    advance = client.run(
        fn.create_arpayment(
            fn.ArPaymentInput(
                customerid="RF-1",
                paymentamount=Decimal(150),
                datereceived=day,
                paymentmethod="Printed Check",
                bankaccountid="BOA-CHK",
            ),
            controlid="rf-p1",
        )
    ).key
    assert advance
    application = fn.PaymentApplicationInput(invoicekey=inv, amount=Decimal(100))
    client.run(fn.apply_arpayment(advance, day, [application], controlid="rf-p1-apply"))
    assert client.read("ARINVOICE", [inv], ["STATE"])[0]["STATE"] == "Paid"
    client.run(fn.reverse_arpayment(advance, dt.date(2024, 8, 2), controlid="rf-p1-rev"))
    assert client.read("ARPYMT", [advance], ["STATE"])[0]["STATE"] == "V"
    assert client.read("ARINVOICE", [inv], ["STATE"])[0]["STATE"] == "Posted"
    rev = client.run(fn.reverse_invoice(inv, dt.date(2024, 8, 3), controlid="rf-i1-rev")).key
    assert rev
    assert rev != inv
    assert client.read("ARINVOICE", [inv], ["STATE"])[0]["STATE"] == "Reversed"

    so_line = fn.SoLineInput(itemid="WIDGET", quantity=Decimal(2), locationid="E100")
    tx = fn.SoTransactionInput(
        transactiontype="Sales Invoice",
        datecreated=day,
        customerid="RF-1",
        documentno="RF-SO1",
        lines=(so_line,),
    )
    docid = client.run(fn.create_sotransaction(tx, controlid="rf-so1")).key
    assert docid == "Sales Invoice-RF-SO1"
    [doc] = client.execute([fn.read_by_name("SODOCUMENT", [docid], ["PRRECORDKEY"])])[0].records
    first_ar = doc["PRRECORDKEY"]
    change = fn.SoTransactionUpdateInput(
        docid=docid, lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(3), line_num=1),)
    )
    client.run(fn.update_sotransaction(change, controlid="rf-so1-u1"))
    [doc] = client.execute([fn.read_by_name("SODOCUMENT", [docid], ["PRRECORDKEY", "TOTAL"])])[0].records
    assert doc["PRRECORDKEY"] != first_ar
    assert doc["TOTAL"] == "75"
    stale = client.execute([fn.reverse_invoice(first_ar, day, controlid="rf-stale")])[0]
    assert isinstance(stale.error, BusinessError)
    assert stale.error.errorno == "DL03000005"

    gone = client.run(
        fn.create_customer(fn.CustomerInput(customer_id="RF-2", name="Gone"), controlid="rf-c3")
    ).key
    assert gone
    client.run(fn.delete("CUSTOMER", [gone], controlid="rf-del"))
    assert client.read("CUSTOMER", [gone]) == []


def test_generic_payment_with_two_details_on_one_invoice_pays_it_in_full(client: IntacctClient) -> None:
    key = invoiced_customer(client, 3, Decimal(50), "Split")
    payment = eft_payment(
        3,
        fn.ArPaymentDetailInput(invoice_key=key, amount=Decimal(30)),
        fn.ArPaymentDetailInput(invoice_key=key, amount=Decimal(20)),
    )
    client.run(fn.create_arpymt(payment, controlid="pay-cl-3"))
    inv = client.read("ARINVOICE", [key], ["STATE", "TOTALPAID", "TOTALDUE"])[0]
    assert (inv["STATE"], inv["TOTALPAID"], inv["TOTALDUE"]) == ("Paid", "50", "0")


def test_void_finder_reads_reversed_payments_and_their_reversals(client: IntacctClient) -> None:
    inv = invoiced_customer(client, 4, Decimal(40), "Voids")
    payment = eft_payment(4, fn.ArPaymentDetailInput(invoice_key=inv, amount=Decimal(40)))
    pay = client.run(fn.create_arpymt(payment, controlid="pay-cl-4")).key
    assert pay
    rev = client.run(fn.reverse_arpayment(pay, dt.date(2024, 8, 5), controlid="rev-cl-4")).key
    with pytest.raises(BusinessError, match="is a reversal and cannot be reversed"):
        client.run(fn.reverse_arpayment(rev or "", dt.date(2024, 8, 6), controlid="rev-cl-4b"))
    voided = list(client.read_by_query("ARPAYMENT", ["RECORDNO", "STATE"], "STATE = 'V'", pagesize=1))
    assert sorted((r["RECORDNO"], r["STATE"]) for r in voided) == sorted([(pay, "V"), (rev, "V")])
    legacy = client.read("ARPAYMENT", [pay])[0]
    assert (legacy["STATE"], legacy["PAYMENTTYPE"]) == ("V", "EFT")
    assert legacy["INVOICES"]["RECORD"] == inv


@pytest.mark.parametrize("optional", [{}, {"policyid": "p-1", "debug": True}])
def test_bisync_control_blocks_pass_the_schema_check(gw: Gateway, optional: dict[str, object]) -> None:
    from bisync.intacct.xml import ControlBlock, FunctionCall, LoginAuth, build_request

    control = ControlBlock(
        senderid=SENDER_ID,
        password=SecretStr(SENDER_PASSWORD),
        controlid="req-1",
        uniqueid=True,
        **optional,  # type: ignore[arg-type]
    )
    auth = LoginAuth(userid=USER_ID, companyid=COMPANY_ID, password=SecretStr(USER_PASSWORD))
    body = build_request(control, auth, [FunctionCall("getAPISession", "f-1")])
    resp = Response(gw.raw(body))
    assert resp.control_status == "success", resp.http.text
    assert resp.ok().findtext("data/api/sessionid")
