"""`POST /_sandbox/seed` with Order Entry kinds: seeded Sales Invoices, Sales Returns and payments
are the rows the gateway's own functions write, read back through the XML gateway."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree.ElementTree import Element

import requests

from sandbox.intacct import COMPANY_ID

from .conftest import Gateway, esc, legacy_date

SMALL = {"customers": 4, "orders": 30, "returns": 3, "order_payments": 20}
ITEMS = (("WIDGET", Decimal(25)), ("CONSULT-HR", Decimal(150)), ("SUBSCRIPTION", Decimal(99)))
# Differ between any two records by construction (keys, numbers, the clock).
VOLATILE = {
    "RECORDNO",
    "WHENMODIFIED",
    "AUWHENCREATED",
    "DOCNO",
    "DOCID",
    "RECORDID",
    "PRRECORDKEY",
    "DOCHDRNO",
    "DOCHDRID",
    "RECORDKEY",
    "PAYMENTKEY",
}
TS = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")


def d(value: str | None) -> Decimal:
    return Decimal(value or "0")


def query(
    gw: Gateway, obj: str, fields: list[str], flt: str = "", *, auth: str | None = None, private: bool = False
) -> list[dict[str, str]]:
    """Every row of a `query`, page by page (2000 a page)."""
    sel = "".join(f"<field>{f}</field>" for f in fields)
    opts = "<options><showprivate>true</showprivate></options>" if private else ""
    rows: list[dict[str, str]] = []
    while True:
        data = gw.call(
            f"<query><object>{obj}</object><select>{sel}</select>{flt}{opts}"
            f"<pagesize>2000</pagesize><offset>{len(rows)}</offset></query>",
            auth=auth,
        ).data()
        rows.extend({c.tag: c.text or "" for c in rec} for rec in data)
        if int(data.get("numremaining", "0")) == 0:
            return rows


def count(gw: Gateway, obj: str, flt: str = "", **kwargs: Any) -> int:
    data = gw.call(
        f"<query><object>{obj}</object><select><count>RECORDNO</count></select>{flt}</query>", **kwargs
    ).data()
    return int(data.findtext(f"{obj}/COUNT.RECORDNO", "-1"))


def eq(field: str, value: str) -> str:
    return f"<filter><equalto><field>{field}</field><value>{esc(value)}</value></equalto></filter>"


def dump(gw: Gateway, obj: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = gw.admin(f"dump?object={obj}", None).get(COMPANY_ID, {}).get(obj, [])
    return rows


def by_no(gw: Gateway, obj: str) -> dict[str, dict[str, str]]:
    return {r["RECORDNO"]: r for r in dump(gw, obj)}


def paths(el: Element, prefix: str = "") -> set[str]:
    """Every element path of a `read` record (nested groups and owned children included)."""
    out: set[str] = set()
    for child in el:
        path = f"{prefix}/{child.tag}"
        out.add(path)
        out |= paths(child, path)
    return out


def stable(rec: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in rec.items() if k not in VOLATILE}


def seeded_lines(k: int, per_order: int) -> list[tuple[str, int]]:
    """The (item, quantity) lines of seeded order k: items cycle over the running line number,
    quantities 1..3 step every three lines."""
    out = []
    for line in range(k * per_order, (k + 1) * per_order):
        out.append((ITEMS[line % 3][0], (line // 3) % 3 + 1))
    return out


def so_xml(
    docpar: str,
    cust: str,
    date: str,
    reference: str,
    lines: list[tuple[str, int]],
    *,
    term: str = "N30",
    location: str = "E100",
) -> str:
    items = "".join(
        f"<sotransitem><itemid>{i}</itemid><quantity>{q}</quantity>"
        f"{f'<locationid>{location}</locationid>' if location else ''}</sotransitem>"
        for i, q in lines
    )
    return (
        f"<create_sotransaction><transactiontype>{docpar}</transactiontype>{legacy_date(date, 'datecreated')}"
        f"<customerid>{esc(cust)}</customerid><referenceno>{esc(reference)}</referenceno>"
        f"{f'<termname>{term}</termname>' if term else ''}<sotransitems>{items}</sotransitems>"
        "</create_sotransaction>"
    )


def arpymt_xml(cust: str, invoice: str, amount: str, received: str, docnumber: str) -> str:
    us = f"{received[5:7]}/{received[8:10]}/{received[:4]}"
    return (
        "<create><ARPYMT><FINANCIALENTITY>BOA-CHK</FINANCIALENTITY>"
        f"<PAYMENTMETHOD>Printed Check</PAYMENTMETHOD><CUSTOMERID>{esc(cust)}</CUSTOMERID>"
        f"<RECEIPTDATE>{us}</RECEIPTDATE><PAYMENTDATE>{us}</PAYMENTDATE><DOCNUMBER>{esc(docnumber)}</DOCNUMBER>"
        f"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>{invoice}</RECORDKEY>"
        f"<TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></ARPYMT></create>"
    )


def iso(us: str) -> str:
    return f"{us[6:10]}-{us[0:2]}-{us[3:5]}"


def doc_by_docid(gw: Gateway, docid: str, **kwargs: Any) -> Element:
    data = gw.call(
        f"<readByName><object>SODOCUMENT</object><keys>{esc(docid)}</keys><fields>*</fields></readByName>",
        **kwargs,
    ).data()
    rec = data.find("SODOCUMENT")
    assert rec is not None, docid
    return rec


def mirror(gw: Gateway, seeded: Element, *, location: str = "E100", **kwargs: Any) -> str:
    """Create through create_sotransaction the document seeded as `seeded` (same customer, date,
    reference, term and lines) and, when the seeded one was paid, the same payment; returns the
    new document's DOCID."""
    entries = seeded.findall("SODOCUMENTENTRIES/sodocumententry")
    lines = [(e.findtext("ITEMID", ""), int(e.findtext("QUANTITY", ""))) for e in entries]
    docpar = seeded.findtext("DOCPARID", "")
    docid = gw.call(
        so_xml(
            docpar,
            seeded.findtext("CUSTVENDID", ""),
            iso(seeded.findtext("WHENCREATED", "")),
            seeded.findtext("PONUMBER", ""),
            lines,
            term=seeded.findtext("TERM/NAME", ""),  # read nests dotted names
            location=location,
        ),
        **kwargs,
    ).key()
    paid = seeded.findtext("TOTALPAID", "0")
    if paid != "0":
        created = doc_by_docid(gw, docid, **kwargs)
        [det] = [r for r in dump(gw, "ARPYMTDETAIL") if r["RECORDKEY"] == seeded.findtext("PRRECORDKEY", "")]
        pay = by_no(gw, "ARPYMT")[det["PAYMENTKEY"]]
        gw.call(
            arpymt_xml(
                created.findtext("CUSTVENDID", ""),
                created.findtext("PRRECORDKEY", ""),
                paid,
                pay["RECEIPTDATE"],
                pay["DOCNUMBER"],
            ),
            **kwargs,
        ).data()
    return docid


def assert_same_records(gw: Gateway, seeded: Element, docid: str, **kwargs: Any) -> None:
    """A seeded document and the one created like it: the same `read *` shapes, and the same
    stored rows (internal flags included) apart from keys, numbers and timestamps."""
    created = doc_by_docid(gw, docid, **kwargs)
    assert paths(created) == paths(seeded)
    ar_obj = "ARADJUSTMENT" if seeded.findtext("DOCPARID") == "Sales Return" else "ARINVOICE"
    ar_seeded = gw.read(ar_obj, seeded.findtext("PRRECORDKEY", ""), **kwargs)
    ar_created = gw.read(ar_obj, created.findtext("PRRECORDKEY", ""), **kwargs)
    assert paths(ar_created) == paths(ar_seeded)
    box = ar_seeded.find(f"{ar_obj}ITEMS")
    assert box is not None
    assert len(box) == len(seeded.findall("SODOCUMENTENTRIES/sodocumententry"))  # a line per entry

    docs = by_no(gw, "SODOCUMENT")
    s_doc, c_doc = docs[seeded.findtext("RECORDNO", "")], docs[created.findtext("RECORDNO", "")]
    assert stable(s_doc) == stable(c_doc)
    assert s_doc.keys() == c_doc.keys()
    entries = dump(gw, "SODOCUMENTENTRY")
    s_entries = [stable(e) for e in entries if e["DOCHDRNO"] == s_doc["RECORDNO"]]
    c_entries = [stable(e) for e in entries if e["DOCHDRNO"] == c_doc["RECORDNO"]]
    assert s_entries == c_entries
    assert s_entries
    ars = by_no(gw, ar_obj)
    s_ar, c_ar = ars[s_doc["PRRECORDKEY"]], ars[c_doc["PRRECORDKEY"]]
    assert stable(s_ar) == stable(c_ar)
    assert s_ar.keys() == c_ar.keys()
    assert s_ar["RECORDID"] == s_doc["DOCNO"]
    items = dump(gw, f"{ar_obj}ITEM")
    assert [stable(i) for i in items if i["RECORDKEY"] == s_ar["RECORDNO"]] == [
        stable(i) for i in items if i["RECORDKEY"] == c_ar["RECORDNO"]
    ]
    details = dump(gw, "ARPYMTDETAIL")
    s_det = [x for x in details if x["RECORDKEY"] == s_ar["RECORDNO"]]
    c_det = [x for x in details if x["RECORDKEY"] == c_ar["RECORDNO"]]
    assert [stable(x) for x in s_det] == [stable(x) for x in c_det]
    pays = by_no(gw, "ARPYMT")
    assert [stable(pays[x["PAYMENTKEY"]]) for x in s_det] == [stable(pays[x["PAYMENTKEY"]]) for x in c_det]
    for s, c in zip(s_det, c_det, strict=True):
        assert paths(gw.read("ARPYMT", s["PAYMENTKEY"], **kwargs)) == paths(
            gw.read("ARPYMT", c["PAYMENTKEY"], **kwargs)
        )


# -- counts and shapes --------------------------------------------------------------------------------
def test_seed_reports_counts_per_kind_and_the_gateway_sees_them(gw: Gateway) -> None:
    counts = gw.admin("seed", SMALL)
    assert counts == {
        "customers": 4,
        "invoices": 0,
        "payments": 0,
        "orders": 30,
        "order_lines": 90,
        "returns": 3,
        "return_lines": 3,
        "order_payments": 20,
        "payment_details": 20,
    }
    assert count(gw, "SODOCUMENT", eq("DOCPARID", "Sales Invoice")) == 30
    assert count(gw, "SODOCUMENT", eq("DOCPARID", "Sales Return")) == 3
    assert count(gw, "SODOCUMENTENTRY") == 93
    assert count(gw, "ARINVOICE", eq("MODULEKEY", "8.SO")) == 30
    assert count(gw, "ARINVOICEITEM") == 90
    assert count(gw, "ARADJUSTMENT", eq("MODULEKEY", "8.SO")) == 3
    assert count(gw, "ARPYMT", eq("STATE", "C")) == 20
    assert count(gw, "ARPYMTDETAIL") == 20

    docs = query(
        gw,
        "SODOCUMENT",
        [
            "RECORDNO",
            "DOCID",
            "DOCNO",
            "DOCPARID",
            "STATE",
            "CUSTVENDID",
            "TERM.NAME",
            "WHENDUE",
            "PRRECORDKEY",
        ],
        eq("DOCPARID", "Sales Invoice"),
    )
    assert [r["DOCNO"] for r in docs] == [f"SI-{n:05d}" for n in range(1, 31)]
    assert all(r["DOCID"] == f"Sales Invoice-{r['DOCNO']}" and r["STATE"] == "Pending" for r in docs)
    assert {r["CUSTVENDID"] for r in docs} == {f"SEED-C{n:06d}" for n in range(1, 5)}
    assert all(r["TERM.NAME"] == "N30" and r["WHENDUE"] and r["PRRECORDKEY"] for r in docs)
    entries = query(
        gw, "SODOCUMENTENTRY", ["DOCHDRNO", "LINE_NO", "ITEMID", "QUANTITY", "UIPRICE", "UIVALUE"]
    )
    first = [e for e in entries if e["DOCHDRNO"] == docs[0]["RECORDNO"]]
    assert [(e["LINE_NO"], e["ITEMID"], e["QUANTITY"], e["UIPRICE"], e["UIVALUE"]) for e in first] == [
        ("0", "WIDGET", "1", "25", "25"),
        ("1", "CONSULT-HR", "1", "150", "150"),
        ("2", "SUBSCRIPTION", "1", "99", "99"),
    ]
    assert {(e["ITEMID"], e["QUANTITY"]) for e in entries} == {
        (i, str(q)) for i, _ in ITEMS for q in (1, 2, 3)
    }
    states = [r["STATE"] for r in query(gw, "ARINVOICE", ["STATE"], eq("MODULEKEY", "8.SO"))]
    assert (states.count("Paid"), states.count("Partially Paid"), states.count("Posted")) == (10, 10, 10)
    pays = query(gw, "ARPYMT", ["PAYMENTMETHOD", "FINANCIALENTITY", "STATE", "DISPLAYSTATE", "MEGAENTITYID"])
    assert {tuple(p.values()) for p in pays} == {("Printed Check", "BOA-CHK", "C", "Complete", "")}


def test_legacy_payloads_answer_as_before(gw: Gateway) -> None:
    assert gw.admin("seed", {"n": 3, "payments": 1}) == {"customers": 3, "invoices": 3, "payments": 1}
    both = gw.admin("seed", {"customers": 2, "invoices": 2, "orders": 2, "lines_per_order": 1})
    assert (both["customers"], both["invoices"], both["orders"], both["order_lines"]) == (2, 2, 2, 2)
    assert count(gw, "ARINVOICE", eq("MODULEKEY", "4.AR")) == 5
    assert count(gw, "CUSTOMER") == 5


def test_bad_seed_payloads_are_refused(gw: Gateway) -> None:
    url = f"{gw.handle.url}/_sandbox/seed"
    for payload in (
        {"orders": 2, "order_payments": 3},
        {"orders": 2, "entity": "E999"},
        {"orders": 2, "start_date": "2019-06-01"},
        {"orders": 2, "lines_per_order": 0},
        {"orders": -1},
        {"returns": 1},  # no customer at all
    ):
        resp = requests.post(url, json=payload, timeout=10)
        assert resp.status_code == 400, payload
    assert count(gw, "SODOCUMENT") == 0  # nothing half-written


# -- indistinguishable from created documents -------------------------------------------------------------
def test_seeded_documents_are_the_rows_create_sotransaction_writes(gw: Gateway) -> None:
    gw.admin("seed", SMALL)
    docs = {r["DOCID"]: r for r in query(gw, "SODOCUMENT", ["DOCID", "TOTALPAID", "TOTALDUE"])}
    # paid in full, paid half, not paid, and a return
    for docid in (
        "Sales Invoice-SI-00001",
        "Sales Invoice-SI-00002",
        "Sales Invoice-SI-00025",
        "Sales Return-SR-00001",
    ):
        seeded = doc_by_docid(gw, docid)
        assert seeded.findtext("SODOCUMENTENTRIES/sodocumententry/LINE_NO") == "0"
        new = mirror(gw, seeded)
        assert_same_records(gw, seeded, new)
    assert docs["Sales Invoice-SI-00001"]["TOTALDUE"] == "0"
    assert d(docs["Sales Invoice-SI-00002"]["TOTALPAID"]) > 0
    assert d(docs["Sales Invoice-SI-00002"]["TOTALDUE"]) > 0
    assert docs["Sales Invoice-SI-00025"]["TOTALPAID"] == "0"


def test_seeded_entity_documents_match_an_entity_session(gw: Gateway) -> None:
    counts = gw.admin(
        "seed", {"customers": 2, "orders": 4, "returns": 1, "order_payments": 2, "entity": "E100"}
    )
    assert (counts["orders"], counts["returns"], counts["order_payments"]) == (4, 1, 2)
    entity = f"<sessionid>{gw.session_id(entity='E100')}</sessionid>"
    for docid in ("Sales Invoice-SI-00001", "Sales Invoice-SI-00002", "Sales Return-SR-00001"):
        seeded = doc_by_docid(gw, docid, auth=entity)
        assert seeded.findtext("MEGAENTITYID") == "E100"
        assert seeded.findtext("MEGAENTITYNAME") == "Sandbox US East"
        assert {e.findtext("LOCATIONID") for e in seeded.findall("SODOCUMENTENTRIES/sodocumententry")} == {
            "E100"
        }
        assert_same_records(gw, seeded, mirror(gw, seeded, location="", auth=entity), auth=entity)
    # entity-private: the top level sees them only with showprivate, the entity session always
    assert count(gw, "SODOCUMENT") == 0
    top = gw.call(
        "<readByQuery><object>ARPYMT</object><fields>RECORDNO</fields><query></query></readByQuery>"
    )
    assert top.data().get("totalcount") == "0"
    assert len(query(gw, "SODOCUMENT", ["DOCID"], private=True)) == 8
    assert len(query(gw, "ARPYMT", ["MEGAENTITYID"], auth=entity)) == 4
    assert {p["MEGAENTITYID"] for p in query(gw, "ARPYMT", ["MEGAENTITYID"], private=True)} == {"E100"}
    # customers stay top level: every entity can sell to them
    assert {c["MEGAENTITYID"] for c in query(gw, "CUSTOMER", ["MEGAENTITYID"])} == {""}


# -- amounts -----------------------------------------------------------------------------------------------
def test_amounts_move_as_payments_move_them_to_the_cent(gw: Gateway) -> None:
    gw.admin("seed", {**SMALL, "lines_per_order": 4, "lines_per_return": 2})
    invoices = {
        r["RECORDNO"]: r
        for r in query(
            gw,
            "ARINVOICE",
            ["RECORDNO", "TOTALENTERED", "TOTALPAID", "TOTALDUE", "STATE", "WHENPAID", "CUSTOMERID"],
        )
    }
    applied: dict[str, Decimal] = {}
    details = query(gw, "ARPYMTDETAIL", ["RECORDKEY", "PAYMENTAMOUNT", "TRX_PAYMENTAMOUNT", "PAYMENTKEY"])
    for det in details:
        assert det["PAYMENTAMOUNT"] == det["TRX_PAYMENTAMOUNT"]
        applied[det["RECORDKEY"]] = applied.get(det["RECORDKEY"], Decimal(0)) + d(det["PAYMENTAMOUNT"])
    payments = {
        p["RECORDNO"]: p for p in query(gw, "ARPYMT", ["RECORDNO", "TOTALENTERED", "TOTALPAID", "TOTALDUE"])
    }
    docs = query(
        gw,
        "SODOCUMENT",
        ["DOCNO", "TOTAL", "TOTALPAID", "TOTALDUE", "PRRECORDKEY"],
        eq("DOCPARID", "Sales Invoice"),
    )
    full = half = 0
    for n, doc in enumerate(docs):
        inv = invoices[doc["PRRECORDKEY"]]
        total, paid = d(doc["TOTAL"]), applied.get(doc["PRRECORDKEY"], Decimal(0))
        assert d(inv["TOTALENTERED"]) == total
        assert d(inv["TOTALDUE"]) == total - paid
        assert d(inv["TOTALPAID"]) == paid
        assert (d(doc["TOTALPAID"]), d(doc["TOTALDUE"])) == (paid, total - paid)
        if n >= 20:
            assert (paid, inv["STATE"], inv["WHENPAID"]) == (Decimal(0), "Posted", "")
        elif n % 2 == 0:
            full += 1
            assert (paid, inv["STATE"]) == (total, "Paid")
            assert inv["WHENPAID"]
        else:
            half += 1
            assert paid == (total / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert (inv["STATE"], inv["WHENPAID"]) == ("Partially Paid", "")
    assert (full, half) == (10, 10)
    assert any(d(doc["TOTAL"]) % 2 for doc in docs[:20:2] + docs[1:20:2])  # some halves round
    for det in details:
        pay = payments[det["PAYMENTKEY"]]
        assert d(pay["TOTALENTERED"]) == d(pay["TOTALPAID"]) == d(det["PAYMENTAMOUNT"])
        assert d(pay["TOTALDUE"]) == 0
    credits = query(gw, "ARADJUSTMENT", ["CUSTOMERID", "TOTALENTERED", "TOTALDUE", "STATE"])
    assert len(credits) == 3
    assert all(d(c["TOTALENTERED"]) < 0 and c["TOTALDUE"] == c["TOTALENTERED"] for c in credits)
    open_ar: dict[str, Decimal] = {}
    for rec in [*invoices.values(), *credits]:
        open_ar[rec["CUSTOMERID"]] = open_ar.get(rec["CUSTOMERID"], Decimal(0)) + d(rec["TOTALDUE"])
    customers = {c["CUSTOMERID"]: d(c["TOTALDUE"]) for c in query(gw, "CUSTOMER", ["CUSTOMERID", "TOTALDUE"])}
    assert customers == open_ar
    assert all(v != 0 for v in customers.values())


def test_seeded_records_take_further_writes_like_created_ones(gw: Gateway) -> None:
    gw.admin("seed", SMALL)
    half = doc_by_docid(gw, "Sales Invoice-SI-00002")
    invoice, cust = half.findtext("PRRECORDKEY", ""), half.findtext("CUSTVENDID", "")
    rest = half.findtext("TOTALDUE", "")
    gw.call(arpymt_xml(cust, invoice, rest, "2026-11-01", "REST-1")).data()
    assert gw.read("ARINVOICE", invoice, "STATE,TOTALDUE,WHENPAID").findtext("STATE") == "Paid"
    assert doc_by_docid(gw, "Sales Invoice-SI-00002").findtext("TOTALDUE") == "0"
    # reversing a seeded payment takes it back off the seeded invoice and document
    full = doc_by_docid(gw, "Sales Invoice-SI-00001")
    [det] = [r for r in dump(gw, "ARPYMTDETAIL") if r["RECORDKEY"] == full.findtext("PRRECORDKEY")]
    gw.call(
        f'<reverse_arpayment key="{det["PAYMENTKEY"]}">{legacy_date("2026-11-02", "datereversed")}</reverse_arpayment>'
    ).key()
    after = doc_by_docid(gw, "Sales Invoice-SI-00001")
    assert (after.findtext("TOTALPAID"), after.findtext("TOTALDUE")) == ("0", full.findtext("TOTAL"))
    assert gw.read("ARINVOICE", full.findtext("PRRECORDKEY", ""), "STATE").findtext("STATE") == "Posted"
    # an unpaid seeded document can be edited; the next automatic number follows the seeded ones
    gw.call(
        '<update_sotransaction key="Sales Invoice-SI-00030"><updatesotransitems><sotransitem>'
        "<itemid>WIDGET</itemid><quantity>2</quantity><locationid>E100</locationid></sotransitem>"
        "</updatesotransitems></update_sotransaction>"
    ).key()
    edited = doc_by_docid(gw, "Sales Invoice-SI-00030")
    assert len(edited.findall("SODOCUMENTENTRIES/sodocumententry")) == 4
    assert d(gw.read("ARINVOICE", edited.findtext("PRRECORDKEY", ""), "TOTALDUE").findtext("TOTALDUE")) == d(
        edited.findtext("TOTAL")
    )
    new = gw.call(so_xml("Sales Invoice", cust, "2026-11-03", "NEXT", [("WIDGET", 1)])).key()
    assert new == "Sales Invoice-SI-00031"
    customers = {c["CUSTOMERID"]: d(c["TOTALDUE"]) for c in query(gw, "CUSTOMER", ["CUSTOMERID", "TOTALDUE"])}
    open_ar: dict[str, Decimal] = {}
    for obj in ("ARINVOICE", "ARADJUSTMENT"):
        for rec in query(gw, obj, ["CUSTOMERID", "TOTALDUE"]):
            open_ar[rec["CUSTOMERID"]] = open_ar.get(rec["CUSTOMERID"], Decimal(0)) + d(rec["TOTALDUE"])
    assert customers == open_ar


# -- dates and the clock -----------------------------------------------------------------------------------
def test_dates_follow_the_open_period_and_timestamps_follow_the_writes(gw: Gateway) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    gw.admin("seed", SMALL)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    docs = query(gw, "SODOCUMENT", ["RECORDNO", "WHENCREATED", "WHENMODIFIED", "AUWHENCREATED"])
    created = [iso(r["WHENCREATED"]) for r in docs]
    assert min(created) == "2026-01-01"
    assert created[:30] == sorted(created[:30])
    assert len(set(created)) > 10  # spread over days
    assert all(TS.match(r["WHENMODIFIED"]) and TS.match(r["AUWHENCREATED"]) for r in docs)
    # every seeded row: AUWHENCREATED strictly increasing with the RECORDNO sequence, WHENMODIFIED
    # never shared, never before its creation, none after the seed answered
    rows = []
    for obj in (
        "CUSTOMER",
        "SODOCUMENT",
        "SODOCUMENTENTRY",
        "ARINVOICE",
        "ARINVOICEITEM",
        "ARADJUSTMENT",
        "ARADJUSTMENTITEM",
        "ARPYMT",
        "ARPYMTDETAIL",
    ):
        rows += dump(gw, obj)
    rows.sort(key=lambda r: int(r["RECORDNO"]))
    created_ts = [r["AUWHENCREATED"] for r in rows]
    assert all(a < b for a, b in itertools.pairwise(created_ts))
    modified = [r["WHENMODIFIED"] for r in rows]
    assert len(set(modified)) == len(modified)
    assert all(r["WHENMODIFIED"] >= r["AUWHENCREATED"] for r in rows)
    assert max(modified) <= after.strftime("%Y-%m-%d %H:%M:%S")
    assert max(modified) >= before.strftime("%Y-%m-%d %H:%M:%S")  # ends at the moment of seeding
    # keyset paging on WHENMODIFIED, RECORDNO visits every document once, in that order
    seen: list[tuple[str, int]] = []
    last: tuple[str, str] | None = None
    while True:
        flt = ""
        if last is not None:
            flt = (
                "<filter><or><greaterthan><field>WHENMODIFIED</field><value>"
                + last[0]
                + "</value></greaterthan>"
                "<and><equalto><field>WHENMODIFIED</field><value>" + last[0] + "</value></equalto>"
                "<greaterthan><field>RECORDNO</field><value>"
                + last[1]
                + "</value></greaterthan></and></or></filter>"
            )
        page = gw.call(
            "<query><object>SODOCUMENT</object><select><field>RECORDNO</field><field>WHENMODIFIED</field></select>"
            f"{flt}<orderby><order><field>WHENMODIFIED</field><ascending/></order><order><field>RECORDNO</field>"
            "<ascending/></order></orderby><pagesize>7</pagesize></query>"
        ).data()
        recs = [(r.findtext("WHENMODIFIED", ""), r.findtext("RECORDNO", "")) for r in page]
        if not recs:
            break
        seen += [(w, int(n)) for w, n in recs]
        last = recs[-1]
    assert sorted(n for _, n in seen) == sorted(int(r["RECORDNO"]) for r in docs)
    assert len(seen) == 33
    stamps = [dt.datetime.strptime(w, "%m/%d/%Y %H:%M:%S") for w, _ in seen]
    assert stamps == sorted(stamps)
    # a second seed continues after the first one's clock
    gw.admin("seed", {"orders": 2, "lines_per_order": 1})
    again = dump(gw, "SODOCUMENT")[-2:]
    assert min(r["AUWHENCREATED"] for r in again) > max(modified)


def test_a_closed_period_moves_the_default_start(gw: Gateway) -> None:
    gw.admin("config", {"closed_through": "2026-03-31"})
    gw.admin("seed", {"customers": 1, "orders": 3, "order_payments": 1})
    dates = [iso(r["WHENCREATED"]) for r in query(gw, "SODOCUMENT", ["WHENCREATED"])]
    assert min(dates) == "2026-04-01"


# -- size ----------------------------------------------------------------------------------------------------
def test_ten_thousand_orders_seed(gw: Gateway) -> None:
    started = time.perf_counter()
    resp = requests.post(
        f"{gw.handle.url}/_sandbox/seed",
        json={"customers": 2000, "orders": 10_000, "lines_per_order": 3, "order_payments": 5000},
        timeout=120,
    )
    took = time.perf_counter() - started
    print(f"seeded 2000 customers, 10000 orders x 3 lines, 5000 payments in {took:.2f} s")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "customers": 2000,
        "invoices": 0,
        "payments": 0,
        "orders": 10_000,
        "order_lines": 30_000,
        "returns": 0,
        "return_lines": 0,
        "order_payments": 5000,
        "payment_details": 5000,
    }
    assert count(gw, "SODOCUMENT") == 10_000
    assert count(gw, "SODOCUMENTENTRY") == 30_000
    assert count(gw, "ARPYMTDETAIL") == 5000
    assert count(gw, "ARINVOICE", eq("STATE", "Partially Paid")) == 2500
    last = doc_by_docid(gw, "Sales Invoice-SI-10000")
    assert last.findtext("CUSTVENDID") == "SEED-C002000"
    assert len(last.findall("SODOCUMENTENTRIES/sodocumententry")) == 3
