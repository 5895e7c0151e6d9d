"""What the chaos run asserts, read straight from both sandboxes and the sync table.

- duplicates: a record on either side that no mapping accounts for and the generator did not
  make (the sync wrote it twice), or two live records with one natural key;
- lost: something the generator made that is neither mapped nor an open sync error saying
  why (a voided Blixo object that never reached Intacct needs nothing there);
- balance differences: per invoice (Blixo balance against its A/R record's TOTALDUE, read
  here), and per customer and document from the product's own reconciliation;
- second-pass writes: records that differ between two snapshots of both systems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bisync.store import Mapping, SyncStore
from ops.chaos.workload import Made

KINDS = ("customer", "invoice", "credit_note", "payment", "convenience_fee")
BLIXO_LISTS = {
    "customer": "customers",
    "invoice": "invoices",
    "credit_note": "creditNotes",
    "payment": "payments",
}
INTACCT_OBJECTS = ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT", "SODOCUMENT")
# Which Intacct object a mapping's main key names.
MAIN_OBJECT = {
    "customer": "CUSTOMER",
    "invoice": "ARINVOICE",
    "credit_note": "ARADJUSTMENT",
    "payment": "ARPYMT",
    "convenience_fee": "ARINVOICE",
}


@dataclass
class Snapshot:
    blixo: dict[str, list[dict[str, Any]]]
    intacct: dict[str, list[dict[str, Any]]]
    blixo_events: int

    @classmethod
    def take(cls, sandboxes: Any, api_key: str, company: str) -> Snapshot:
        dump = sandboxes.blixo("dump", apiKey=api_key)
        blixo = {kind: list(dump.get(name, [])) for kind, name in BLIXO_LISTS.items()}
        intacct: dict[str, list[dict[str, Any]]] = {}
        for obj in INTACCT_OBJECTS:
            intacct[obj] = list(
                sandboxes.intacct("dump", company=company, object=obj).get(company, {}).get(obj, [])
            )
        return cls(blixo, intacct, int(dump.get("events", 0)))


def _key(obj: str, record: dict[str, Any]) -> str:
    return str(record["CUSTOMERID"] if obj == "CUSTOMER" else record["RECORDNO"])


def _is_reversal(obj: str, record: dict[str, Any]) -> bool:
    return record.get("STATE") == "Reversal" or record.get("DISPLAYSTATE") == "Reversal"


def _undone_before_seen(obj: str, record: dict[str, Any]) -> bool:
    """A payment reversed in Intacct before any pull saw it: nothing to bring to Blixo (as a
    Blixo payment voided before its push reaches Intacct needs nothing there)."""
    return obj == "ARPYMT" and record.get("STATE") == "V"


def changed_records(before: Snapshot, after: Snapshot) -> dict[str, int]:
    """Records added, removed or changed between two snapshots, per side and kind."""
    out: dict[str, int] = {}
    for kind in BLIXO_LISTS:
        out[f"blixo.{kind}"] = _diff(
            {r["id"]: r for r in before.blixo[kind]}, {r["id"]: r for r in after.blixo[kind]}
        )
    for obj in INTACCT_OBJECTS:
        out[f"intacct.{obj}"] = _diff(
            {_key(obj, r) if obj == "CUSTOMER" else str(r["RECORDNO"]): r for r in before.intacct[obj]},
            {_key(obj, r) if obj == "CUSTOMER" else str(r["RECORDNO"]): r for r in after.intacct[obj]},
        )
    out["blixo.events"] = after.blixo_events - before.blixo_events
    return {k: v for k, v in out.items() if v}


def _diff(a: dict[str, Any], b: dict[str, Any]) -> int:
    return len(a.keys() ^ b.keys()) + sum(1 for k in a.keys() & b.keys() if a[k] != b[k])


@dataclass
class Findings:
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    balance_differences: list[str] = field(default_factory=list)
    mapped: dict[str, int] = field(default_factory=dict)
    # Made by the run, undone before they were ever synced (so rightly in no mapping), per kind.
    undone_unsynced: Counter[str] = field(default_factory=Counter)
    open_errors: list[str] = field(default_factory=list)


def mappings_of(store: SyncStore, tenant_id: str) -> dict[str, list[Mapping]]:
    return {kind: store.mappings.all(tenant_id, kind) for kind in KINDS}


def check(
    snapshot: Snapshot,
    mappings: dict[str, list[Mapping]],
    made: Made,
    open_errors: Iterable[tuple[str, str, str]],  # (object_type, object_id, message)
) -> Findings:
    found = Findings(mapped={k: len(v) for k, v in mappings.items()})
    errors = {(t, i): m for t, i, m in open_errors}
    found.open_errors = [f"{t} {i}: {m}" for (t, i), m in errors.items()]
    _blixo_side(snapshot, mappings, made, errors, found)
    _intacct_side(snapshot, mappings, made, errors, found)
    _invoice_balances(snapshot, mappings, found)
    return found


def _blixo_side(
    snapshot: Snapshot,
    mappings: dict[str, list[Mapping]],
    made: Made,
    errors: dict[tuple[str, str], str],
    found: Findings,
) -> None:
    for kind in BLIXO_LISTS:
        linked = Counter(m.blixo_id for m in mappings[kind])
        found.duplicates += [f"mapping {kind} {b} linked {n} times" for b, n in linked.items() if n > 1]
        ours = set(made.blixo[kind])
        live = {r["id"]: r for r in snapshot.blixo[kind]}
        for oid, record in live.items():
            if oid in linked or (kind, oid) in errors:
                continue
            if oid in ours:
                if record.get("status") == "voided":
                    found.undone_unsynced[kind] += 1
                else:
                    found.lost.append(f"Blixo {kind} {oid} was never synced and has no sync error")
            else:
                found.duplicates.append(f"Blixo {kind} {oid} is in no mapping and was not made by the run")
        found.lost += [f"Blixo {kind} {oid} is gone from Blixo" for oid in ours if oid not in live]
    numbers = Counter(r.get("customerNo") for r in snapshot.blixo["customer"] if r.get("customerNo"))
    numbers += Counter(
        (r.get("customerId"), r.get("invoiceNo")) for r in snapshot.blixo["invoice"] if r.get("invoiceNo")
    )
    found.duplicates += [f"Blixo number {n} used {c} times" for n, c in numbers.items() if c > 1]


def _intacct_side(
    snapshot: Snapshot,
    mappings: dict[str, list[Mapping]],
    made: Made,
    errors: dict[tuple[str, str], str],
    found: Findings,
) -> None:
    keys: dict[str, set[str]] = {obj: set() for obj in INTACCT_OBJECTS}
    extras: set[str] = set()
    for kind, links in mappings.items():
        counted = Counter(m.intacct_key for m in links)
        found.duplicates += [
            f"mapping {kind} Intacct {k} linked {n} times" for k, n in counted.items() if n > 1
        ]
        keys[MAIN_OBJECT[kind]] |= set(counted)
        for m in links:
            extras |= set(m.extra_keys.values())
    oe_invoices = {str(d.get("PRRECORDKEY")) for d in snapshot.intacct["SODOCUMENT"] if d.get("PRRECORDKEY")}
    made_customers = set(made.intacct["customer"])
    made_payments = set(made.intacct["payment"])
    for obj in ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT"):
        for record in snapshot.intacct[obj]:
            key = _key(obj, record)
            if key in keys[obj] or key in extras or _is_reversal(obj, record):
                continue
            ours = (
                key in made_customers
                if obj == "CUSTOMER"
                else key in oe_invoices
                if obj in ("ARINVOICE", "ARADJUSTMENT")
                else key in made_payments
            )
            kind = {
                "CUSTOMER": "customer",
                "ARINVOICE": "invoice",
                "ARADJUSTMENT": "credit_note",
                "ARPYMT": "payment",
            }[obj]
            if ours and _undone_before_seen(obj, record):
                found.undone_unsynced[kind] += 1
                continue
            if ours and (kind, key) in errors:
                continue
            if ours:
                found.lost.append(f"Intacct {obj} {key} was never pulled and has no sync error")
            else:
                found.duplicates.append(f"Intacct {obj} {key} is in no mapping and was not made by the run")
    live = [
        r
        for r in snapshot.intacct["ARINVOICE"]
        if not _is_reversal("ARINVOICE", r) and r.get("STATE") != "Reversed"
    ]
    numbers = Counter((r.get("CUSTOMERID"), r.get("RECORDID")) for r in live if r.get("RECORDID"))
    found.duplicates += [f"Intacct invoice number {n} used {c} times" for n, c in numbers.items() if c > 1]


def _invoice_balances(snapshot: Snapshot, mappings: dict[str, list[Mapping]], found: Findings) -> None:
    blixo = {r["id"]: r for r in snapshot.blixo["invoice"]}
    intacct = {str(r["RECORDNO"]): r for r in snapshot.intacct["ARINVOICE"]}
    for m in mappings["invoice"]:
        b, i = blixo.get(m.blixo_id), intacct.get(m.intacct_key)
        if b is None or i is None:
            found.balance_differences.append(f"invoice {m.blixo_id} / {m.intacct_key}: missing on one side")
            continue
        blixo_open = Decimal(str(b.get("balance", "0")))
        intacct_open = Decimal(str(i.get("TOTALDUE") or "0"))
        if blixo_open != intacct_open:
            found.balance_differences.append(
                f"invoice {m.blixo_id} ({b.get('invoiceNo')}): Blixo {blixo_open} != Intacct {intacct_open}"
            )
