"""Payments: several applications to one invoice, reversals, deletes and the legacy ARPAYMT object."""

from __future__ import annotations

from tests.conftest import needs_reference_xml

from .conftest import Gateway, legacy_date


def _state(gw: Gateway, key: str, obj: str = "ARINVOICE") -> tuple[str, str, str]:
    rec = gw.read(obj, key, "STATE,TOTALPAID,TOTALDUE")
    return rec.findtext("STATE", ""), rec.findtext("TOTALPAID", ""), rec.findtext("TOTALDUE", "")


def _detail(key: str, amount: str = "", adj: str = "", adj_amount: str = "", entry: str = "") -> str:
    parts = f"<RECORDKEY>{key}</RECORDKEY>"
    if entry:
        parts += f"<ENTRYKEY>{entry}</ENTRYKEY>"
    if amount:
        parts += f"<TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT>"
    if adj:
        parts += (
            f"<ADJUSTMENTKEY>{adj}</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>{adj_amount}</TRX_ADJUSTMENTAMOUNT>"
        )
    return f"<ARPYMTDETAIL>{parts}</ARPYMTDETAIL>"


def _arpymt(cid: str, *details: str, date: str = "07/20/2024", doc: str = "EFT-1") -> str:
    return (
        "<create><ARPYMT><FINANCIALENTITY>BOA-CHK</FINANCIALENTITY><PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
        f"<CUSTOMERID>{cid}</CUSTOMERID><RECEIPTDATE>{date}</RECEIPTDATE><DOCNUMBER>{doc}</DOCNUMBER>"
        f"<ARPYMTDETAILS>{''.join(details)}</ARPYMTDETAILS></ARPYMT></create>"
    )


def _legacy_payment(cid: str, *items: tuple[str, str], amount: str, refid: str = "CHK-1") -> str:
    rows = "".join(
        f"<arpaymentitem><invoicekey>{k}</invoicekey><amount>{a}</amount></arpaymentitem>" for k, a in items
    )
    return (
        f"<create_arpayment><customerid>{cid}</customerid><paymentamount>{amount}</paymentamount>"
        f"<bankaccountid>BOA-CHK</bankaccountid><refid>{refid}</refid>"
        f"{legacy_date('2024-07-15', 'datereceived')}<paymentmethod>Printed Check</paymentmethod>{rows}"
        "</create_arpayment>"
    )


def _credit_memo(gw: Gateway, cid: str, amount: str, no: str = "CN-1") -> str:
    return gw.call(
        f"<create_aradjustment><customerid>{cid}</customerid>{legacy_date('2024-07-02', 'datecreated')}"
        f"<adjustmentno>{no}</adjustmentno><aradjustmentitems><lineitem><glaccountno>4000</glaccountno>"
        f"<amount>-{amount}</amount><locationid>E100</locationid></lineitem></aradjustmentitems>"
        "</create_aradjustment>"
    ).key()


def _reverse(gw: Gateway, key: str, date: str = "2024-07-25") -> str:
    return gw.call(
        f'<reverse_arpayment key="{key}">{legacy_date(date, "datereversed")}</reverse_arpayment>'
    ).key()


def _customer_due(gw: Gateway, cid: str) -> str:
    return (
        gw.call(
            f"<readByName><object>CUSTOMER</object><keys>{cid}</keys><fields>TOTALDUE</fields></readByName>"
        )
        .data()
        .findtext("CUSTOMER/TOTALDUE", "")
    )


# -- 1: every application accumulates --------------------------------------------------------------
def test_two_details_on_one_invoice_both_count_and_reversal_restores(gw: Gateway) -> None:
    gw.customer("M1")
    inv = gw.invoice("M1", "50")
    pay = (
        gw.call(_arpymt("M1", _detail(inv, "30"), _detail(inv, "20"))).data().findtext("arpymt/RECORDNO", "")
    )
    assert _state(gw, inv) == ("Paid", "50", "0")
    assert gw.read("ARINVOICE", inv, "WHENPAID").findtext("WHENPAID") == "07/20/2024"
    assert _customer_due(gw, "M1") == "0"
    applied = [a.findtext("APPLIEDAMOUNT") for a in gw.read("ARPYMT", pay).findall("INVOICES")]
    assert applied == ["30", "20"]
    _reverse(gw, pay)
    assert _state(gw, inv) == ("Posted", "0", "50")
    assert gw.read("ARINVOICE", inv, "WHENPAID").findtext("WHENPAID") == ""
    assert _customer_due(gw, "M1") == "50"


def test_details_on_one_invoice_are_checked_against_the_running_total(gw: Gateway) -> None:
    gw.customer("M2")
    inv = gw.invoice("M2", "50")
    over = gw.call(_arpymt("M2", _detail(inv, "30"), _detail(inv, "30")))
    assert over.errors()[0]["errorno"] == "BL01001973"
    assert "more than the amount due" in over.errors()[0]["description2"]
    assert _state(gw, inv) == ("Posted", "0", "50")  # nothing of the refused payment stuck


def test_cash_and_credit_on_separate_details_accumulate(gw: Gateway) -> None:
    gw.customer("M3")
    inv = gw.invoice("M3", "50")
    adj = _credit_memo(gw, "M3", "20")
    pay = gw.call(_arpymt("M3", _detail(inv, "30"), _detail(inv, adj=adj, adj_amount="20")))
    key = pay.data().findtext("arpymt/RECORDNO", "")
    assert _state(gw, inv) == ("Paid", "50", "0")
    assert _state(gw, adj, "ARADJUSTMENT") == ("Paid", "-20", "0")
    _reverse(gw, key)
    assert _state(gw, inv) == ("Posted", "0", "50")
    assert _state(gw, adj, "ARADJUSTMENT") == ("Posted", "0", "-20")


def test_one_credit_on_two_details_is_checked_and_consumed_cumulatively(gw: Gateway) -> None:
    gw.customer("M4")
    inv1, inv2 = gw.invoice("M4", "10", invoiceno="A"), gw.invoice("M4", "10", invoiceno="B")
    adj = _credit_memo(gw, "M4", "15")
    too_much = gw.call(
        _arpymt("M4", _detail(inv1, adj=adj, adj_amount="10"), _detail(inv2, adj=adj, adj_amount="10"))
    )
    assert "more than the credit available" in too_much.errors()[0]["description2"]
    gw.call(
        _arpymt("M4", _detail(inv1, adj=adj, adj_amount="10"), _detail(inv2, adj=adj, adj_amount="5"))
    ).data()
    assert _state(gw, adj, "ARADJUSTMENT") == ("Paid", "-15", "0")
    assert _state(gw, inv2) == ("Partially Paid", "5", "5")


def test_line_level_entrykey_details_accumulate_on_invoice_and_lines(gw: Gateway) -> None:
    gw.customer("M5")
    two_lines = (
        f"<create_invoice><customerid>M5</customerid>{legacy_date('2024-07-01', 'datecreated')}"
        "<termname>N30</termname><invoiceno>L-1</invoiceno><invoiceitems>"
        "<lineitem><glaccountno>4000</glaccountno><amount>30</amount><locationid>E100</locationid></lineitem>"
        "<lineitem><glaccountno>4100</glaccountno><amount>20</amount><locationid>E100</locationid></lineitem>"
        "</invoiceitems></create_invoice>"
    )
    inv = gw.call(two_lines).key()
    lines = [
        e.findtext("RECORDNO", "") for e in gw.read("ARINVOICE", inv).findall("ARINVOICEITEMS/arinvoiceitem")
    ]
    assert len(lines) == 2
    over_line = gw.call(_arpymt("M5", _detail(inv, "25", entry=lines[1])))
    assert "line" in over_line.errors()[0]["description2"]
    foreign = gw.call(_arpymt("M5", _detail(inv, "5", entry="999999")))
    assert foreign.errors()[0]["errorno"] == "DL03000005"
    pay = gw.call(_arpymt("M5", _detail(inv, "30", entry=lines[0]), _detail(inv, "20", entry=lines[1])))
    key = pay.data().findtext("arpymt/RECORDNO", "")
    assert _state(gw, inv) == ("Paid", "50", "0")
    paid = [
        e.findtext("TOTALPAID") for e in gw.read("ARINVOICE", inv).findall("ARINVOICEITEMS/arinvoiceitem")
    ]
    assert paid == ["30", "20"]
    _reverse(gw, key)
    assert _state(gw, inv) == ("Posted", "0", "50")
    paid = [
        e.findtext("TOTALPAID") for e in gw.read("ARINVOICE", inv).findall("ARINVOICEITEMS/arinvoiceitem")
    ]
    assert paid == ["0", "0"]


def test_legacy_create_arpayment_two_items_for_one_invoice(gw: Gateway) -> None:
    gw.customer("M6")
    inv = gw.invoice("M6", "50")
    pay = gw.call(_legacy_payment("M6", (inv, "30"), (inv, "20"), amount="50")).key()
    assert _state(gw, inv) == ("Paid", "50", "0")
    assert gw.read("ARPYMT", pay, "TOTALPAID").findtext("TOTALPAID") == "50"
    _reverse(gw, pay)
    assert _state(gw, inv) == ("Posted", "0", "50")


# -- 5: the legacy ARPAYMENT object ------------------------------------------------------------------
def _paid_with_credit(gw: Gateway, cid: str) -> tuple[str, str, str, str]:
    """Two invoices and a credit memo, paid by one generic payment; returns (pay, inv1, inv2, adj)."""
    gw.customer(cid, "Legacy Reader")
    inv1 = gw.invoice(cid, "50", invoiceno=f"{cid}-A")
    inv2 = gw.invoice(cid, "150", invoiceno=f"{cid}-B")
    adj = _credit_memo(gw, cid, "100", no=f"{cid}-CN")
    pay = gw.call(
        _arpymt(cid, _detail(inv1, "50"), _detail(inv2, "50", adj=adj, adj_amount="100"), doc="P-0000")
    )
    return pay.data().findtext("arpymt/RECORDNO", ""), inv1, inv2, adj


@needs_reference_xml
def test_read_arpayment_mirrors_the_reference_payment_sample(gw: Gateway) -> None:
    from defusedxml.ElementTree import parse

    from tests.conftest import REFERENCE_XML

    ref = parse(REFERENCE_XML / "intacct_payment_reader" / "payment_with_credits.xml").getroot()
    ref_data = ref.find("operation/result/data")
    assert ref_data is not None
    ref_rec = ref_data[0]
    pay, inv1, inv2, adj = _paid_with_credit(gw, "LP1")
    data = gw.call(f"<read><object>ARPAYMENT</object><keys>{pay}</keys><fields>*</fields></read>").data()
    assert (data.get("listtype"), data.get("count")) == (ref_data.get("listtype"), "1")
    rec = data[0]
    assert rec.tag == ref_rec.tag == "arpayment"
    ours = [c.tag for c in rec]
    scalars = [c.tag for c in ref_rec if not len(c)]
    assert [t for t in ours if t in scalars] == scalars  # every sample field, in the sample's order
    assert ours.index("INVOICES") > max(ours.index(t) for t in scalars)
    assert ours.index("CREDITS") > max(i for i, t in enumerate(ours) if t == "INVOICES")
    ref_inv = ref_rec.find("INVOICES")
    ref_cr = next(c for c in ref_rec.findall("CREDITS") if c.findtext("RECORDTYPE") == "ra")
    assert ref_inv is not None
    assert [[c.tag for c in i] for i in rec.findall("INVOICES")] == [[c.tag for c in ref_inv]] * 2
    assert [[c.tag for c in i] for i in rec.findall("CREDITS")] == [[c.tag for c in ref_cr]]
    invoices = [
        (i.findtext("RECORD"), i.findtext("APPLIEDAMOUNT"), i.findtext("RECORDID"))
        for i in rec.findall("INVOICES")
    ]
    assert invoices == [(inv1, "50", "LP1-A"), (inv2, "150", "LP1-B")]
    credit = rec.find("CREDITS")
    assert credit is not None
    assert [credit.findtext(t) for t in ("RECORD", "RECORDTYPE", "APPLIEDAMOUNT", "RECORDID")] == [
        adj,
        "ra",
        "100",
        "LP1-CN",
    ]
    assert (rec.findtext("STATE"), rec.findtext("PAYMENTTYPE"), rec.findtext("DOCNUMBER")) == (
        "",
        "EFT",
        "P-0000",
    )
    assert (rec.findtext("RECEIPTDATE"), rec.findtext("PAYMENTAMOUNT"), rec.findtext("TOTALAMOUNT")) == (
        "2024-07-20",  # the legacy object answers ISO dates, like the sample
        "100",
        "100",
    )
    assert rec.findtext("AUWHENCREATED", "")[10] == "T"
    assert rec.findtext("AUWHENCREATED", "").endswith("Z")
    assert rec.findtext("BANKACCOUNTID") == "BOA-CHK"


def test_read_by_query_and_read_more_over_arpayment(gw: Gateway) -> None:
    gw.customer("LP2")
    keys = []
    for n in range(3):
        inv = gw.invoice("LP2", "10", invoiceno=f"LP2-{n}")
        keys.append(
            gw.call(_arpymt("LP2", _detail(inv, "10"), doc=f"D-{n}")).data().findtext("arpymt/RECORDNO", "")
        )
    first = gw.call(
        "<readByQuery><object>ARPAYMENT</object><fields>RECORDNO,DOCNUMBER,STATE</fields>"
        "<query>CUSTOMERID = 'LP2'</query><pagesize>2</pagesize></readByQuery>"
    ).data()
    assert (first.get("listtype"), first.get("totalcount"), first.get("numremaining")) == (
        "arpayment",
        "3",
        "1",
    )
    assert [c.tag for c in first] == ["arpayment", "arpayment"]
    assert [c.tag for c in first[0]] == ["RECORDNO", "DOCNUMBER", "STATE"]
    more = gw.call(f"<readMore><resultId>{first.get('resultId')}</resultId></readMore>").data()
    assert [r.findtext("RECORDNO") for r in [*first, *more]] == keys
    assert [r.findtext("DOCNUMBER") for r in more] == ["D-2"]
    bad_field = gw.call(
        "<readByQuery><object>ARPAYMENT</object><fields>PAYMENTMETHOD</fields><query></query></readByQuery>"
    )
    assert bad_field.errors()[0]["errorno"] == "DL02000001"
    query = gw.call("<query><object>ARPAYMENT</object><select><field>RECORDNO</field></select></query>")
    assert query.errors()[0]["errorno"] == "DL02000001"
    assert "ARPYMT" in query.errors()[0]["description2"]


# -- 6, 7, 8: reversals are voided, posted payments are not deleted, no double reversal ----------------
def test_reversal_is_voided_too_and_state_v_finds_both(gw: Gateway) -> None:
    gw.customer("RV1")
    inv = gw.invoice("RV1", "40")
    pay = gw.call(_legacy_payment("RV1", (inv, "40"), amount="40")).key()
    kept = gw.call(_legacy_payment("RV1", amount="5", refid="KEEP")).key()
    rev = _reverse(gw, pay)
    states = {k: gw.read("ARPYMT", k, "STATE,DISPLAYSTATE") for k in (pay, rev, kept)}
    assert [(states[k].findtext("STATE"), states[k].findtext("DISPLAYSTATE")) for k in (pay, rev, kept)] == [
        ("V", "Voided"),
        ("V", "Reversal"),
        ("C", "Complete"),
    ]
    for obj in ("ARPYMT", "ARPAYMENT"):
        found = gw.call(
            f"<readByQuery><object>{obj}</object><fields>RECORDNO,STATE</fields><query>STATE = 'V'</query>"
            "</readByQuery>"
        ).data()
        assert sorted(r.findtext("RECORDNO", "") for r in found) == sorted([pay, rev]), obj
        assert {r.findtext("STATE") for r in found} == {"V"}
    legacy = gw.call(
        f"<read><object>ARPAYMENT</object><keys>{kept}</keys><fields>STATE</fields></read>"
    ).data()
    assert legacy.findtext("arpayment/STATE") == ""
    assert _state(gw, inv) == ("Posted", "0", "40")


def test_reversing_a_reversal_or_a_voided_payment_is_refused(gw: Gateway) -> None:
    gw.customer("RV2")
    inv = gw.invoice("RV2", "40")
    pay = gw.call(_legacy_payment("RV2", (inv, "40"), amount="40")).key()
    rev = _reverse(gw, pay)
    twice = gw.call(
        f'<reverse_arpayment key="{pay}">{legacy_date("2024-07-26", "datereversed")}</reverse_arpayment>'
    )
    assert twice.errors()[0]["errorno"] == "BL01001973"
    assert "already reversed" in twice.errors()[0]["description2"]
    of_reversal = gw.call(
        f'<reverse_arpayment key="{rev}">{legacy_date("2024-07-26", "datereversed")}</reverse_arpayment>'
    )
    assert of_reversal.errors()[0]["errorno"] == "BL01001973"
    assert "is a reversal" in of_reversal.errors()[0]["description2"]
    assert _state(gw, inv) == ("Posted", "0", "40")  # the refused reversals moved nothing
    count = gw.call(
        "<readByQuery><object>ARPYMT</object><fields>RECORDNO</fields><query></query></readByQuery>"
    )
    assert count.data().get("totalcount") == "2"


def test_only_draft_payments_can_be_deleted(gw: Gateway) -> None:
    gw.customer("DL1")
    inv = gw.invoice("DL1", "60")
    posted = gw.call(_arpymt("DL1", _detail(inv, "60"))).data().findtext("arpymt/RECORDNO", "")
    refused = gw.call(f"<delete><object>ARPYMT</object><keys>{posted}</keys></delete>")
    errs = refused.errors()
    assert [e["errorno"] for e in errs] == ["BL01001973", "BL01001973"]
    assert "only draft payments can be deleted" in errs[0]["description2"]
    assert errs[1]["description2"] == "Could not delete ARPYMT record!"
    assert _state(gw, inv) == ("Paid", "60", "0")
    _reverse(gw, posted)
    for key in (posted, str(int(posted) + 1)):  # neither the voided payment nor its reversal
        assert (
            gw.call(f"<delete><object>ARPYMT</object><keys>{key}</keys></delete>").result().findtext("status")
            == "failure"
        )
    draft_xml = _arpymt("DL1", _detail(inv, "25"), doc="DRAFT-1").replace(
        "<ARPYMTDETAILS>", "<ACTION>Draft</ACTION><ARPYMTDETAILS>"
    )
    draft = gw.call(draft_xml).data().findtext("arpymt/RECORDNO", "")
    assert gw.read("ARPYMT", draft, "STATE,DISPLAYSTATE").findtext("STATE") == "D"
    assert _state(gw, inv) == ("Posted", "0", "60")  # a draft posts nothing
    reverse_draft = gw.call(
        f'<reverse_arpayment key="{draft}">{legacy_date("2024-07-26", "datereversed")}</reverse_arpayment>'
    )
    assert "draft" in reverse_draft.errors()[0]["description2"]
    gw.call(f"<delete><object>ARPYMT</object><keys>{draft}</keys></delete>").ok()
    assert gw.call(f"<read><object>ARPYMT</object><keys>{draft}</keys></read>").data().get("count") == "0"
    assert _state(gw, inv) == ("Posted", "0", "60")
