"""Generic create / update / delete: CUSTOMER, ARPYMT, and deleting A/R records."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.catalog import canonical
from sandbox.intacct.ledger import (
    base_fields,
    delete_ar,
    flatten,
)
from sandbox.intacct.payments import (
    create_payment_generic,
    payment_by_key,
)
from sandbox.intacct.reads import schema_error, text
from sandbox.intacct.records import Ctx, check_field
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    coerce_input,
    fail,
    is_int,
    now_ts,
)

# -- generic create / update / delete ------------------------------------------------------------
_READONLY = {
    "RECORDNO",
    "WHENCREATED",
    "WHENMODIFIED",
    "AUWHENCREATED",
    "CREATEDBY",
    "MODIFIEDBY",
    "TOTALDUE",
    "MEGAENTITYKEY",
    "MEGAENTITYID",
    "MEGAENTITYNAME",
    "RECORD_URL",
    "ENTITY",
    "PARENTKEY",
    "TERMKEY",
}


def fn_create(ctx: Ctx, el: Element) -> list[Element]:
    objs = list(el)
    if not objs:
        raise schema_error("Error 1871: Element 'create': Missing child element(s).")
    data = Element("data", {"listtype": "objects", "count": str(len(objs))})
    for node in objs:
        obj = canonical(node.tag)
        if obj == "CUSTOMER":
            rec = _create_customer(ctx, node)
            out = SubElement(data, "customer")
            SubElement(out, "RECORDNO").text = rec["RECORDNO"]
            SubElement(out, "CUSTOMERID").text = rec["CUSTOMERID"]
        elif obj == "ARPYMT":
            rec = create_payment_generic(ctx, node)
            SubElement(SubElement(data, "arpymt"), "RECORDNO").text = rec["RECORDNO"]
        else:
            raise fail(
                "BL01001973",
                f"The create function is not supported for object {node.tag} in this sandbox",
                description="Unsupported object",
            )
        ctx.transactions += 1
    return [data]


def _customer_values(node: Element) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in flatten(node):
        field = check_field("CUSTOMER", name, relations=False)
        values[field] = coerce_input("CUSTOMER", field, value)
    return values


def _check_customer(ctx: Ctx, rec: Record, action: str) -> None:
    label = f"Could not {action} Customer record!"
    if not rec.get("CUSTOMERID"):
        raise fail("BL01001973", "Required field Customer ID (CUSTOMERID) is missing.", label)
    if not rec.get("NAME"):
        raise fail("BL01001973", "Required field Name (NAME) is missing.", label)
    if rec.get("STATUS", "active") not in ("active", "inactive"):
        raise fail("DL02000001", f"Invalid STATUS {rec['STATUS']}: use active or inactive", label)
    if rec.get("TERMNAME") and not ctx.store.find(ctx.company, "ARTERM", "NAME", rec["TERMNAME"]):
        raise fail("BL01001973", f"Invalid term {rec['TERMNAME']}.", label)
    if rec.get("PARENTID") and not ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", rec["PARENTID"]):
        raise fail("BL01001973", f"Invalid parent customer {rec['PARENTID']}.", label)


def _create_customer(ctx: Ctx, node: Element) -> Record:
    values = {k: v for k, v in _customer_values(node).items() if k not in _READONLY}
    rec: Record = {
        "STATUS": "active",
        "ONETIME": "false",
        "ONHOLD": "false",
        "TOTALDUE": "0",
        "WHENCREATED": now_ts(),
        **base_fields(ctx),
        **values,
    }
    _check_customer(ctx, rec, "create")
    if ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", rec["CUSTOMERID"]):
        raise fail(
            "BL01001973",
            f"Another record with the value {rec['CUSTOMERID']} already exists.",
            "Could not create Customer record!",
            description="Duplicate customer",
            correction="Use a unique value for CUSTOMERID",
        )
    rec.setdefault("DISPLAYCONTACT.PRINTAS", rec["NAME"])
    rec.setdefault("DISPLAYCONTACT.COMPANYNAME", rec["NAME"])
    rec.setdefault("DISPLAYCONTACT.CONTACTNAME", f"{rec['NAME']}({rec['CUSTOMERID']})")
    rec["ENTITY"] = f"C{rec['CUSTOMERID']}"
    return ctx.store.insert(ctx.company, "CUSTOMER", rec)


def fn_update(ctx: Ctx, el: Element) -> list[Element]:
    objs = list(el)
    if not objs:
        raise schema_error("Error 1871: Element 'update': Missing child element(s).")
    data = Element("data", {"listtype": "objects", "count": str(len(objs))})
    for node in objs:
        obj = canonical(node.tag)
        if obj == "CUSTOMER":
            rec = _update_customer(ctx, node)
            out = SubElement(data, "customer")
            SubElement(out, "RECORDNO").text = rec["RECORDNO"]
            SubElement(out, "CUSTOMERID").text = rec["CUSTOMERID"]
        elif obj == "ARPYMT":
            key = text(node, "RECORDNO")
            current = payment_by_key(ctx, key) if key else None
            if current is None:
                raise fail(
                    "BL01001973", f"No ARPYMT record found for key {key}.", "Could not update ARPYMT record!"
                )
            if current.get("STATE") == "D":
                raise fail(
                    "BL01001973",
                    "Updating or submitting a draft payment is not supported by the sandbox.",
                    "Could not update ARPYMT record!",
                    correction="Delete the draft and create the payment again",
                )
            raise fail(
                "BL01001973",
                "Only draft payments can be updated; this payment is posted.",
                "Could not update ARPYMT record!",
                correction="Reverse the payment and create a new one",
            )
        else:
            raise fail(
                "BL01001973", f"The update function is not supported for object {node.tag} in this sandbox"
            )
        ctx.transactions += 1
    return [data]


def _update_customer(ctx: Ctx, node: Element) -> Record:
    values = _customer_values(node)
    rec: Record | None = None
    if values.get("RECORDNO"):
        recordno = values["RECORDNO"]  # a number field: "12.5" passes its check, int() refuses it
        rec = ctx.store.get(ctx.company, "CUSTOMER", int(recordno)) if is_int(recordno) else None
    elif values.get("CUSTOMERID"):
        found = ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", values["CUSTOMERID"])
        rec = found[0] if found else None
    if rec is None or not ctx.visible("CUSTOMER", rec, True):
        key = values.get("RECORDNO") or values.get("CUSTOMERID", "")
        raise fail(
            "BL01001973",
            f"No Customer record found for {key}.",
            "Could not update Customer record!",
            correction="Give an existing RECORDNO or CUSTOMERID",
        )
    if values.get("CUSTOMERID") and values.get("RECORDNO") and values["CUSTOMERID"] != rec["CUSTOMERID"]:
        raise fail(
            "BL01001973", "CUSTOMERID cannot be changed through update.", "Could not update Customer record!"
        )
    rec.update({k: v for k, v in values.items() if k not in _READONLY})
    _check_customer(ctx, rec, "update")
    return ctx.store.update(ctx.company, "CUSTOMER", rec)


def fn_delete(ctx: Ctx, el: Element) -> list[Element]:
    obj = canonical(text(el, "object"))
    keys = [k.strip() for k in text(el, "keys").split(",") if k.strip()]
    if obj is None or not keys:
        raise schema_error(
            "Error 1871: Element 'delete': Missing child element(s). Expected is ( object, keys )."
        )
    data = Element("data", {"listtype": "objects", "count": str(len(keys))})
    for key in keys:
        if not is_int(key):
            raise fail("DL02000001", f"Invalid key {key}", description="Invalid key")
        rec = ctx.store.get(ctx.company, obj, int(key))
        if rec is None or not ctx.visible(obj, rec, True):
            raise fail(
                "BL01001973", f"No {obj} record found for key {key}.", f"Could not delete {obj} record!"
            )
        if obj == "CUSTOMER":
            if any(
                ctx.store.find(ctx.company, o, "CUSTOMERID", rec["CUSTOMERID"])
                for o in ("ARINVOICE", "ARADJUSTMENT", "ARPYMT")
            ):
                raise fail(
                    "BL01001973",
                    f"Customer {rec['CUSTOMERID']} has transactions and cannot be deleted.",
                    "Could not delete Customer record!",
                    correction="Make the customer inactive instead",
                )
            ctx.store.delete(ctx.company, obj, int(key))
        elif obj == "ARPYMT":
            if rec.get("STATE") != "D":
                # Intacct deletes draft payments only; a posted payment is voided with reverse_arpayment.
                raise fail(
                    "BL01001973",
                    f"Payment {key} is not a draft (state {rec.get('DISPLAYSTATE') or rec.get('STATE')}): "
                    "only draft payments can be deleted.",
                    "Could not delete ARPYMT record!",
                    correction="Use reverse_arpayment to void a posted payment",
                )
            for det in ctx.store.find(ctx.company, "ARPYMTDETAIL", "PAYMENTKEY", key):
                ctx.store.delete(ctx.company, "ARPYMTDETAIL", int(det["RECORDNO"]))
            ctx.store.delete(ctx.company, obj, int(key))
        elif obj in ("ARINVOICE", "ARADJUSTMENT"):
            delete_ar(ctx, obj, rec)
        else:
            raise fail("BL01001973", f"The delete function is not supported for object {obj} in this sandbox")
        SubElement(SubElement(data, obj.lower()), "RECORDNO").text = key
        ctx.transactions += 1
    return [data]
