"""Function builders: strict legacy element order, split dates, the filter grammar."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
import pytest
from pydantic import SecretStr

from bisync.intacct import functions as fn
from bisync.intacct.filters import F
from bisync.intacct.xml import ControlBlock, SessionAuth, build_request


def element(function: fn.Function) -> ET.Element:
    body = build_request(
        ControlBlock("s", SecretStr("p"), "c"), SessionAuth(SecretStr("x")), [function.call()]
    )
    func = SafeET.fromstring(body).find("operation/content/function")
    assert func is not None
    assert func.get("controlid") == function.controlid
    body_el: ET.Element = func[0]
    return body_el


def tags(el: ET.Element) -> list[str]:
    return [c.tag for c in el]


def test_create_invoice_order_dates_and_rounding() -> None:
    inv = fn.InvoiceInput(
        customerid="C-1",
        datecreated=date(2024, 7, 1),
        datedue=date(2024, 7, 31),
        invoiceno="INV-1",
        ponumber="PO",
        description="d",
        externalid="blixo:inv_1",
        currency="USD",
        lines=(
            fn.InvoiceLineInput(glaccountno="4000", amount=Decimal("10.005"), memo="m", locationid="E100"),
            fn.InvoiceLineInput(glaccountno="4010", amount=Decimal("-2")),
        ),
    )
    f = fn.create_invoice(inv, controlid="t:inv:1")
    el = element(f)
    assert el.tag == "create_invoice"
    assert tags(el) == [
        "customerid",
        "datecreated",
        "datedue",
        "invoiceno",
        "ponumber",
        "description",
        "externalid",
        "currency",
        "exchratetype",
        "invoiceitems",
    ]
    assert [(c.tag, c.text) for c in el.find("datecreated") or []] == [
        ("year", "2024"),
        ("month", "07"),
        ("day", "01"),
    ]
    lines = el.findall("invoiceitems/lineitem")
    assert tags(lines[0]) == ["glaccountno", "amount", "memo", "locationid"]
    assert [ln.findtext("amount") for ln in lines] == ["10.01", "-2.00"]
    assert f.is_write
    # The number and the customer: numbers are unique per customer only.
    assert f.lookup == fn.Lookup("ARINVOICE", (("RECORDID", "INV-1"), ("CUSTOMERID", "C-1")))


def test_create_invoice_needs_lines_and_due_date_or_terms() -> None:
    base: dict[str, Any] = {"customerid": "C", "datecreated": date(2024, 1, 1)}
    with pytest.raises(ValueError, match="line"):
        fn.create_invoice(fn.InvoiceInput(**base, termname="N30", lines=()), controlid="x")
    line = fn.InvoiceLineInput(glaccountno="4000", amount=Decimal(1))
    with pytest.raises(ValueError, match="datedue or termname"):
        fn.create_invoice(fn.InvoiceInput(**base, lines=(line,)), controlid="x")


def test_adjustment_payment_and_reversals() -> None:
    adj = fn.create_aradjustment(
        fn.AdjustmentInput(
            customerid="C",
            datecreated=date(2024, 2, 3),
            adjustmentno="CM-1",
            lines=(fn.AdjustmentLineInput(glaccountno="4000", amount=Decimal("-5")),),
        ),
        controlid="a",
    )
    el = element(adj)
    assert tags(el) == ["customerid", "datecreated", "adjustmentno", "aradjustmentitems"]
    assert el.findtext("aradjustmentitems/lineitem/amount") == "-5.00"

    pay = element(
        fn.create_arpayment(
            fn.ArPaymentInput(
                customerid="C",
                paymentamount=Decimal("30"),
                datereceived=date(2024, 3, 4),
                paymentmethod="Printed Check",
                bankaccountid="BOA",
                refid="CHK-1",
                applications=(
                    fn.PaymentApplicationInput(invoicekey="11", amount=Decimal("10")),
                    fn.PaymentApplicationInput(invoicekey="12", amount=Decimal("20")),
                ),
            ),
            controlid="p",
        )
    )
    assert tags(pay) == [
        "customerid",
        "paymentamount",
        "bankaccountid",
        "refid",
        "datereceived",
        "paymentmethod",
        "arpaymentitem",
        "arpaymentitem",
    ]
    assert [i.findtext("invoicekey") for i in pay.findall("arpaymentitem")] == ["11", "12"]

    apply = element(
        fn.apply_arpayment(
            "77",
            date(2024, 3, 5),
            [fn.PaymentApplicationInput(invoicekey="11", amount=Decimal(1))],
            controlid="ap",
        )
    )
    assert tags(apply) == ["arpaymentkey", "paymentdate", "arpaymentitems"]

    for builder, name in (
        (fn.reverse_arpayment, "reverse_arpayment"),
        (fn.reverse_invoice, "reverse_invoice"),
    ):
        rev = element(builder("77", date(2024, 3, 6), controlid="r", description="void"))
        assert rev.tag == name
        assert rev.get("key") == "77"
        assert tags(rev) == ["datereversed", "description"]
    assert element(fn.delete_aradjustment("9", controlid="d")).get("key") == "9"


def test_sotransaction_create_and_update() -> None:
    create = element(
        fn.create_sotransaction(
            fn.SoTransactionInput(
                transactiontype="Sales Invoice",
                datecreated=date(2024, 5, 6),
                customerid="C",
                documentno="SI-1",
                datedue=date(2024, 6, 5),
                state="Pending",
                lines=(fn.SoLineInput(itemid="SKU", quantity=Decimal("2"), price=Decimal("9.999")),),
            ),
            controlid="so",
        )
    )
    assert tags(create) == [
        "transactiontype",
        "datecreated",
        "customerid",
        "documentno",
        "datedue",
        "state",
        "sotransitems",
    ]
    assert tags(create.find("sotransitems/sotransitem") or ET.Element("x")) == ["itemid", "quantity", "price"]
    update = element(
        fn.update_sotransaction(
            fn.SoTransactionUpdateInput(
                docid="Sales Invoice-SI-1",
                lines=(
                    fn.SoLineInput(itemid="SKU", quantity=Decimal(3), line_num=1),
                    fn.SoLineInput(itemid="NEW", quantity=Decimal(1)),
                ),
            ),
            controlid="so-u",
        )
    )
    assert update.get("key") == "Sales Invoice-SI-1"
    assert update.find("updatesotransitems/updatesotransitem") is not None
    assert update.find("updatesotransitems/updatesotransitem").get("line_num") == "1"  # type: ignore[union-attr]
    assert update.findtext("updatesotransitems/sotransitem/itemid") == "NEW"


def test_generic_arpymt_uses_mmddyyyy_dates() -> None:
    el = element(
        fn.create_arpymt(
            fn.ArPymtInput(
                customer_id="C",
                payment_method="EFT",
                receipt_date=date(2024, 7, 9),
                bank_account_id="BOA",
                doc_number="R-1",
                details=(fn.ArPaymentDetailInput(invoice_key="11", amount=Decimal("3.333")),),
            ),
            controlid="x",
        )
    )
    assert el.findtext("ARPYMT/RECEIPTDATE") == "07/09/2024"
    assert el.findtext("ARPYMT/ARPYMTDETAILS/ARPYMTDETAIL/TRX_PAYMENTAMOUNT") == "3.33"


def test_filter_grammar() -> None:
    when = datetime(2024, 7, 1, 9, 5, 0)
    filt = F.and_(
        F.eq("STATUS", "active"),
        F.ne("NAME", "x"),
        F.lt("A", 1),
        F.lte("B", 2),
        F.gt("C", 3),
        F.gte("WHENMODIFIED", when),
        F.between("WHENCREATED", date(2024, 1, 1), date(2024, 12, 31)),
        F.in_("CUSTOMERID", ["C1", "C2"]),
        F.not_in("STATE", ["V"]),
        F.like("NAME", "A%"),
        F.not_like("NAME", "B%"),
        F.is_null("PARENTID"),
        F.is_not_null("EMAIL"),
        F.or_(F.eq("X", "1"), F.and_(F.eq("Y", "2"), F.eq("Z", "3"))),
    )
    el = element(fn.query("CUSTOMER", ["RECORDNO"], filter=filt)).find("filter")
    assert el is not None
    assert len(el) == 1
    top = el[0]
    assert top.tag == "and"
    assert sorted(tags(top)) == sorted(
        [
            "equalto",
            "notequalto",
            "lessthan",
            "lessthanorequalto",
            "greaterthan",
            "greaterthanorequalto",
            "between",
            "in",
            "notin",
            "like",
            "notlike",
            "isnull",
            "isnotnull",
            "or",
        ]
    )
    assert top.findtext("greaterthanorequalto/value") == "07/01/2024 09:05:00"
    assert [v.text for v in top.findall("between/value")] == ["01/01/2024", "12/31/2024"]
    assert [v.text for v in top.findall("in/value")] == ["C1", "C2"]
    assert top.find("isnull/value") is None
    assert [e.findtext("field") for e in top.findall("or/and/equalto")] == ["Y", "Z"]


def test_query_and_read_limits() -> None:
    with pytest.raises(ValueError, match="pagesize"):
        fn.query("CUSTOMER", ["RECORDNO"], pagesize=2001)
    with pytest.raises(ValueError, match="fields"):
        fn.query("CUSTOMER", [])
    with pytest.raises(ValueError, match="100"):
        fn.read("CUSTOMER", [str(i) for i in range(101)])
    with pytest.raises(ValueError, match="pagesize"):
        fn.read_by_query("CUSTOMER", pagesize=1001)
    q = element(
        fn.query(
            "CUSTOMER",
            ["RECORDNO"],
            order_by=[("WHENMODIFIED", True), ("RECORDNO", False)],
            show_private=True,
        )
    )
    assert tags(q) == ["object", "select", "orderby", "options", "pagesize", "offset"]
    orders = q.findall("orderby/order")
    assert [tags(o) for o in orders] == [["field", "ascending"], ["field", "descending"]]
    assert q.findtext("options/showprivate") == "true"
