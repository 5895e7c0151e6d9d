"""Writes: customers, A/R invoices, adjustments, payments, Order Entry, and their error shapes."""

from __future__ import annotations

from .conftest import Gateway, legacy_date


def _state(gw: Gateway, key: str, obj: str = "ARINVOICE") -> tuple[str, str, str]:
    rec = gw.read(obj, key, "STATE,TOTALPAID,TOTALDUE")
    return rec.findtext("STATE", ""), rec.findtext("TOTALPAID", ""), rec.findtext("TOTALDUE", "")


def _payment_xml(cid: str, *items: tuple[str, str], amount: str, date: str = "2024-07-15") -> str:
    rows = "".join(
        f"<arpaymentitem><invoicekey>{k}</invoicekey><amount>{a}</amount></arpaymentitem>" for k, a in items
    )
    return (
        f"<create_arpayment><customerid>{cid}</customerid><paymentamount>{amount}</paymentamount>"
        f"<bankaccountid>BOA-CHK</bankaccountid><refid>CHK-1</refid>{legacy_date(date, 'datereceived')}"
        f"<paymentmethod>Printed Check</paymentmethod>{rows}</create_arpayment>"
    )


# -- customers ------------------------------------------------------------------------------------
def test_create_customer_generic_shape_and_stamps(gw: Gateway) -> None:
    resp = gw.call(
        "<create><CUSTOMER><CUSTOMERID>A&amp;B-1</CUSTOMERID><NAME>A &lt;&amp;&gt; B</NAME>"
        "<TERMNAME>N30</TERMNAME></CUSTOMER></create>"
    )
    data = resp.data()
    assert (data.get("listtype"), data.get("count")) == ("objects", "1")
    cust = data.find("customer")
    assert cust is not None
    assert cust.findtext("CUSTOMERID") == "A&B-1"
    rec = gw.read("CUSTOMER", cust.findtext("RECORDNO", ""))
    assert rec.findtext("NAME") == "A <&> B"
    assert rec.findtext("STATUS") == "active"
    assert rec.findtext("TERMNAME") == "N30"
    assert rec.findtext("WHENCREATED", "")[2] == "/"
    assert rec.find("CREDITLIMIT") is not None
    assert rec.findtext("CREDITLIMIT") == ""


def test_duplicate_customer_id_gives_the_real_error_chain(gw: Gateway) -> None:
    gw.customer("DUP")
    resp = gw.call("<create><CUSTOMER><CUSTOMERID>DUP</CUSTOMERID><NAME>Again</NAME></CUSTOMER></create>")
    errs = resp.errors()
    assert [e["errorno"] for e in errs] == ["BL01001973", "BL01001973"]
    assert errs[0]["description2"].startswith("Another record with the value DUP already exists.")
    assert errs[0]["description2"].endswith("]")
    assert "[Support ID: " in errs[0]["description2"]
    assert errs[1]["description2"] == "Could not create Customer record!"


def test_customer_missing_required_and_unknown_field(gw: Gateway) -> None:
    missing = gw.call("<create><CUSTOMER><CUSTOMERID>M1</CUSTOMERID></CUSTOMER></create>")
    assert "Name" in missing.errors()[0]["description2"]
    unknown = gw.call(
        "<create><CUSTOMER><CUSTOMERID>M2</CUSTOMERID><NAME>x</NAME><COLOUR>red</COLOUR></CUSTOMER></create>"
    )
    assert unknown.errors()[0]["errorno"] == "DL02000001"


def test_update_by_customer_id_and_delete(gw: Gateway) -> None:
    key = gw.customer("UPD", "Before")
    before = gw.read("CUSTOMER", key, "WHENMODIFIED").findtext("WHENMODIFIED")
    resp = gw.call(
        "<update><CUSTOMER><CUSTOMERID>UPD</CUSTOMERID><NAME>After</NAME><STATUS>inactive</STATUS>"
        "</CUSTOMER></update>"
    )
    assert resp.data().findtext("customer/RECORDNO") == key
    rec = gw.read("CUSTOMER", key, "NAME,STATUS,WHENMODIFIED")
    assert (rec.findtext("NAME"), rec.findtext("STATUS")) == ("After", "inactive")
    assert rec.findtext("WHENMODIFIED", "") >= (before or "")
    gone = gw.call("<update><CUSTOMER><RECORDNO>99999</RECORDNO><NAME>x</NAME></CUSTOMER></update>")
    assert gone.result().findtext("status") == "failure"
    deleted = gw.call(f"<delete><object>CUSTOMER</object><keys>{key}</keys></delete>")
    assert deleted.ok()
    assert (
        gw.call(f"<read><object>CUSTOMER</object><keys>{key}</keys><fields>*</fields></read>")
        .data()
        .get("count")
        == "0"
    )


# -- invoices -------------------------------------------------------------------------------------------
def test_create_invoice_legacy_key_and_record(gw: Gateway) -> None:
    gw.customer("I1", "Invoiced Co")
    key = gw.invoice("I1", "100.005", invoiceno="INV-100", extra="<ponumber>PO-9</ponumber>")
    assert key.isdigit()
    inv = gw.read("ARINVOICE", key)
    assert inv.findtext("RECORDID") == "INV-100"
    assert inv.findtext("DOCNUMBER") == "PO-9"
    assert inv.findtext("MODULEKEY") == "4.AR"
    assert inv.findtext("TOTALENTERED") == "100.01"  # amounts round to 2 decimals
    assert inv.findtext("TOTALDUE") == "100.01"
    assert inv.findtext("STATE") == "Posted"
    assert (inv.findtext("WHENCREATED"), inv.findtext("WHENDUE")) == ("07/01/2024", "07/31/2024")
    assert gw.read("CUSTOMER", gw.customer("I2"), "TOTALDUE").findtext("TOTALDUE") == "0"
    cust = gw.call(
        "<readByName><object>CUSTOMER</object><keys>I1</keys><fields>TOTALDUE</fields></readByName>"
    )
    assert cust.data().findtext("CUSTOMER/TOTALDUE") == "100.01"


def test_create_invoice_business_errors(gw: Gateway) -> None:
    gw.customer("E1")
    unknown_cust = gw.call(gw.invoice_xml("NOBODY"))
    assert unknown_cust.errors()[0]["errorno"] == "BL01001973"
    assert "NOBODY" in unknown_cust.errors()[0]["description2"]
    assert unknown_cust.errors()[-1]["description2"] == "Could not create Invoice record!"
    bad_gl = gw.call(gw.invoice_xml("E1", gl="9999"))
    assert "9999" in bad_gl.errors()[0]["description2"]
    closed = gw.call(gw.invoice_xml("E1", date="2019-06-15"))
    assert "closed period" in closed.errors()[0]["description2"]
    bad_date = gw.call(gw.invoice_xml("E1", date="2024-02-30"))
    assert bad_date.errors()[0]["errorno"] == "DL02000001"
    no_loc = gw.call(gw.invoice_xml("E1", location=""))
    assert "Location" in no_loc.errors()[0]["description2"]
    out_of_order = gw.call(
        "<create_invoice>"
        + legacy_date("2024-07-01", "datecreated")
        + "<customerid>E1</customerid><termname>N30</termname><invoiceitems><lineitem>"
        "<glaccountno>4000</glaccountno><amount>1</amount></lineitem></invoiceitems>"
        "</create_invoice>"
    )
    assert out_of_order.errors()[0]["errorno"] == "XL03000003"
    missing = gw.call("<create_invoice><customerid>E1</customerid></create_invoice>")
    assert missing.errors()[0]["errorno"] == "XL03000003"
    assert "Missing child element" in missing.errors()[0]["description2"]


def test_entity_session_defaults_line_location(gw: Gateway) -> None:
    gw.customer("ENT")
    sid = gw.session_id(entity="E200")
    key = gw.call(gw.invoice_xml("ENT", location=""), auth=f"<sessionid>{sid}</sessionid>").key()
    inv = gw.read("ARINVOICE", key, auth=f"<sessionid>{sid}</sessionid>")
    assert inv.findtext("MEGAENTITYID") == "E200"
    assert inv.findtext("ARINVOICEITEMS/arinvoiceitem/LOCATIONID") == "E200"


def test_reverse_invoice(gw: Gateway) -> None:
    gw.customer("RV")
    key = gw.invoice("RV", "80")
    resp = gw.call(
        f'<reverse_invoice key="{key}">{legacy_date("2024-07-20", "datereversed")}'
        "<description>Voided in Blixo</description></reverse_invoice>"
    )
    rev_key = resp.key()
    assert rev_key != key
    assert _state(gw, key)[0] == "Reversed"
    rev = gw.read("ARINVOICE", rev_key, "STATE,TOTALENTERED")
    assert (rev.findtext("STATE"), rev.findtext("TOTALENTERED")) == ("Reversal", "-80")
    again = gw.call(
        f'<reverse_invoice key="{key}">{legacy_date("2024-07-20", "datereversed")}</reverse_invoice>'
    )
    assert again.result().findtext("status") == "failure"
    nokey = gw.call(
        f'<reverse_invoice key="424242">{legacy_date("2024-07-20", "datereversed")}</reverse_invoice>'
    )
    assert nokey.errors()[0]["errorno"] == "DL03000005"


# -- adjustments and payments -------------------------------------------------------------------------
def test_payments_move_invoice_totals_and_reversal_restores_them(gw: Gateway) -> None:
    gw.customer("P1")
    inv = gw.invoice("P1", "100")
    pay = gw.call(_payment_xml("P1", (inv, "40"), amount="40")).key()
    assert _state(gw, inv) == ("Partially Paid", "40", "60")
    pay2 = gw.call(_payment_xml("P1", (inv, "60"), amount="60")).key()
    assert _state(gw, inv) == ("Paid", "100", "0")
    assert gw.read("ARINVOICE", inv, "WHENPAID").findtext("WHENPAID") == "07/15/2024"
    over = gw.call(_payment_xml("P1", (inv, "1"), amount="1"))
    assert "more than the amount due" in over.errors()[0]["description2"]
    payment = gw.read("ARPYMT", pay2)
    assert payment.findtext("INVOICES/RECORD") == inv
    assert payment.findtext("INVOICES/APPLIEDAMOUNT") == "60"
    rev_key = gw.call(
        f'<reverse_arpayment key="{pay2}">{legacy_date("2024-07-16", "datereversed")}</reverse_arpayment>'
    ).key()
    assert gw.read("ARPYMT", pay2, "STATE").findtext("STATE") == "V"
    assert _state(gw, inv) == ("Partially Paid", "40", "60")
    reversal = gw.read("ARPYMT", rev_key)
    assert reversal.findtext("INVOICES/APPLIEDAMOUNT") == "-60"
    assert pay != rev_key


def test_generic_arpymt_create_with_credit_memo(gw: Gateway) -> None:
    gw.customer("G1")
    inv = gw.invoice("G1", "150")
    adj = gw.call(
        f"<create_aradjustment><customerid>G1</customerid>{legacy_date('2024-07-02', 'datecreated')}"
        "<adjustmentno>CN-1</adjustmentno><aradjustmentitems><lineitem><glaccountno>4000</glaccountno>"
        "<amount>-50</amount><locationid>E100</locationid></lineitem></aradjustmentitems>"
        "</create_aradjustment>"
    ).key()
    assert _state(gw, adj, "ARADJUSTMENT") == ("Posted", "0", "-50")
    resp = gw.call(
        "<create><ARPYMT><FINANCIALENTITY>BOA-CHK</FINANCIALENTITY><PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
        "<CUSTOMERID>G1</CUSTOMERID><RECEIPTDATE>07/20/2024</RECEIPTDATE><DOCNUMBER>EFT-7</DOCNUMBER>"
        f"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>{inv}</RECORDKEY><TRX_PAYMENTAMOUNT>100</TRX_PAYMENTAMOUNT>"
        f"<ADJUSTMENTKEY>{adj}</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>50</TRX_ADJUSTMENTAMOUNT></ARPYMTDETAIL>"
        "</ARPYMTDETAILS></ARPYMT></create>"
    )
    pay = resp.data().findtext("arpymt/RECORDNO", "")
    assert _state(gw, inv) == ("Paid", "150", "0")
    assert _state(gw, adj, "ARADJUSTMENT") == ("Paid", "-50", "0")
    credits = gw.read("ARPYMT", pay).findall("CREDITS")
    assert [
        (c.findtext("RECORD"), c.findtext("RECORDTYPE"), c.findtext("APPLIEDAMOUNT")) for c in credits
    ] == [(adj, "ra", "50")]
    applied = gw.call(f'<delete_aradjustment key="{adj}"></delete_aradjustment>')
    assert applied.result().findtext("status") == "failure"
    iso = gw.call(
        "<create><ARPYMT><FINANCIALENTITY>BOA-CHK</FINANCIALENTITY><PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
        "<CUSTOMERID>G1</CUSTOMERID><RECEIPTDATE>2024-07-20</RECEIPTDATE></ARPYMT></create>"
    )
    assert iso.errors()[0]["errorno"] == "DL02000001"
    update = gw.call(
        f"<update><ARPYMT><RECORDNO>{pay}</RECORDNO><DESCRIPTION>x</DESCRIPTION></ARPYMT></update>"
    )
    assert update.result().findtext("status") == "failure"
    posted = gw.call(f"<delete><object>ARPYMT</object><keys>{pay}</keys></delete>")
    assert "only draft payments can be deleted" in posted.errors()[0]["description2"]
    assert _state(gw, inv) == ("Paid", "150", "0")


def test_delete_unapplied_adjustment_and_apply_overpayment(gw: Gateway) -> None:
    gw.customer("O1")
    adj = gw.call(
        f"<create_aradjustment><customerid>O1</customerid>{legacy_date('2024-07-02', 'datecreated')}"
        "<aradjustmentitems><lineitem><glaccountno>4000</glaccountno><amount>-5</amount>"
        "<locationid>E100</locationid></lineitem></aradjustmentitems></create_aradjustment>"
    ).key()
    assert gw.call(f'<delete_aradjustment key="{adj}"></delete_aradjustment>').ok() is not None
    assert gw.call(f"<read><object>ARADJUSTMENT</object><keys>{adj}</keys></read>").data().get("count") == "0"
    inv = gw.invoice("O1", "30")
    advance = gw.call(_payment_xml("O1", amount="50")).key()  # nothing applied yet
    assert gw.read("ARPYMT", advance, "TOTALDUE").findtext("TOTALDUE") == "50"
    gw.call(
        f"<apply_arpayment><arpaymentkey>{advance}</arpaymentkey>{legacy_date('2024-07-21', 'paymentdate')}"
        f"<arpaymentitems><arpaymentitem><invoicekey>{inv}</invoicekey><amount>30</amount></arpaymentitem>"
        "</arpaymentitems></apply_arpayment>"
    ).ok()
    assert _state(gw, inv) == ("Paid", "30", "0")
    assert gw.read("ARPYMT", advance, "TOTALDUE").findtext("TOTALDUE") == "20"


def test_payment_with_unknown_invoice_key(gw: Gateway) -> None:
    gw.customer("X1")
    resp = gw.call(_payment_xml("X1", ("777777", "10"), amount="10"))
    assert resp.errors()[0]["errorno"] == "DL03000005"
    assert resp.errors()[0]["description2"].startswith("No record exists for the invoicekey 777777")


# -- Order Entry ---------------------------------------------------------------------------------------
def _so(cid: str, docpar: str = "Sales Invoice", docno: str = "", state: str = "", qty: str = "2") -> str:
    no = f"<documentno>{docno}</documentno>" if docno else ""
    st = f"<state>{state}</state>" if state else ""
    return (
        f"<create_sotransaction><transactiontype>{docpar}</transactiontype>"
        f"{legacy_date('2024-07-05', 'datecreated')}<customerid>{cid}</customerid>{no}"
        f"<referenceno>PO-77</referenceno><termname>N30</termname>{st}<sotransitems><sotransitem>"
        f"<itemid>WIDGET</itemid><quantity>{qty}</quantity><price>25</price><locationid>E100</locationid>"
        "</sotransitem></sotransitems></create_sotransaction>"
    )


def test_sales_invoice_posts_arinvoice_and_update_recreates_it(gw: Gateway) -> None:
    gw.customer("S1")
    docid = gw.call(_so("S1", docno="INV-0042")).key()
    assert docid == "Sales Invoice-INV-0042"
    doc = (
        gw.call(
            "<readByName><object>SODOCUMENT</object><keys>Sales Invoice-INV-0042</keys><fields>*</fields>"
            "</readByName>"
        )
        .data()
        .find("SODOCUMENT")
    )
    assert doc is not None
    first_ar = doc.findtext("PRRECORDKEY", "")
    entries = doc.findall("SODOCUMENTENTRIES/sodocumententry")
    assert [(e.findtext("LINE_NO"), e.findtext("UIVALUE")) for e in entries] == [("0", "50")]
    ar = gw.read("ARINVOICE", first_ar)
    assert (ar.findtext("MODULEKEY"), ar.findtext("RECORDID"), ar.findtext("TOTALENTERED")) == (
        "8.SO",
        "INV-0042",
        "50",
    )
    gw.call(
        f'<update_sotransaction key="{docid}"><updatesotransitems><updatesotransitem line_num="1">'
        "<quantity>3</quantity></updatesotransitem></updatesotransitems></update_sotransaction>"
    ).ok()
    doc2 = (
        gw.call(
            f"<readByName><object>SODOCUMENT</object><keys>{docid}</keys><fields>PRRECORDKEY,TOTAL"
            "</fields></readByName>"
        )
        .data()
        .find("SODOCUMENT")
    )
    assert doc2 is not None
    second_ar = doc2.findtext("PRRECORDKEY", "")
    assert second_ar != first_ar
    assert doc2.findtext("TOTAL") == "75"
    assert gw.read("ARINVOICE", second_ar, "TOTALDUE").findtext("TOTALDUE") == "75"
    stale = gw.call(_payment_xml("S1", (first_ar, "10"), amount="10"))
    assert stale.errors()[0]["errorno"] == "DL03000005"
    gw.call(_payment_xml("S1", (second_ar, "75"), amount="75")).key()
    paid = gw.call(
        f"<readByName><object>SODOCUMENT</object><keys>{docid}</keys><fields>TRX_TOTALPAID</fields>"
        "</readByName>"
    ).data()
    assert paid.findtext("SODOCUMENT/TRX_TOTALPAID") == "75"
    locked = gw.call(
        f'<update_sotransaction key="{docid}"><referenceno>x</referenceno></update_sotransaction>'
    )
    assert locked.result().findtext("status") == "failure"
    entries_q = gw.call(
        "<query><object>SODOCUMENTENTRY</object><select><field>DOCHDRID</field><field>QUANTITY"
        "</field></select></query>"
    ).data()
    assert entries_q.findtext("SODOCUMENTENTRY/QUANTITY") == "3"


def test_sales_return_posts_a_credit_adjustment_and_draft_posts_nothing(gw: Gateway) -> None:
    gw.customer("S2")
    docid = gw.call(_so("S2", "Sales Return", qty="1")).key()
    assert docid.startswith("Sales Return-SR-")
    doc = gw.call(
        f"<readByName><object>SODOCUMENT</object><keys>{docid}</keys><fields>PRRECORDKEY</fields>"
        "</readByName>"
    ).data()
    adj = gw.read("ARADJUSTMENT", doc.findtext("SODOCUMENT/PRRECORDKEY", ""), "MODULEKEY,TOTALENTERED")
    assert (adj.findtext("MODULEKEY"), adj.findtext("TOTALENTERED")) == ("8.SO", "-25")
    draft = gw.call(_so("S2", docno="D-1", state="Draft")).key()
    d = gw.call(
        f"<readByName><object>SODOCUMENT</object><keys>{draft}</keys><fields>STATE,PRRECORDKEY</fields>"
        "</readByName>"
    ).data()
    assert (d.findtext("SODOCUMENT/STATE"), d.findtext("SODOCUMENT/PRRECORDKEY")) == ("Draft", "")
    dup = gw.call(_so("S2", docno="D-1"))
    assert dup.errors()[0]["description2"].startswith("Another record with the value Sales Invoice-D-1")


def test_empty_line_containers_are_named_in_the_schema_error(gw: Gateway) -> None:
    gw.customer("EMPTY")
    invoice = gw.call(
        gw.invoice_xml("EMPTY").split("<invoiceitems>")[0] + "<invoiceitems></invoiceitems></create_invoice>"
    )
    err = invoice.errors()[0]
    assert err["errorno"] == "XL03000003"
    assert "'invoiceitems'" in err["description2"]
    adjustment = gw.call(
        f"<create_aradjustment><customerid>EMPTY</customerid>{legacy_date('2024-07-02', 'datecreated')}"
        "<aradjustmentitems></aradjustmentitems></create_aradjustment>"
    )
    assert "'aradjustmentitems'" in adjustment.errors()[0]["description2"]
