"""Per-user object permissions and per-company module subscriptions.

Real Intacct gates every object twice: the company must subscribe to the object's module, and
the web-services user's role must grant the operation. Either refusal fails the one function
(errorno PL04000005); the other functions of the request still run and the login itself is fine.

The state lives in the company's settings under `permissions` (absent = everything permitted):
`{"user": "blixo", "deny": ["SODOCUMENT", "CUSTOMER:CREATE"], "unsubscribed": ["Order Entry"]}`.
A deny entry without an operation refuses every operation on the object.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from sandbox.intacct import reads
from sandbox.intacct.catalog import FIELDS, VIEWS, canonical
from sandbox.intacct.records import Ctx
from sandbox.intacct.values import IntacctError, fail

PERMISSION_ERRORNO = "PL04000005"

ACCOUNTS_RECEIVABLE = "Accounts Receivable"
ORDER_ENTRY = "Order Entry"
GENERAL_LEDGER = "General Ledger"
CASH_MANAGEMENT = "Cash Management"
# Locations and entities belong to the Company application, part of every company.
COMPANY = "Company"
MODULES = (ACCOUNTS_RECEIVABLE, ORDER_ENTRY, GENERAL_LEDGER, CASH_MANAGEMENT, COMPANY)
_ALWAYS_SUBSCRIBED = {COMPANY}

# The module whose subscription (and role permissions) an object falls under.
OBJECT_MODULES: dict[str, str] = {
    "CUSTOMER": ACCOUNTS_RECEIVABLE,
    "ARINVOICE": ACCOUNTS_RECEIVABLE,
    "ARINVOICEITEM": ACCOUNTS_RECEIVABLE,
    "ARADJUSTMENT": ACCOUNTS_RECEIVABLE,
    "ARADJUSTMENTITEM": ACCOUNTS_RECEIVABLE,
    "ARPYMT": ACCOUNTS_RECEIVABLE,
    "ARPYMTDETAIL": ACCOUNTS_RECEIVABLE,
    "ARPAYMENT": ACCOUNTS_RECEIVABLE,
    "ARTERM": ACCOUNTS_RECEIVABLE,
    "SODOCUMENT": ORDER_ENTRY,
    "SODOCUMENTENTRY": ORDER_ENTRY,
    "SODOCUMENTPARAMS": ORDER_ENTRY,
    # Items are set up under Order Entry in a company without Inventory Control.
    "ITEM": ORDER_ENTRY,
    "GLACCOUNT": GENERAL_LEDGER,
    "CHECKINGACCOUNT": CASH_MANAGEMENT,
    "LOCATIONENTITY": COMPANY,
    "LOCATION": COMPANY,
}

# Intacct's names for the API operations, as its refusals spell them.
QUERY = "QUERY"
READ_BY_QUERY = "READ_BY_QUERY"
READ_MORE = "READ_MORE"
READ = "READ"
READ_BY_NAME = "READ_BY_NAME"
CREATE = "CREATE"
UPDATE = "UPDATE"
DELETE = "DELETE"
OPERATIONS = (QUERY, READ_BY_QUERY, READ_MORE, READ, READ_BY_NAME, CREATE, UPDATE, DELETE)

# Functions whose <object> element names what they read or delete.
_OBJECT_FUNCTIONS = {
    "query": QUERY,
    "readByQuery": READ_BY_QUERY,
    "read": READ,
    "readByName": READ_BY_NAME,
    "delete": DELETE,
}
# Generic writes: each child element is one record of the object it is named after.
_RECORD_FUNCTIONS = {"create": CREATE, "update": UPDATE}
# Legacy functions: the object each one writes. A reversal or an application changes the
# original record (its state, its amounts due), so it needs UPDATE.
LEGACY_FUNCTIONS: dict[str, tuple[str, str]] = {
    "create_invoice": (CREATE, "ARINVOICE"),
    "update_invoice": (UPDATE, "ARINVOICE"),
    "reverse_invoice": (UPDATE, "ARINVOICE"),
    "create_aradjustment": (CREATE, "ARADJUSTMENT"),
    "update_aradjustment": (UPDATE, "ARADJUSTMENT"),
    "delete_aradjustment": (DELETE, "ARADJUSTMENT"),
    "create_arpayment": (CREATE, "ARPYMT"),
    "apply_arpayment": (UPDATE, "ARPYMT"),
    "reverse_arpayment": (UPDATE, "ARPYMT"),
    "create_sotransaction": (CREATE, "SODOCUMENT"),
    "update_sotransaction": (UPDATE, "SODOCUMENT"),
}
# Every gateway function but getAPISession (which touches no object) is checked.
CHECKED_FUNCTIONS = {*_OBJECT_FUNCTIONS, *_RECORD_FUNCTIONS, "readMore", *LEGACY_FUNCTIONS}

# readByQuery and readMore name the object in lowercase (Intacct's sample: "...READ_BY_QUERY on
# objects of type arinvoice"), as they name their records; the other functions in uppercase
# ("...QUERY on objects of type GLACCOUNT").
_LOWERCASE_NAMES = {READ_BY_QUERY, READ_MORE}


# -- the state -----------------------------------------------------------------------------------
def empty_state(user: str) -> dict[str, Any]:
    return {"user": user, "deny": [], "unsubscribed": []}


def state_of(settings: dict[str, Any], default_user: str) -> dict[str, Any]:
    """The company's permissions as the admin endpoint shows them (the POST body's shape)."""
    current = settings.get("permissions")
    if not isinstance(current, dict):
        return empty_state(default_user)
    return {
        "user": str(current.get("user", default_user)),
        "deny": list(current.get("deny", [])),
        "unsubscribed": list(current.get("unsubscribed", [])),
    }


def parse_state(payload: dict[str, Any], users: list[str], default_user: str) -> dict[str, Any]:
    """Validate an admin body (`user`, `deny`, `unsubscribed`); ValueError says what is wrong."""
    unknown = sorted(set(payload) - {"user", "deny", "unsubscribed"})
    if unknown:
        raise ValueError(f"unknown permission setting {unknown[0]} (use user, deny, unsubscribed)")
    user = payload.get("user", default_user)
    if not isinstance(user, str) or user not in users:
        raise ValueError(f"unknown user {user!r}: the company's users are {', '.join(sorted(users))}")
    deny = sorted({_deny_entry(e) for e in _strings(payload, "deny")})
    unsubscribed = sorted({_module(m) for m in _strings(payload, "unsubscribed")})
    return {"user": user, "deny": deny, "unsubscribed": unsubscribed}


def _strings(payload: dict[str, Any], key: str) -> list[str]:
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return value


def _deny_entry(entry: str) -> str:
    raw_obj, sep, raw_op = entry.partition(":")
    obj = canonical(raw_obj)
    if obj is None:
        raise ValueError(f"unknown object {raw_obj.strip()!r} in deny (objects: {', '.join(sorted(FIELDS))})")
    if not sep:
        return obj
    op = raw_op.strip().upper()
    if op not in OPERATIONS:
        raise ValueError(
            f"unknown operation {raw_op.strip()!r} in deny (operations: {', '.join(OPERATIONS)})"
        )
    return f"{obj}:{op}"


def _module(name: str) -> str:
    for module in MODULES:
        if module.lower() == name.strip().lower():
            if module in _ALWAYS_SUBSCRIBED:
                raise ValueError(f"{module} cannot be unsubscribed: every Intacct company has it")
            return module
    choices = ", ".join(m for m in MODULES if m not in _ALWAYS_SUBSCRIBED)
    raise ValueError(f"unknown module {name!r} (modules: {choices})")


# -- enforcement ---------------------------------------------------------------------------------
def check(ctx: Ctx, function: str, el: Element) -> None:
    """Raise the PL04000005 refusal when the function needs an object the company does not
    subscribe to, or an operation the user may not run. Nothing is checked for an object name
    the sandbox does not know: the function itself refuses it."""
    state = ctx.settings.get("permissions")
    if not isinstance(state, dict):
        return
    for operation, obj in needs(ctx, function, el):
        refusal = _refusal(state, ctx.userid, operation, obj)
        if refusal is not None:
            raise refusal


def needs(ctx: Ctx, function: str, el: Element) -> list[tuple[str, str]]:
    """(operation, object) pairs a function runs, objects in catalogue spelling."""
    if function in _OBJECT_FUNCTIONS:
        obj = canonical(reads.text(el, "object"))
        return [] if obj is None else [(_OBJECT_FUNCTIONS[function], obj)]
    if function in _RECORD_FUNCTIONS:
        objs = (canonical(node.tag) for node in el)
        return [(_RECORD_FUNCTIONS[function], o) for o in dict.fromkeys(objs) if o is not None]
    if function == "readMore":
        rs = reads.RESULTS.get(reads.text(el, "resultId"))
        return [] if rs is None or rs.company != ctx.company else [(READ_MORE, rs.obj)]
    legacy = LEGACY_FUNCTIONS.get(function)
    return [] if legacy is None else [legacy]


def _refusal(state: dict[str, Any], userid: str, operation: str, obj: str) -> IntacctError | None:
    # A legacy view (ARPAYMENT) shows the records of its base object (ARPYMT): what refuses the
    # base refuses the view too.
    governed = [obj, VIEWS[obj]] if obj in VIEWS else [obj]
    module = OBJECT_MODULES[obj]
    shown = obj.lower() if operation in _LOWERCASE_NAMES else obj
    if module in state.get("unsubscribed", []):
        return fail(
            PERMISSION_ERRORNO,
            f"{module} module is not subscribed",
            correction=f"Subscribe the company to {module} (Company > Admin > Subscriptions) to use {obj}",
        )
    if state.get("user") != userid:
        return None
    deny = set(state.get("deny", []))
    if any(o in deny or f"{o}:{operation}" in deny for o in governed):
        return fail(
            PERMISSION_ERRORNO,
            f"You do not have permission for API operation {operation} on objects of type {shown}",
            correction=f"Check the permissions of the user's role for the {module} module",
        )
    return None
