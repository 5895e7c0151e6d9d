"""update_invoice / update_aradjustment with Intacct's locks, overpayments, credit-only payments,
reversals and deletes of applied credits, and the in-flight high-water marks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from xml.etree.ElementTree import Element

import requests

from sandbox.intacct import COMPANY_ID

from .conftest import Gateway, Response, legacy_date

_LINE_FIELDS = (
    "LINE_NO",
    "ACCOUNTNO",
    "AMOUNT",
    "ENTRYDESCRIPTION",
    "LOCATIONID",
    "DEPARTMENTID",
    "PROJECTID",
    "CLASSID",
)


def _state(gw: Gateway, key: str, obj: str = "ARINVOICE") -> tuple[str, str, str]:
    rec = gw.read(obj, key, "STATE,TOTALPAID,TOTALDUE")
    return rec.findtext("STATE", ""), rec.findtext("TOTALPAID", ""), rec.findtext("TOTALDUE", "")


def _customer_due(gw: Gateway, cid: str) -> str:
    data = gw.call(
        f"<readByName><object>CUSTOMER</object><keys>{cid}</keys><fields>TOTALDUE</fields></readByName>"
    ).data()
    return data.findtext("CUSTOMER/TOTALDUE", "")


def _lines(rec: Element, container: str = "ARINVOICEITEMS/arinvoiceitem") -> list[tuple[str, ...]]:
    return [tuple(item.findtext(f, "") for f in _LINE_FIELDS) for item in rec.findall(container)]


def _two_line_invoice(gw: Gateway, cid: str, date: str = "2024-07-01") -> str:
    return gw.call(
        f"<create_invoice><customerid>{cid}</customerid>{legacy_date(date, 'datecreated')}"
        "<termname>N30</termname><invoiceno>INV-1</invoiceno><ponumber>PO-1</ponumber>"
        "<description>Original</description><invoiceitems>"
        "<lineitem><glaccountno>4000</glaccountno><amount>100.00</amount><memo>First</memo>"
        "<locationid>E100</locationid></lineitem>"
        "<lineitem><glaccountno>4000</glaccountno><amount>50.00</amount><memo>Second</memo>"
        "<locationid>E100</locationid></lineitem>"
        "</invoiceitems></create_invoice>"
    ).key()


def _update_invoice(key: str, body: str, attrs: str = "") -> str:
    return f'<update_invoice key="{key}"{attrs}>{body}</update_invoice>'


def _payment(cid: str, *items: tuple[str, str], amount: str, extra: str = "") -> str:
    rows = "".join(
        f"<arpaymentitem><invoicekey>{k}</invoicekey><amount>{a}</amount></arpaymentitem>" for k, a in items
    )
    return (
        f"<create_arpayment><customerid>{cid}</customerid><paymentamount>{amount}</paymentamount>"
        f"<bankaccountid>BOA-CHK</bankaccountid><refid>CHK-1</refid>{extra}"
        f"{legacy_date('2024-07-15', 'datereceived')}<paymentmethod>Printed Check</paymentmethod>"
        f"{rows}</create_arpayment>"
    )


def _reverse_payment(gw: Gateway, key: str) -> None:
    gw.call(
        f'<reverse_arpayment key="{key}">{legacy_date("2024-07-25", "datereversed")}</reverse_arpayment>'
    ).ok()


def _credit_memo(gw: Gateway, cid: str, amount: str = "-50") -> str:
    return gw.call(
        f"<create_aradjustment><customerid>{cid}</customerid>{legacy_date('2024-07-02', 'datecreated')}"
        "<adjustmentno>CN-1</adjustmentno><description>Credit</description><aradjustmentitems><lineitem>"
        f"<glaccountno>4000</glaccountno><amount>{amount}</amount><memo>Refund</memo>"
        "<locationid>E100</locationid></lineitem></aradjustmentitems></create_aradjustment>"
    ).key()


def _credit_payment(gw: Gateway, cid: str, invoice: str, credit: str, *, amount: str, desc: str) -> str:
    """Generic ARPYMT whose only detail applies a credit memo to an invoice (no cash)."""
    resp = gw.call(
        "<create><ARPYMT><PAYMENTMETHOD>Cash</PAYMENTMETHOD>"
        f"<CUSTOMERID>{cid}</CUSTOMERID><RECEIPTDATE>07/20/2024</RECEIPTDATE>"
        f"<UNDEPOSITEDACCOUNTNO>1500</UNDEPOSITEDACCOUNTNO><DESCRIPTION>{desc}</DESCRIPTION>"
        f"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>{invoice}</RECORDKEY><ADJUSTMENTKEY>{credit}</ADJUSTMENTKEY>"
        f"<TRX_ADJUSTMENTAMOUNT>{amount}</TRX_ADJUSTMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></ARPYMT></create>"
    )
    return resp.data().findtext("arpymt/RECORDNO", "")


def _refused(resp: Response, text: str, label: str = "Invoice") -> None:
    errs = resp.errors()
    assert resp.result().findtext("status") == "failure", resp.http.text
    assert [e["errorno"] for e in errs] == ["BL01001973", "BL01001973"], errs
    assert text in errs[0]["description2"], errs[0]["description2"]
    assert errs[1]["description2"] == f"Could not update {label} record!"


def _schema_error(resp: Response, text: str) -> None:
    errs = resp.errors()
    assert errs[0]["errorno"] == "XL03000003", errs
    assert text in errs[0]["description2"], errs[0]["description2"]


def _backdate(gw: Gateway, obj: str, key: str) -> None:
    """WHENMODIFIED has one-second resolution: move it back instead of sleeping."""
    store = gw.handle.sandbox.store
    with store.lock:
        rec = store.get(COMPANY_ID, obj, int(key))
        assert rec is not None
        rec["WHENMODIFIED"] = "2020-01-01 00:00:00"
        store.update(COMPANY_ID, obj, rec, stamp=False)


# -- update_invoice -------------------------------------------------------------------------------
def test_update_unapplied_invoice_changes_header_and_lines(gw: Gateway) -> None:
    gw.customer("U1")
    inv = _two_line_invoice(gw, "U1")
    assert _customer_due(gw, "U1") == "150"
    _backdate(gw, "ARINVOICE", inv)
    before = gw.admin("counters", None)[COMPANY_ID]["transactions"]
    resp = gw.call(
        _update_invoice(
            inv,
            f"{legacy_date('2024-07-10', 'datecreated')}<termname>N15</termname><invoiceno>INV-9</invoiceno>"
            "<ponumber>PO-9</ponumber><description>Edited</description><updateinvoiceitems>"
            '<updatelineitem line_num="1"><glaccountno>4100</glaccountno><amount>80.255</amount>'
            "<memo>Changed</memo><locationid>E200</locationid><departmentid>D1</departmentid>"
            "<projectid>P1</projectid><classid>C1</classid></updatelineitem>"
            '<updatelineitem line_num="2"><amount>0</amount><memo>(removed)</memo></updatelineitem>'
            "<lineitem><glaccountno>4000</glaccountno><amount>19.99</amount><memo>Added</memo>"
            "<locationid>E100</locationid></lineitem></updateinvoiceitems>",
        )
    )
    assert resp.key() == inv
    assert gw.admin("counters", None)[COMPANY_ID]["transactions"] == before + 1
    rec = gw.read("ARINVOICE", inv)
    assert {
        f: rec.findtext(f)
        for f in (
            "RECORDID",
            "DOCNUMBER",
            "DESCRIPTION",
            "TERMNAME",
            "WHENCREATED",
            "WHENPOSTED",
            "WHENDUE",
            "TOTALENTERED",
            "TRX_TOTALENTERED",
            "TOTALPAID",
            "TOTALDUE",
            "TRX_TOTALDUE",
            "STATE",
        )
    } == {
        "RECORDID": "INV-9",
        "DOCNUMBER": "PO-9",
        "DESCRIPTION": "Edited",
        "TERMNAME": "N15",
        "WHENCREATED": "07/10/2024",
        "WHENPOSTED": "07/10/2024",
        "WHENDUE": "07/25/2024",
        # 80.255 rounds half up to 80.26: 80.26 + 0 + 19.99
        "TOTALENTERED": "100.25",
        "TRX_TOTALENTERED": "100.25",
        "TOTALPAID": "0",
        "TOTALDUE": "100.25",
        "TRX_TOTALDUE": "100.25",
        "STATE": "Posted",
    }
    assert _lines(rec) == [
        ("1", "4100", "80.26", "Changed", "E200", "D1", "P1", "C1"),
        ("2", "4000", "0", "(removed)", "E100", "", "", ""),
        ("3", "4000", "19.99", "Added", "E100", "", "", ""),
    ]
    assert {i.findtext("ENTRY_DATE") for i in rec.findall("ARINVOICEITEMS/arinvoiceitem")} == {"07/10/2024"}
    assert rec.findtext("WHENMODIFIED", "")[6:10] != "2020"
    assert _customer_due(gw, "U1") == "100.25"
    # A payment now sees the new amount due.
    over = gw.call(_payment("U1", (inv, "100.26"), amount="100.26"))
    assert "more than the amount due" in over.errors()[0]["description2"]
    gw.call(_payment("U1", (inv, "100.25"), amount="100.25")).ok()
    assert _state(gw, inv) == ("Paid", "100.25", "0")


def test_update_can_change_the_customer_of_an_unapplied_invoice(gw: Gateway) -> None:
    gw.customer("C1")
    gw.customer("C2")
    inv = gw.invoice("C1", "42.10")
    gw.call(_update_invoice(inv, "<customerid>C2</customerid>")).ok()
    rec = gw.read("ARINVOICE", inv)
    assert rec.findtext("CUSTOMERID") == "C2"
    assert rec.findtext("ARINVOICEITEMS/arinvoiceitem/CUSTOMERID") == "C2"
    assert (_customer_due(gw, "C1"), _customer_due(gw, "C2")) == ("0", "42.1")
    unknown = gw.call(_update_invoice(inv, "<customerid>NOPE</customerid>"))
    _refused(unknown, "Invalid Customer NOPE")


def test_partially_paid_invoice_allows_only_non_gl_fields(gw: Gateway) -> None:
    gw.customer("P1")
    inv = _two_line_invoice(gw, "P1")
    gw.call(_payment("P1", (inv, "40"), amount="40")).ok()
    assert _state(gw, inv) == ("Partially Paid", "40", "110")
    lines = gw.call(
        _update_invoice(
            inv,
            "<description>Sneaky</description><updateinvoiceitems>"
            '<updatelineitem line_num="1"><memo>only a memo</memo></updatelineitem></updateinvoiceitems>',
        )
    )
    _refused(lines, f"Invoice {inv} has payments applied; its line items cannot be changed.")
    added = gw.call(
        _update_invoice(
            inv,
            "<updateinvoiceitems><lineitem><glaccountno>4000</glaccountno><amount>1</amount>"
            "<locationid>E100</locationid></lineitem></updateinvoiceitems>",
        )
    )
    _refused(added, "its line items cannot be changed")
    dated = gw.call(_update_invoice(inv, legacy_date("2024-07-05", "datecreated")))
    _refused(dated, f"Invoice {inv} has payments applied; its date cannot be changed.")
    moved = gw.call(
        _update_invoice(
            inv,
            "<customerid>P1</customerid><currency>CAD</currency>"
            "<exchratetype>Intacct Daily Rate</exchratetype>",
        )
    )
    _refused(moved, "its currency cannot be changed")
    rec = gw.read("ARINVOICE", inv)
    assert rec.findtext("DESCRIPTION") == "Original"  # the refused request changed nothing
    assert [i.findtext("ENTRYDESCRIPTION") for i in rec.findall("ARINVOICEITEMS/arinvoiceitem")] == [
        "First",
        "Second",
    ]
    ok = gw.call(
        _update_invoice(
            inv,
            # the same invoice date is no change, so it is allowed
            f"{legacy_date('2024-07-01', 'datecreated')}{legacy_date('2024-09-30', 'datedue')}"
            "<termname>N15</termname><invoiceno>INV-77</invoiceno><ponumber>PO-77</ponumber>"
            "<description>Renamed</description>",
        )
    )
    assert ok.key() == inv
    rec = gw.read("ARINVOICE", inv)
    assert (
        rec.findtext("RECORDID"),
        rec.findtext("DOCNUMBER"),
        rec.findtext("DESCRIPTION"),
        rec.findtext("TERMNAME"),
        rec.findtext("WHENDUE"),
        rec.findtext("WHENCREATED"),
    ) == ("INV-77", "PO-77", "Renamed", "N15", "09/30/2024", "07/01/2024")
    assert _state(gw, inv) == ("Partially Paid", "40", "110")
    assert _customer_due(gw, "P1") == "110"


def test_lines_stay_locked_after_the_payment_is_reversed_and_reverse_invoice_works(gw: Gateway) -> None:
    gw.customer("R1")
    inv = gw.invoice("R1", "75.50")
    pay = gw.call(_payment("R1", (inv, "75.50"), amount="75.50")).key()
    assert _state(gw, inv) == ("Paid", "75.5", "0")
    _reverse_payment(gw, pay)
    assert _state(gw, inv) == ("Posted", "0", "75.5")
    resp = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="1"><amount>70</amount></updatelineitem>'
            "</updateinvoiceitems>",
        )
    )
    _refused(resp, "line items stay locked after a reversal")
    _refused(
        gw.call(_update_invoice(inv, legacy_date("2024-07-03", "datecreated"))), "date cannot be changed"
    )
    gw.call(_update_invoice(inv, "<description>Still editable</description>")).ok()
    assert gw.read("ARINVOICE", inv, "DESCRIPTION").findtext("DESCRIPTION") == "Still editable"
    # (c) reverse_invoice of an invoice whose payment was reversed is allowed.
    rev = gw.call(
        f'<reverse_invoice key="{inv}">{legacy_date("2024-07-26", "datereversed")}'
        "<description>Voided</description></reverse_invoice>"
    ).key()
    assert rev != inv
    assert gw.read("ARINVOICE", inv, "STATE").findtext("STATE") == "Reversed"
    assert gw.read("ARINVOICE", rev, "STATE,TOTALENTERED").findtext("TOTALENTERED") == "-75.5"
    assert _customer_due(gw, "R1") == "0"
    _refused(
        gw.call(_update_invoice(inv, "<description>x</description>")), "is reversed and cannot be updated"
    )
    _refused(
        gw.call(_update_invoice(rev, "<description>x</description>")), "is a reversal and cannot be updated"
    )


def test_update_invoice_errors_change_nothing(gw: Gateway) -> None:
    gw.customer("E1")
    inv = gw.invoice("E1", "100")
    unknown = gw.call(_update_invoice("999999", "<description>x</description>"))
    errs = unknown.errors()
    assert errs[0]["errorno"] == "DL03000005"
    assert errs[0]["description2"].startswith("No record exists for the invoicekey 999999")
    assert errs[-1]["description2"] == "Could not update Invoice record!"
    assert gw.call(_update_invoice("abc", "")).errors()[0]["errorno"] == "DL03000005"
    no_line = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="2"><amount>5</amount></updatelineitem>'
            "</updateinvoiceitems>",
        )
    )
    _refused(no_line, f"Line 2 does not exist on invoice {inv} (it has 1 line).")
    _refused(gw.call(_update_invoice(inv, legacy_date("2019-12-31", "datecreated"))), "is in a closed period")
    bad_gl = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="1"><glaccountno>9999</glaccountno>'
            "</updatelineitem></updateinvoiceitems>",
        )
    )
    _refused(bad_gl, "Invalid GL account 9999 on line 1.")
    no_location = gw.call(
        _update_invoice(
            inv,
            "<updateinvoiceitems><lineitem><glaccountno>4000</glaccountno><amount>5</amount></lineitem>"
            "</updateinvoiceitems>",
        )
    )
    _refused(no_location, "Location is required on line 2")
    bad_term = gw.call(_update_invoice(inv, "<termname>N99</termname>"))
    _refused(bad_term, "Invalid term N99.")
    draft = gw.call(_update_invoice(inv, "<action>Draft</action>"))
    _refused(draft, "cannot go back to Draft")
    bad_amount = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="1"><amount>1_000</amount></updatelineitem>'
            "</updateinvoiceitems>",
        )
    )
    assert bad_amount.errors()[0]["errorno"] == "DL02000001"
    assert _state(gw, inv) == ("Posted", "0", "100")
    assert gw.read("ARINVOICE", inv, "WHENCREATED").findtext("WHENCREATED") == "07/01/2024"


def test_update_invoice_schema(gw: Gateway) -> None:
    gw.customer("S1")
    inv = gw.invoice("S1", "10")
    cases = {
        # description before invoiceno: out of order
        "<description>d</description><invoiceno>n</invoiceno>": "out of order in 'update_invoice'",
        # batchkey and externalid are not part of update_invoice in the 3.0 schema
        "<batchkey>1</batchkey>": "Element 'batchkey': This element is not expected.",
        "<externalid>x</externalid>": "Element 'externalid': This element is not expected.",
        "<updateinvoiceitems></updateinvoiceitems>": "Element 'updateinvoiceitems': Missing child element(s)",
        "<updateinvoiceitems><updatelineitem><amount>1</amount></updatelineitem></updateinvoiceitems>": (
            "The attribute 'line_num' is required but missing."
        ),
        '<updateinvoiceitems><updatelineitem line_num="1"><memo>m</memo><amount>1</amount>'
        "</updatelineitem></updateinvoiceitems>": "out of order in 'updatelineitem'",
        "<updateinvoiceitems><lineitem><glaccountno>4000</glaccountno><locationid>E100</locationid>"
        "</lineitem></updateinvoiceitems>": "Expected is ( amount )",
        "<updateinvoiceitems><item/></updateinvoiceitems>": "Element 'item': This element is not expected.",
        "<currency>USD</currency>": "Expected is one of ( exchratedate, exchratetype, exchrate )",
        "<exchratetype>Intacct Daily Rate</exchratetype>": "Expected is ( currency )",
    }
    for body, message in cases.items():
        _schema_error(gw.call(_update_invoice(inv, body)), message)
    _schema_error(
        gw.call("<update_invoice><description>x</description></update_invoice>"),
        "The attribute 'key' is required but missing.",
    )
    _schema_error(gw.call(_update_invoice(inv, "", ' set_nulls="yes"')), "attribute 'set_nulls'")
    # lineitem and updatelineitem may be mixed in any order (the xsd's choice)
    gw.call(
        _update_invoice(
            inv,
            "<updateinvoiceitems><lineitem><glaccountno>4000</glaccountno><amount>2.5</amount>"
            '<locationid>E100</locationid></lineitem><updatelineitem line_num="1"><amount>7.5</amount>'
            "</updatelineitem></updateinvoiceitems>",
        )
    ).ok()
    assert _state(gw, inv) == ("Posted", "0", "10")
    assert [
        i.findtext("AMOUNT") for i in gw.read("ARINVOICE", inv).findall("ARINVOICEITEMS/arinvoiceitem")
    ] == [
        "7.5",
        "2.5",
    ]


def test_set_nulls_clears_empty_elements(gw: Gateway) -> None:
    gw.customer("N1")
    inv = _two_line_invoice(gw, "N1")
    gw.call(_update_invoice(inv, "<ponumber></ponumber><description/>")).ok()
    rec = gw.read("ARINVOICE", inv, "DOCNUMBER,DESCRIPTION")
    assert (rec.findtext("DOCNUMBER"), rec.findtext("DESCRIPTION")) == ("PO-1", "Original")
    gw.call(
        _update_invoice(
            inv,
            '<description/><updateinvoiceitems><updatelineitem line_num="2"><memo/></updatelineitem>'
            "</updateinvoiceitems>",
            ' set_nulls="true"',
        )
    ).ok()
    rec = gw.read("ARINVOICE", inv)
    assert (rec.findtext("DOCNUMBER"), rec.findtext("DESCRIPTION")) == ("PO-1", "")
    assert [i.findtext("ENTRYDESCRIPTION") for i in rec.findall("ARINVOICEITEMS/arinvoiceitem")] == [
        "First",
        "",
    ]


def test_update_invoice_posted_by_order_entry_is_refused(gw: Gateway) -> None:
    gw.customer("O1")
    docid = gw.call(
        "<create_sotransaction><transactiontype>Sales Invoice</transactiontype>"
        f"{legacy_date('2024-07-05', 'datecreated')}<customerid>O1</customerid>"
        "<documentno>INV-0042</documentno><termname>N30</termname><sotransitems><sotransitem>"
        "<itemid>WIDGET</itemid><quantity>2</quantity><price>25</price><locationid>E100</locationid>"
        "</sotransitem></sotransitems></create_sotransaction>"
    ).key()
    ar = (
        gw.call(
            f"<readByName><object>SODOCUMENT</object><keys>{docid}</keys><fields>PRRECORDKEY</fields></readByName>"
        )
        .data()
        .findtext("SODOCUMENT/PRRECORDKEY", "")
    )
    resp = gw.call(_update_invoice(ar, "<description>x</description>"))
    _refused(resp, f"was posted by Order Entry ({docid})")
    assert "update_sotransaction" in resp.errors()[0]["correction"]


def test_update_invoice_in_an_entity(gw: Gateway) -> None:
    gw.customer("M1")
    sid = gw.session_id(entity="E100")
    entity = f"<sessionid>{sid}</sessionid>"
    inv = gw.call(gw.invoice_xml("M1", "20", location=""), auth=entity).key()
    # An entity session defaults new lines to its entity; another entity's location is refused.
    gw.call(
        _update_invoice(
            inv,
            "<updateinvoiceitems><lineitem><glaccountno>4000</glaccountno><amount>5</amount></lineitem>"
            "</updateinvoiceitems>",
        ),
        auth=entity,
    ).ok()
    wrong = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="1"><locationid>E200</locationid>'
            "</updatelineitem></updateinvoiceitems>",
        ),
        auth=entity,
    )
    _refused(wrong, "Location E200 is not in entity E100.")
    # The top level reaches the entity's invoice by key, and its lines stay in the entity.
    top = gw.call(
        _update_invoice(
            inv,
            '<updateinvoiceitems><updatelineitem line_num="2"><locationid>E200</locationid>'
            "</updatelineitem></updateinvoiceitems>",
        )
    )
    _refused(top, "Location E200 is not in entity E100.")
    other = gw.call(
        _update_invoice(inv, "<description>x</description>"),
        auth=f"<sessionid>{gw.session_id(entity='E200')}</sessionid>",
    )
    assert other.errors()[0]["errorno"] == "DL03000005"
    rec = gw.read("ARINVOICE", inv, auth=entity)
    assert [i.findtext("LOCATIONID") for i in rec.findall("ARINVOICEITEMS/arinvoiceitem")] == ["E100", "E100"]
    assert rec.findtext("TOTALDUE") == "25"


# -- update_aradjustment -----------------------------------------------------------------------------
def _update_adjustment(key: str, body: str) -> str:
    return f'<update_aradjustment key="{key}">{body}</update_aradjustment>'


def test_update_unapplied_credit_memo(gw: Gateway) -> None:
    gw.customer("A1")
    adj = _credit_memo(gw, "A1")
    assert _customer_due(gw, "A1") == "-50"
    gw.call(
        _update_adjustment(
            adj,
            f"{legacy_date('2024-07-12', 'datecreated')}<adjustmentno>CN-2</adjustmentno>"
            "<invoiceno>INV-5</invoiceno><description>Edited credit</description><updatearadjustmentitems>"
            '<updatelineitem line_num="1"><glaccountno>4950</glaccountno><amount>-30.10</amount>'
            "<memo>Less</memo><departmentid>D2</departmentid></updatelineitem>"
            "<lineitem><glaccountno>4000</glaccountno><amount>-5.45</amount><locationid>E200</locationid>"
            "</lineitem></updatearadjustmentitems>",
        )
    ).ok()
    rec = gw.read("ARADJUSTMENT", adj)
    assert (
        rec.findtext("RECORDID"),
        rec.findtext("DOCNUMBER"),
        rec.findtext("DESCRIPTION"),
        rec.findtext("WHENCREATED"),
        rec.findtext("TOTALENTERED"),
        rec.findtext("TOTALDUE"),
    ) == ("CN-2", "INV-5", "Edited credit", "07/12/2024", "-35.55", "-35.55")
    items = [
        tuple(
            i.findtext(f, "")
            for f in ("LINE_NO", "ACCOUNTNO", "AMOUNT", "ENTRYDESCRIPTION", "LOCATIONID", "DEPARTMENTID")
        )
        for i in rec.findall("ARADJUSTMENTITEMS/aradjustmentitem")
    ]
    assert items == [("1", "4950", "-30.1", "Less", "E100", "D2"), ("2", "4000", "-5.45", "", "E200", "")]
    assert _customer_due(gw, "A1") == "-35.55"
    # The sign rule: a credit memo stays negative.
    flip = gw.call(
        _update_adjustment(
            adj,
            '<updatearadjustmentitems><updatelineitem line_num="1"><amount>40</amount></updatelineitem>'
            "</updatearadjustmentitems>",
        )
    )
    _refused(flip, "is a credit memo; its total cannot become positive (34.55)", "Adjustment")
    assert _state(gw, adj, "ARADJUSTMENT")[2] == "-35.55"
    unknown = gw.call(_update_adjustment("888888", "<description>x</description>"))
    assert unknown.errors()[0]["errorno"] == "DL03000005"
    assert unknown.errors()[0]["description2"].startswith("No record exists for the adjustmentkey 888888")
    # update_aradjustment has no externalid, nogl, batchkey or customfields in the 3.0 schema.
    _schema_error(gw.call(_update_adjustment(adj, "<externalid>x</externalid>")), "Element 'externalid'")
    _schema_error(
        gw.call(_update_adjustment(adj, "<description>d</description><adjustmentno>n</adjustmentno>")),
        "out of order in 'update_aradjustment'",
    )


def test_applied_credit_memo_is_locked_until_unapplied(gw: Gateway) -> None:
    """(b) a credit-only generic ARPYMT, its query by DESCRIPTION and its reversal; (d) delete of an
    applied adjustment."""
    gw.customer("B1")
    inv = gw.invoice("B1", "120")
    adj = _credit_memo(gw, "B1")
    assert _customer_due(gw, "B1") == "70"
    pay = _credit_payment(gw, "B1", inv, adj, amount="30.25", desc="Credit CN-1 applied")
    assert _state(gw, inv) == ("Partially Paid", "30.25", "89.75")
    assert _state(gw, adj, "ARADJUSTMENT") == ("Partially Paid", "-30.25", "-19.75")
    assert _customer_due(gw, "B1") == "70"
    found = gw.call(
        "<query><object>ARPYMT</object><select><field>RECORDNO</field><field>PAYMENTMETHOD</field>"
        "<field>TOTALENTERED</field></select><filter><equalto><field>DESCRIPTION</field>"
        "<value>Credit CN-1 applied</value></equalto></filter></query>"
    ).data()
    assert found.get("count") == "1"
    assert [
        (r.findtext("RECORDNO"), r.findtext("PAYMENTMETHOD"), r.findtext("TOTALENTERED")) for r in found
    ] == [(pay, "Cash", "0")]
    locked = gw.call(
        _update_adjustment(
            adj,
            '<updatearadjustmentitems><updatelineitem line_num="1"><amount>-60</amount></updatelineitem>'
            "</updatearadjustmentitems>",
        )
    )
    _refused(locked, f"Adjustment {adj} is applied; its line items cannot be changed.", "Adjustment")
    _refused(
        gw.call(_update_adjustment(adj, legacy_date("2024-07-03", "datecreated"))),
        "its date cannot be changed",
        "Adjustment",
    )
    gw.call(_update_adjustment(adj, "<description>Renamed</description>")).ok()
    deleted = gw.call(f'<delete_aradjustment key="{adj}"></delete_aradjustment>')
    errs = deleted.errors()
    assert [e["errorno"] for e in errs] == ["BL01001973", "BL01001973"]
    assert "is applied (30.25 of 50)" in errs[0]["description2"]
    assert "unapply it first" in errs[0]["description2"]
    assert errs[1]["description2"] == "Could not delete Adjustment record!"
    generic = gw.call(f"<delete><object>ARADJUSTMENT</object><keys>{adj}</keys></delete>")
    assert "unapply it first" in generic.errors()[0]["description2"]
    _reverse_payment(gw, pay)
    assert _state(gw, inv) == ("Posted", "0", "120")
    assert _state(gw, adj, "ARADJUSTMENT") == ("Posted", "0", "-50")
    assert _customer_due(gw, "B1") == "70"
    # Unapplied again: the adjustment's lines may change (unlike an invoice's), and it can be deleted.
    gw.call(
        _update_adjustment(
            adj,
            '<updatearadjustmentitems><updatelineitem line_num="1"><amount>-60</amount></updatelineitem>'
            "</updatearadjustmentitems>",
        )
    ).ok()
    assert _state(gw, adj, "ARADJUSTMENT") == ("Posted", "0", "-60")
    gw.call(f'<delete_aradjustment key="{adj}"></delete_aradjustment>').ok()
    assert gw.call(f"<read><object>ARADJUSTMENT</object><keys>{adj}</keys></read>").data().get("count") == "0"
    assert _customer_due(gw, "B1") == "120"


def test_update_adjustment_from_order_entry_is_refused(gw: Gateway) -> None:
    gw.customer("OR1")
    docid = gw.call(
        "<create_sotransaction><transactiontype>Sales Return</transactiontype>"
        f"{legacy_date('2024-07-05', 'datecreated')}<customerid>OR1</customerid>"
        "<sotransitems><sotransitem><itemid>WIDGET</itemid><quantity>1</quantity><price>25</price>"
        "<locationid>E100</locationid></sotransitem></sotransitems></create_sotransaction>"
    ).key()
    ar = (
        gw.call(
            f"<readByName><object>SODOCUMENT</object><keys>{docid}</keys><fields>PRRECORDKEY</fields></readByName>"
        )
        .data()
        .findtext("SODOCUMENT/PRRECORDKEY", "")
    )
    _refused(
        gw.call(_update_adjustment(ar, "<description>x</description>")), "posted by Order Entry", "Adjustment"
    )


# -- payments -----------------------------------------------------------------------------------------
def test_create_arpayment_overpayment_with_overpay_elements(gw: Gateway) -> None:
    """(a) paymentamount above the applications: the rest stays on the payment as TOTALDUE."""
    gw.customer("OP1")
    one = gw.invoice("OP1", "100")
    two = gw.invoice("OP1", "40.40", invoiceno="INV-2")
    over = "<overpaylocid>E100</overpaylocid><overpaydeptid/>"
    pay = gw.call(_payment("OP1", (one, "60.10"), (two, "40.40"), amount="200.75", extra=over)).key()
    rec = gw.read("ARPYMT", pay, "TOTALENTERED,TOTALPAID,TOTALDUE,STATE")
    assert (rec.findtext("TOTALENTERED"), rec.findtext("TOTALPAID"), rec.findtext("TOTALDUE")) == (
        "200.75",
        "100.5",
        "100.25",
    )
    assert _state(gw, one) == ("Partially Paid", "60.1", "39.9")
    assert _state(gw, two) == ("Paid", "40.4", "0")
    # A pure overpayment: no arpaymentitem at all.
    pure = gw.call(_payment("OP1", amount="75.55", extra=over)).key()
    rec = gw.read("ARPYMT", pure, "TOTALENTERED,TOTALPAID,TOTALDUE")
    assert (rec.findtext("TOTALENTERED"), rec.findtext("TOTALPAID"), rec.findtext("TOTALDUE")) == (
        "75.55",
        "0",
        "75.55",
    )
    assert _state(gw, one) == ("Partially Paid", "60.1", "39.9")
    bad = gw.call(_payment("OP1", amount="1", extra="<overpaylocid>NOWHERE</overpaylocid>"))
    assert bad.errors()[0]["description2"].startswith("Invalid overpayment location NOWHERE.")
    assert bad.errors()[1]["description2"] == "Could not create Payment record!"
    # query of ARINVOICE by RECORDNO with the fields a sync checks before an update
    data = gw.call(
        "<query><object>ARINVOICE</object><select><field>RECORDNO</field><field>TOTALPAID</field>"
        "<field>TOTALDUE</field><field>STATE</field></select><filter><equalto><field>RECORDNO</field>"
        f"<value>{one}</value></equalto></filter><pagesize>1</pagesize></query>"
    ).data()
    assert data.get("totalcount") == "1"
    row = data.find("ARINVOICE")
    assert row is not None
    assert [(c.tag, c.text or "") for c in row] == [
        ("RECORDNO", one),
        ("TOTALPAID", "60.1"),
        ("TOTALDUE", "39.9"),
        ("STATE", "Partially Paid"),
    ]


# -- concurrency high-water marks ----------------------------------------------------------------------
def test_in_flight_high_water_marks(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=f"<sessionid>{gw.session_id()}</sessionid>")
    gw.admin("config", {"concurrency_limit": 2})
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert (counters["in_flight_max"], counters["in_flight_peak_attempted"]) == (1, 1)
    gw.admin("faults", {"latency_ms": 250})
    with ThreadPoolExecutor(4) as pool:
        responses = list(
            pool.map(lambda _: requests.post(gw.handle.gateway_url, data=body, timeout=10), range(4))
        )
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429]
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert counters["in_flight_max"] == 2
    assert counters["in_flight_peak_attempted"] >= 3
    assert counters["rate_limited"] == 2
    gw.admin("reset", {})
    assert gw.admin("counters", None) == {}
    gw.post(["<getAPISession/>"], auth=gw.login_xml()).ok()
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert (counters["in_flight_max"], counters["in_flight_peak_attempted"]) == (1, 1)


def test_externalkey_finds_the_record_by_its_externalid(gw: Gateway) -> None:
    gw.customer("X1")
    inv = gw.invoice("X1", "10", extra="<externalid>blixo-inv-1</externalid>")
    resp = gw.call(
        _update_invoice("blixo-inv-1", "<description>By external id</description>", ' externalkey="true"')
    )
    assert resp.key() == inv
    assert gw.read("ARINVOICE", inv, "DESCRIPTION").findtext("DESCRIPTION") == "By external id"
    missing = gw.call(_update_invoice(inv, "<description>x</description>", ' externalkey="true"'))
    assert missing.errors()[0]["errorno"] == "DL03000005"


def test_due_date_follows_the_term_unless_given(gw: Gateway) -> None:
    gw.customer("D1")
    inv = gw.invoice("D1", "10")  # 07/01/2024, N30

    def due() -> str:
        return gw.read("ARINVOICE", inv, "WHENDUE").findtext("WHENDUE", "")

    assert due() == "07/31/2024"
    gw.call(_update_invoice(inv, legacy_date("2024-08-15", "datedue"))).ok()
    assert due() == "08/15/2024"
    gw.call(_update_invoice(inv, legacy_date("2024-07-01", "datecreated"))).ok()  # same date: no change
    assert due() == "08/15/2024"
    gw.call(_update_invoice(inv, legacy_date("2024-07-05", "datecreated"))).ok()
    assert due() == "08/04/2024"
    gw.call(_update_invoice(inv, "<termname>DUE</termname>")).ok()
    assert due() == "07/05/2024"
