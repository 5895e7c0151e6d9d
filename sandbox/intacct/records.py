"""Reading records: visibility, field checks, relation lookups and XML rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.catalog import CHILDREN, ENTITY_SCOPED, FIELDS, RELATIONS, VIEWS
from sandbox.intacct.filters import Getter
from sandbox.intacct.store import Record, Store
from sandbox.intacct.values import field_error, fmt_number, render


@dataclass
class Ctx:
    """What a function runs with: the store, the caller's identity and per-request tallies."""

    store: Store
    company: str
    userid: str
    entity: str
    sender: str
    endpoint: str
    sessionid: str
    settings: dict[str, Any]
    transactions: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def visible(self, obj: str, rec: Record, showprivate: bool = False) -> bool:
        """Multi-entity visibility: an entity session sees its own and top-level records; the top
        level sees entity-private records only with showprivate."""
        if obj not in ENTITY_SCOPED:
            return True
        owner = rec.get("MEGAENTITYID", "")
        if self.entity:
            return owner in ("", self.entity)
        return owner == "" or showprivate

    def entity_fields(self) -> dict[str, str]:
        if not self.entity:
            return {"MEGAENTITYKEY": "", "MEGAENTITYID": "", "MEGAENTITYNAME": ""}
        ent = self.store.find(self.company, "LOCATIONENTITY", "LOCATIONID", self.entity)
        key, name = (ent[0]["RECORDNO"], ent[0].get("NAME", "")) if ent else ("", "")
        return {"MEGAENTITYKEY": key, "MEGAENTITYID": self.entity, "MEGAENTITYNAME": name}


def arpayment_view(rec: Record) -> Record:
    """An ARPYMT record as the legacy ARPAYMENT object shows it: STATE is V when voided (a
    reversed payment or a reversal), D for a draft and empty otherwise; PAYMENTTYPE is the
    payment method."""
    bank = rec.get("FINANCIALENTITYTYPE") == "BA"
    return {
        "RECORDNO": rec["RECORDNO"],
        "CUSTOMERID": rec.get("CUSTOMERID", ""),
        "CUSTOMERNAME": rec.get("CUSTOMERNAME", ""),
        "STATE": rec["STATE"] if rec.get("STATE") in ("V", "D") else "",
        "RECORDTYPE": rec.get("RECORDTYPE", ""),
        "CURRENCY": rec.get("CURRENCY", ""),
        "RECEIPTDATE": rec.get("RECEIPTDATE", ""),
        "PAYMENTDATE": rec.get("PAYMENTDATE", ""),
        "DOCNUMBER": rec.get("DOCNUMBER", ""),
        "RECORDID": rec.get("RECORDID", ""),
        "PAYMENTTYPE": rec.get("PAYMENTMETHOD", ""),
        "PAYMENTAMOUNT": rec.get("TRX_TOTALENTERED", ""),
        "TOTALAMOUNT": rec.get("TOTALENTERED", ""),
        "DESCRIPTION": rec.get("DESCRIPTION", ""),
        "BANKACCOUNTID": rec.get("FINANCIALENTITY", "") if bank else "",
        "UNDEPFUNDSACCT": rec.get("UNDEPOSITEDACCOUNTNO", "") if not bank else "",
        "AUWHENCREATED": rec.get("AUWHENCREATED", ""),
        "WHENMODIFIED": rec.get("WHENMODIFIED", ""),
        "MEGAENTITYID": rec.get("MEGAENTITYID", ""),  # visibility only; not a field of the object
    }


def source_rows(ctx: Ctx, obj: str) -> list[Record]:
    """Every record of an object, computing legacy views from the object they mirror."""
    base = VIEWS.get(obj)
    if base is None:
        return ctx.store.all(ctx.company, obj)
    return [arpayment_view(r) for r in ctx.store.all(ctx.company, base)]


def source_get(ctx: Ctx, obj: str, recordno: int) -> Record | None:
    base = VIEWS.get(obj)
    if base is None:
        return ctx.store.get(ctx.company, obj, recordno)
    rec = ctx.store.get(ctx.company, base, recordno)
    return None if rec is None else arpayment_view(rec)


def source_find(ctx: Ctx, obj: str, field_name: str, value: str) -> list[Record]:
    if obj not in VIEWS:
        return ctx.store.find(ctx.company, obj, field_name, value)
    return [r for r in source_rows(ctx, obj) if r.get(field_name) == value]


def check_field(obj: str, name: str, *, relations: bool = True) -> str:
    """Canonical field name, or DL02000001 for a field the object does not have."""
    upper = name.strip().upper()
    if upper in FIELDS[obj]:
        return upper
    if relations and "." in upper:
        prefix, rest = upper.split(".", 1)
        rel = RELATIONS.get(obj, {}).get(prefix)
        if rel and rest in FIELDS[rel[0]]:
            return upper
    raise field_error(obj, name.strip())


class Resolver:
    """Value getter with many-to-one lookups (CUSTOMER.NAME) cached for one query."""

    def __init__(self, ctx: Ctx, obj: str) -> None:
        self.ctx = ctx
        self.obj = obj
        self.indexes: dict[str, dict[str, Record]] = {}

    def getter(self, rec: Record) -> Getter:
        def get(name: str) -> str:
            if name in rec or "." not in name or name in FIELDS[self.obj]:
                return rec.get(name, "")
            prefix, rest = name.split(".", 1)
            target, local, remote = RELATIONS[self.obj][prefix]
            index = self.indexes.get(prefix)
            if index is None:
                index = {r.get(remote, ""): r for r in self.ctx.store.all(self.ctx.company, target)}
                self.indexes[prefix] = index
            other = index.get(rec.get(local, ""))
            if other is None:
                return ""
            return other.get(rest, "")

        return get

    def value(self, rec: Record, name: str) -> str:
        return self.getter(rec)(name)


def flat_element(tag: str, obj: str, values: list[tuple[str, str]]) -> Element:
    """<tag><FIELD>..</FIELD>..</tag> with dotted names kept flat (readByQuery / query shape)."""
    el = Element(tag)
    for name, value in values:
        SubElement(el, name).text = render(obj, name, value)
    return el


def nested_element(tag: str, obj: str, values: list[tuple[str, str]]) -> Element:
    """<tag> with dotted names nested (DISPLAYCONTACT.MAILADDRESS.CITY -> <DISPLAYCONTACT><MAILADDRESS>..),
    the shape `read` returns."""
    el = Element(tag)
    groups: dict[str, Element] = {}
    for name, value in values:
        parts = name.split(".")
        parent = el
        path = ""
        for part in parts[:-1]:
            path = f"{path}.{part}" if path else part
            group = groups.get(path)
            if group is None:
                group = SubElement(parent, part)
                groups[path] = group
            parent = group
        SubElement(parent, parts[-1]).text = render(obj, name, value)
    return el


def full_record(ctx: Ctx, obj: str, rec: Record, tag: str, fields: list[str] | None) -> Element:
    """A `read` record: the asked fields (all when None) plus, for '*', owned children."""
    names = list(FIELDS[obj]) if fields is None else fields
    resolver = Resolver(ctx, obj)
    el = nested_element(tag, obj, [(n, resolver.value(rec, n)) for n in names])
    if fields is not None:
        return el
    child = CHILDREN.get(obj)
    if child is not None:
        container, child_tag, child_obj, parent_key = child
        box = SubElement(el, container)
        for row in ctx.store.find(ctx.company, child_obj, parent_key, rec["RECORDNO"]):
            box.append(nested_element(child_tag, child_obj, [(n, row.get(n, "")) for n in FIELDS[child_obj]]))
    if obj in ("ARPYMT", "ARPAYMENT"):
        _payment_applications(ctx, rec, el)
    return el


def _payment_applications(ctx: Ctx, rec: Record, el: Element) -> None:
    """The read side of a payment: INVOICES (what it paid) and CREDITS (credits it consumed),
    all INVOICES first, as in the reference payment samples."""
    credits: list[Element] = []
    for det in ctx.store.find(ctx.company, "ARPYMTDETAIL", "PAYMENTKEY", rec["RECORDNO"]):
        target = ctx.store.get(ctx.company, "ARINVOICE", int(det["RECORDKEY"] or 0)) or ctx.store.get(
            ctx.company, "ARADJUSTMENT", int(det["RECORDKEY"] or 0)
        )
        total = det.get("TRX_PAYMENTAMOUNT", "0") or "0"
        adj = det.get("TRX_ADJUSTMENTAMOUNT", "") or ""
        applied = Decimal(total) + (Decimal(adj) if adj else Decimal(0))
        inv = SubElement(el, "INVOICES")
        SubElement(inv, "RECORD").text = det["RECORDKEY"]
        SubElement(inv, "APPLIEDAMOUNT").text = render("ARPYMTDETAIL", "TRX_PAYMENTAMOUNT", _num(applied))
        SubElement(inv, "RECORDID").text = target.get("RECORDID", "") if target else ""
        if adj and det.get("ADJUSTMENTKEY"):
            credit = ctx.store.get(ctx.company, "ARADJUSTMENT", int(det["ADJUSTMENTKEY"]))
            cr = Element("CREDITS")
            credits.append(cr)
            SubElement(cr, "RECORD").text = det["ADJUSTMENTKEY"]
            SubElement(cr, "RECORDTYPE").text = "ra"
            SubElement(cr, "APPLIEDAMOUNT").text = adj
            SubElement(cr, "RECORDID").text = credit.get("RECORDID", "") if credit else ""
    el.extend(credits)


def _num(value: Decimal) -> str:
    return fmt_number(value)
