"""Reads: query, readByQuery/readMore, read, readByName, field catalogue, reference data."""

from __future__ import annotations

import re

import pytest
from sageintacctsdk.apis.constants import dimensions_fields_mapping

from tests.conftest import needs_reference_xml

from .conftest import Gateway


def _query(obj: str, fields: list[str], extra: str = "") -> str:
    sel = "".join(f"<field>{f}</field>" for f in fields)
    return f"<query><object>{obj}</object><select>{sel}</select>{extra}</query>"


def _customers(gw: Gateway, n: int) -> None:
    for i in range(1, n + 1):
        gw.customer(f"C{i:03d}", f"Customer {i}", STATUS="inactive" if i % 3 == 0 else "active")


@pytest.mark.parametrize(
    ("obj", "field", "value"),
    [
        ("GLACCOUNT", "ACCOUNTNO", "1200"),
        ("GLACCOUNT", "ACCOUNTNO", "4000"),
        ("GLACCOUNT", "ACCOUNTNO", "1500"),
        ("GLACCOUNT", "ACCOUNTNO", "4900"),
        ("CHECKINGACCOUNT", "BANKACCOUNTID", "BOA-CHK"),
        ("ITEM", "ITEMID", "WIDGET"),
        ("ARTERM", "NAME", "N30"),
        ("TERM", "NAME", "N30"),
        ("LOCATIONENTITY", "LOCATIONID", "E200"),
        ("SODOCUMENTPARAMS", "DOCID", "Sales Return"),
    ],
)
def test_reference_data_is_queryable(gw: Gateway, obj: str, field: str, value: str) -> None:
    flt = f"<filter><equalto><field>{field}</field><value>{value}</value></equalto></filter>"
    data = gw.call(_query(obj, ["RECORDNO", field], flt)).data()
    assert data.get("totalcount") == "1"
    assert data.findtext(f"*/{field}") == value


@pytest.mark.parametrize(
    "obj",
    [
        "CUSTOMER",
        "ARINVOICE",
        "ARPYMT",
        "GLACCOUNT",
        "CHECKINGACCOUNT",
        "ITEM",
        "LOCATIONENTITY",
        "ARINVOICEITEM",
        "LOCATION",
    ],
)
def test_sdk_default_field_lists_are_all_accepted(gw: Gateway, obj: str) -> None:
    fields = dimensions_fields_mapping[obj]
    data = gw.call(_query(obj, fields, "<pagesize>1</pagesize>")).data()
    rec = data.find(obj)
    if rec is not None:  # known-but-empty fields still come back, as empty elements
        assert [c.tag for c in rec] == fields


def test_unknown_field_is_dl02000001(gw: Gateway) -> None:
    resp = gw.call(_query("CUSTOMER", ["RECORDNO", "SHOESIZE"]))
    assert resp.result().findtext("status") == "failure"
    err = resp.errors()[0]
    assert err["errorno"] == "DL02000001"
    assert "SHOESIZE" in err["description2"]


def test_query_filter_grammar_order_offset_and_paging(gw: Gateway) -> None:
    _customers(gw, 9)
    flt = (
        "<filter><and><or><like><field>NAME</field><value>Customer 1%</value></like>"
        "<in><field>CUSTOMERID</field><value>C004</value><value>C005</value><value>C006</value></in></or>"
        "<notequalto><field>STATUS</field><value>inactive</value></notequalto></and></filter>"
        "<orderby><order><field>CUSTOMERID</field><descending/></order></orderby>"
    )
    data = gw.call(_query("CUSTOMER", ["CUSTOMERID", "STATUS"], flt)).data()
    assert [c.findtext("CUSTOMERID") for c in data] == ["C005", "C004", "C001"]
    assert data.get("listtype") == "CUSTOMER"
    page = gw.call(_query("CUSTOMER", ["CUSTOMERID"], "<pagesize>4</pagesize><offset>4</offset>")).data()
    assert (page.get("totalcount"), page.get("offset"), page.get("count"), page.get("numremaining")) == (
        "9",
        "4",
        "4",
        "1",
    )
    assert [c.findtext("CUSTOMERID") for c in page] == ["C005", "C006", "C007", "C008"]
    between = gw.call(
        _query(
            "CUSTOMER",
            ["CUSTOMERID"],
            "<filter><between><field>CUSTOMERID</field>"
            "<value>C002</value><value>C004</value></between></filter>",
        )
    ).data()
    assert [c.findtext("CUSTOMERID") for c in between] == ["C002", "C003", "C004"]
    nulls = gw.call(
        _query("CUSTOMER", ["CUSTOMERID"], "<filter><isnull><field>PARENTID</field></isnull></filter>")
    ).data()
    assert nulls.get("totalcount") == "9"


def test_query_pagesize_bounds(gw: Gateway) -> None:
    assert gw.call(_query("CUSTOMER", ["RECORDNO"], "<pagesize>2000</pagesize>")).data() is not None
    resp = gw.call(_query("CUSTOMER", ["RECORDNO"], "<pagesize>2001</pagesize>"))
    assert resp.result().findtext("status") == "failure"
    assert resp.errors()[0]["errorno"] == "XL03000003"
    no_select = gw.call("<query><object>CUSTOMER</object></query>")
    assert no_select.errors()[0]["errorno"] == "XL03000003"


def test_iso_dates_in_filters_are_refused_us_dates_work(gw: Gateway) -> None:
    gw.customer("D1")
    iso = gw.call(
        _query(
            "CUSTOMER",
            ["RECORDNO"],
            "<filter><greaterthan><field>WHENMODIFIED</field>"
            "<value>2024-01-01T00:00:00</value></greaterthan></filter>",
        )
    )
    assert iso.errors()[0]["errorno"] == "DL02000001"
    us = gw.call(
        _query(
            "CUSTOMER",
            ["CUSTOMERID", "WHENMODIFIED"],
            "<filter><greaterthan><field>WHENMODIFIED"
            "</field><value>01/01/2024 00:00:00</value></greaterthan></filter>",
        )
    ).data()
    assert us.findtext("CUSTOMER/CUSTOMERID") == "D1"
    assert __import__("re").fullmatch(
        r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", us.findtext("CUSTOMER/WHENMODIFIED", "")
    )


def test_dotted_many_to_one_field(gw: Gateway) -> None:
    gw.customer("R1", "Rel Corp")
    gw.invoice("R1")
    data = gw.call(
        _query(
            "ARINVOICE",
            ["RECORDNO", "CUSTOMER.NAME"],
            "<filter><equalto><field>CUSTOMER.NAME</field><value>Rel Corp</value></equalto></filter>",
        )
    ).data()
    assert data.findtext("ARINVOICE/CUSTOMER.NAME") == "Rel Corp"
    bad = gw.call(_query("ARINVOICE", ["CUSTOMER.SHOESIZE"]))
    assert bad.errors()[0]["errorno"] == "DL02000001"


def test_showprivate_reveals_entity_records_at_top_level(gw: Gateway) -> None:
    sid = gw.session_id(entity="E100")
    gw.call(
        "<create><CUSTOMER><CUSTOMERID>P1</CUSTOMERID><NAME>Private</NAME></CUSTOMER></create>",
        auth=f"<sessionid>{sid}</sessionid>",
    )
    gw.customer("T1", "Top")
    plain = gw.call(_query("CUSTOMER", ["CUSTOMERID", "MEGAENTITYID"])).data()
    assert [c.findtext("CUSTOMERID") for c in plain] == ["T1"]
    private = gw.call(
        _query(
            "CUSTOMER", ["CUSTOMERID", "MEGAENTITYID"], "<options><showprivate>true</showprivate></options>"
        )
    ).data()
    assert {c.findtext("CUSTOMERID"): c.findtext("MEGAENTITYID") for c in private} == {"P1": "E100", "T1": ""}
    in_entity = gw.call(_query("CUSTOMER", ["CUSTOMERID"]), auth=f"<sessionid>{sid}</sessionid>").data()
    assert {c.findtext("CUSTOMERID") for c in in_entity} == {"P1", "T1"}


def test_every_read_function_hides_entity_private_records_at_top_level(gw: Gateway) -> None:
    sid = gw.session_id(entity="E100")
    entity = f"<sessionid>{sid}</sessionid>"
    key = (
        gw.call(
            "<create><CUSTOMER><CUSTOMERID>P2</CUSTOMERID><NAME>Private</NAME></CUSTOMER></create>",
            auth=entity,
        )
        .data()
        .findtext("customer/RECORDNO", "")
    )
    gw.customer("T2", "Top")
    rbq = "<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields><query></query></readByQuery>"
    by_name = (
        "<readByName><object>CUSTOMER</object><keys>P2,T2</keys><fields>CUSTOMERID</fields></readByName>"
    )
    by_key = f"<read><object>CUSTOMER</object><keys>{key}</keys><fields>CUSTOMERID</fields></read>"
    top = gw.post([rbq, by_name, by_key])
    assert [c.findtext("CUSTOMERID") for c in top.data(0)] == ["T2"]
    assert top.data(0).get("totalcount") == "1"
    assert [c.findtext("CUSTOMERID") for c in top.data(1)] == ["T2"]
    assert top.data(2).get("count") == "0"
    inside = gw.post([rbq, by_name, by_key], auth=entity)
    assert sorted(c.findtext("CUSTOMERID", "") for c in inside.data(0)) == ["P2", "T2"]
    assert sorted(c.findtext("CUSTOMERID", "") for c in inside.data(1)) == ["P2", "T2"]
    assert [c.findtext("CUSTOMERID") for c in inside.data(2)] == ["P2"]
    # The other entity does not see E100's private customer either.
    other = gw.post([rbq], auth=f"<sessionid>{gw.session_id(entity='E200')}</sessionid>")
    assert [c.findtext("CUSTOMERID") for c in other.data(0)] == ["T2"]


def test_read_by_query_accepts_backslash_escaped_quotes(gw: Gateway) -> None:
    gw.customer("Q1", "Jane's Deli")
    gw.customer("Q2", "Janes Deli")
    gw.customer("Q3", "Back\\slash")

    def names(query: str) -> list[str]:
        data = gw.call(
            f"<readByQuery><object>CUSTOMER</object><fields>NAME</fields><query>{query}</query></readByQuery>"
        ).data()
        return [c.findtext("NAME", "") for c in data]

    assert names("NAME = 'Jane\\'s Deli'") == ["Jane's Deli"]
    assert names("NAME LIKE 'Jane\\'s%' OR NAME IN ('x', 'Janes Deli')") == ["Jane's Deli", "Janes Deli"]
    assert names("NAME = 'Jane''s Deli'") == ["Jane's Deli"]
    assert names("NAME = 'Back\\\\slash'") == ["Back\\slash"]
    unterminated = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>NAME</fields><query>NAME = 'Jane\\'</query></readByQuery>"
    )
    assert unterminated.errors()[0]["errorno"] == "DL02000001"


def test_query_caseinsensitive_option_applies_to_every_comparison(gw: Gateway) -> None:
    gw.customer("abc-1", "Acme Corp")
    gw.customer("ABC-2", "acme corp")
    gw.customer("XYZ-3", "Other")
    ci = "<options><caseinsensitive>true</caseinsensitive></options>"

    def ids(flt: str, options: str = "") -> list[str]:
        data = gw.call(_query("CUSTOMER", ["CUSTOMERID"], f"<filter>{flt}</filter>{options}")).data()
        return [c.findtext("CUSTOMERID", "") for c in data]

    eq = "<equalto><field>NAME</field><value>ACME CORP</value></equalto>"
    like = "<like><field>CUSTOMERID</field><value>abc%</value></like>"
    in_ = "<in><field>CUSTOMERID</field><value>abc-2</value><value>xyz-3</value></in>"
    notin = "<notin><field>CUSTOMERID</field><value>ABC-1</value></notin>"
    ne = "<notequalto><field>NAME</field><value>ACME CORP</value></notequalto>"
    gt = "<greaterthan><field>CUSTOMERID</field><value>abc-9</value></greaterthan>"
    assert ids(eq) == []
    assert ids(eq, ci) == ["abc-1", "ABC-2"]
    assert ids(like) == ["abc-1"]
    assert ids(like, ci) == ["abc-1", "ABC-2"]
    assert ids(in_) == []
    assert ids(in_, ci) == ["ABC-2", "XYZ-3"]
    assert ids(notin, ci) == ["ABC-2", "XYZ-3"]
    assert ids(ne, ci) == ["XYZ-3"]
    assert ids(gt, ci) == ["XYZ-3"]
    both = f"<and>{eq}<like><field>CUSTOMERID</field><value>ABC-%</value></like></and>"
    assert ids(both, ci) == ["abc-1", "ABC-2"]


def test_read_by_query_grammar_lowercase_and_read_more(gw: Gateway) -> None:
    _customers(gw, 7)
    q = "(CUSTOMERID IN ('C001','C002','C003') OR NAME LIKE 'Customer 7%') AND NOT STATUS = 'inactive'"
    data = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID,NAME</fields>"
        f"<query>{q.replace('&', '&amp;').replace('<', '&lt;')}</query><pagesize>10</pagesize>"
        "</readByQuery>"
    ).data()
    assert data.get("listtype") == "customer"
    assert [c.findtext("CUSTOMERID") for c in data.findall("customer")] == ["C001", "C002", "C007"]
    nulls = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields>"
        "<query>PARENTID IS NULL AND RECORDNO &gt;= 1</query><pagesize>3</pagesize></readByQuery>"
    ).data()
    assert (nulls.get("count"), nulls.get("totalcount"), nulls.get("numremaining")) == ("3", "7", "4")
    rid = nulls.get("resultId", "")
    assert rid
    seen = [c.findtext("CUSTOMERID") for c in nulls]
    while rid:
        more = gw.call(f"<readMore><resultId>{rid}</resultId></readMore>").data()
        seen += [c.findtext("CUSTOMERID") for c in more.findall("customer")]
        rid = more.get("resultId", "") if more.get("numremaining") != "0" else ""
    assert seen == [f"C{i:03d}" for i in range(1, 8)]
    star = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>*</fields><query></query><pagesize>1"
        "</pagesize></readByQuery>"
    ).data()
    rec = star.find("customer")
    assert rec is not None
    assert rec.find("DISPLAYCONTACT.PRINTAS") is not None  # flat dotted names in readByQuery


def test_read_by_query_errors_and_expiring_result_ids(gw: Gateway) -> None:
    _customers(gw, 3)
    big = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>*</fields><query></query>"
        "<pagesize>1001</pagesize></readByQuery>"
    )
    assert big.result().findtext("status") == "failure"
    syntax = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>*</fields><query>NAME = = 'x'</query>"
        "<pagesize>10</pagesize></readByQuery>"
    )
    assert syntax.errors()[0]["errorno"] == "DL02000001"
    gw.admin("config", {"result_ttl_s": -1})
    first = gw.call(
        "<readByQuery><object>CUSTOMER</object><fields>RECORDNO</fields><query></query>"
        "<pagesize>1</pagesize></readByQuery>"
    ).data()
    expired = gw.call(f"<readMore><resultId>{first.get('resultId')}</resultId></readMore>")
    assert expired.result().findtext("status") == "failure"
    assert "resultId" in expired.errors()[0]["description2"]


def test_read_returns_uppercase_records_with_owned_children(gw: Gateway) -> None:
    gw.customer("K1", "Kids")
    key = gw.invoice("K1", "42.50")
    inv = gw.read("ARINVOICE", key)
    assert inv.findtext("RECORDNO") == key
    assert inv.findtext("TOTALENTERED") == "42.5"
    items = inv.findall("ARINVOICEITEMS/arinvoiceitem")
    assert len(items) == 1
    assert items[0].findtext("ACCOUNTNO") == "4000"
    some = gw.read("ARINVOICE", key, "RECORDNO,STATE")
    assert [c.tag for c in some] == ["RECORDNO", "STATE"]
    missing = gw.call("<read><object>ARINVOICE</object><keys>99999</keys><fields>*</fields></read>").data()
    assert missing.get("count") == "0"


def test_read_nests_dotted_fields_and_read_by_name(gw: Gateway) -> None:
    gw.call(
        "<create><CUSTOMER><CUSTOMERID>N1</CUSTOMERID><NAME>Named</NAME><DISPLAYCONTACT>"
        "<EMAIL1>n@example.com</EMAIL1><MAILADDRESS><CITY>Austin</CITY></MAILADDRESS></DISPLAYCONTACT>"
        "</CUSTOMER></create>"
    )
    data = gw.call(
        "<readByName><object>CUSTOMER</object><keys>N1</keys><fields>*</fields></readByName>"
    ).data()
    rec = data.find("CUSTOMER")
    assert rec is not None
    assert rec.findtext("DISPLAYCONTACT/EMAIL1") == "n@example.com"
    assert rec.findtext("DISPLAYCONTACT/MAILADDRESS/CITY") == "Austin"
    assert rec.findtext("DISPLAYCONTACT/PRINTAS") == "Named"


def test_unknown_object(gw: Gateway) -> None:
    resp = gw.call(_query("WIDGETS", ["RECORDNO"]))
    assert resp.result().findtext("status") == "failure"


@needs_reference_xml
def test_shapes_mirror_the_reference_responses(gw: Gateway) -> None:
    """Our readByQuery answer carries the same envelope and data attributes as a real one."""
    from defusedxml.ElementTree import parse

    from tests.conftest import REFERENCE_XML

    ref = parse(
        REFERENCE_XML / "intacct_customer_importer" / "intacct_customer_importer_customers.xml"
    ).getroot()
    ref_data = ref.find("operation/result/data")
    assert ref_data is not None
    gw.customer("SHAPE")
    ref_fields = [c.tag for c in ref_data[0]]
    ours = gw.call(
        f"<readByQuery><object>CUSTOMER</object><fields>{','.join(ref_fields)}</fields><query></query>"
        "<pagesize>100</pagesize></readByQuery>"
    )
    data = ours.data()
    assert set(data.attrib) == set(ref_data.attrib)
    assert [c.tag for c in data[0]] == ref_fields
    assert [c.tag for c in ours.root] == [c.tag for c in ref]
    assert [c.tag for c in ours.result()][:3] == [c.tag for c in ref.find("operation/result")][:3]


def test_query_count_groups_by_the_selected_fields(gw: Gateway) -> None:
    _customers(gw, 7)  # C003 and C006 inactive
    grouped = gw.call(
        _query("CUSTOMER", [], "").replace(
            "<select></select>", "<select><field>STATUS</field><count>RECORDNO</count></select>"
        )
    ).data()
    assert (grouped.get("listtype"), grouped.get("totalcount"), grouped.get("count")) == (
        "CUSTOMER",
        "2",
        "2",
    )
    rows = [[(c.tag, c.text) for c in r] for r in grouped]
    assert rows == [
        [("STATUS", "active"), ("COUNT.RECORDNO", "5")],
        [("STATUS", "inactive"), ("COUNT.RECORDNO", "2")],
    ]
    only_count = (
        "<query><object>CUSTOMER</object><select><count>RECORDNO</count></select>"
        "<filter><like><field>CUSTOMERID</field><value>C00%</value></like></filter></query>"
    )
    total = gw.call(only_count).data()
    assert [(c.tag, c.text) for c in total[0]] == [("COUNT.RECORDNO", "7")]
    nothing = gw.call(only_count.replace("C00%", "ZZZ%")).data()
    assert (nothing.get("totalcount"), nothing.findtext("CUSTOMER/COUNT.RECORDNO")) == ("1", "0")
    # COUNT(field) counts only rows where the field has a value.
    gw.customer("T-1", "Termed", TERMNAME="N30")
    terms = gw.call("<query><object>CUSTOMER</object><select><count>TERMNAME</count></select></query>").data()
    assert terms.findtext("CUSTOMER/COUNT.TERMNAME") == "1"
    summed = gw.call("<query><object>CUSTOMER</object><select><sum>TOTALDUE</sum></select></query>")
    assert summed.errors()[0]["errorno"] == "DL02000001"
    assert "only count" in summed.errors()[0]["description2"]
    bogus = gw.call("<query><object>CUSTOMER</object><select><median>TOTALDUE</median></select></query>")
    assert bogus.errors()[0]["errorno"] == "XL03000003"
    unknown = gw.call("<query><object>CUSTOMER</object><select><count>SHOESIZE</count></select></query>")
    assert unknown.errors()[0]["errorno"] == "DL02000001"


@pytest.mark.parametrize("fmt", ["json", "csv", "JSON"])
def test_non_xml_return_formats_are_refused_not_ignored(gw: Gateway, fmt: str) -> None:
    gw.customer("F1")
    calls = [
        _query("CUSTOMER", ["CUSTOMERID"], f"<options><returnformat>{fmt}</returnformat></options>"),
        "<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields><query></query>"
        f"<pagesize>10</pagesize><returnFormat>{fmt}</returnFormat></readByQuery>",
        f"<read><object>CUSTOMER</object><keys>1</keys><fields>*</fields><returnFormat>{fmt}</returnFormat></read>",
        "<readByName><object>CUSTOMER</object><keys>F1</keys><fields>*</fields>"
        f"<returnFormat>{fmt}</returnFormat></readByName>",
    ]
    resp = gw.post(calls)
    for n in range(len(calls)):
        err = resp.errors(n)[0]
        assert err["errorno"] == "DL02000001"
        assert "not supported by the sandbox" in err["description2"]
        assert resp.result(n).find("data") is None
    xml = gw.call(_query("CUSTOMER", ["CUSTOMERID"], "<options><returnformat>xml</returnformat></options>"))
    assert xml.data().findtext("CUSTOMER/CUSTOMERID") == "F1"


def test_master_data_timestamps_include_the_time(gw: Gateway) -> None:
    for obj in ("SODOCUMENTPARAMS", "ARTERM", "GLACCOUNT"):
        data = gw.call(_query(obj, ["RECORDNO", "WHENCREATED"], "<pagesize>1</pagesize>")).data()
        stamp = data.findtext(f"{obj}/WHENCREATED", "")
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", stamp), (obj, stamp)
