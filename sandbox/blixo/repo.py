"""The unit of work of one request: reads and writes objects and derives the events from the diff."""

from __future__ import annotations

import copy
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.blixo.core import ApiError, JsonObj, bad, dumps, loads, ts

PREFIXES = {"customer": "cus", "invoice": "inv", "credit_note": "cn", "payment": "pay"}
NUMBER_FIELDS = {"customer": "customerNo", "invoice": "invoiceNo", "credit_note": "creditNoteNo"}
LABELS = {"customer": "customer", "invoice": "invoice", "credit_note": "credit note", "payment": "payment"}


@dataclass
class Change:
    type: str  # e.g. "invoice.updated"
    object: JsonObj
    previous: JsonObj = field(default_factory=dict)


def _without_stamp(obj: JsonObj) -> JsonObj:
    return {k: v for k, v in obj.items() if k != "updatedAt"}


class Tx:
    """Reads and writes one account's objects inside an open transaction.

    The first time an object is touched its prior state is kept; `changes()` compares prior and
    final states, so every write, including balances moved by a payment, yields exactly one
    event per object, in the order the objects were first touched.
    """

    def __init__(self, conn: sqlite3.Connection, account: str, now: datetime) -> None:
        self.conn = conn
        self.account = account
        self.now = now
        self.stamp = ts(now)
        self._prior: dict[tuple[str, str], JsonObj | None] = {}

    # reads
    def get(self, kind: str, obj_id: str) -> JsonObj | None:
        row = self.conn.execute(
            "SELECT body FROM objects WHERE account=? AND kind=? AND id=? AND deleted=0",
            (self.account, kind, obj_id),
        ).fetchone()
        return loads(row[0]) if row else None

    def require(self, kind: str, obj_id: Any, param: str | None = None) -> JsonObj:
        """404 for the object named in the path; 400 with `param` for one named in the body."""
        found = self.get(kind, obj_id) if isinstance(obj_id, str) else None
        if found is None:
            label = LABELS[kind]
            if param is None:
                raise ApiError(404, f"No such {label}: {obj_id}")
            raise bad(f"No such {label}: {obj_id}", param)
        return found

    def list_objects(
        self,
        kind: str,
        *,
        page: int,
        per_page: int,
        updated_after: str | None = None,
        customer_id: str | None = None,
    ) -> tuple[list[JsonObj], int]:
        where = "account=? AND kind=? AND deleted=0"
        args: list[Any] = [self.account, kind]
        if updated_after is not None:
            where += " AND updated_at > ?"
            args.append(updated_after)
        if customer_id is not None:
            where += " AND customer_id = ?"
            args.append(customer_id)
        total = self.conn.execute(f"SELECT COUNT(*) FROM objects WHERE {where}", args).fetchone()[0]
        # Creation order is stable: an update never moves an object to another page.
        rows = self.conn.execute(
            f"SELECT body FROM objects WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
            [*args, per_page, (page - 1) * per_page],
        ).fetchall()
        return [loads(r[0]) for r in rows], int(total)

    def number_taken(self, kind: str, number: str, exclude_id: str | None = None) -> bool:
        row = self.conn.execute(
            "SELECT id FROM objects WHERE account=? AND kind=? AND number=? AND deleted=0 AND id IS NOT ?",
            (self.account, kind, number, exclude_id),
        ).fetchone()
        return row is not None

    def has_documents(self, customer_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM objects WHERE account=? AND customer_id=? AND deleted=0 AND kind != 'customer'",
            (self.account, customer_id),
        ).fetchone()
        return row is not None

    # writes
    def new_id(self, kind: str) -> str:
        return f"{PREFIXES[kind]}_{secrets.token_hex(8)}"

    def next_number(self, name: str) -> int:
        self.conn.execute(
            "INSERT INTO counters (account, name, value) VALUES (?, ?, 1) "
            "ON CONFLICT (account, name) DO UPDATE SET value = value + 1",
            (self.account, name),
        )
        row = self.conn.execute(
            "SELECT value FROM counters WHERE account=? AND name=?", (self.account, name)
        ).fetchone()
        return int(row[0])

    def touch(self, kind: str, obj_id: str) -> None:
        key = (kind, obj_id)
        if key not in self._prior:
            self._prior[key] = self.get(kind, obj_id)

    def save(self, kind: str, obj: JsonObj) -> JsonObj:
        """Insert or update; a save that changes nothing keeps `updatedAt` and emits nothing."""
        obj_id = obj["id"]
        self.touch(kind, obj_id)
        current = self.get(kind, obj_id)
        number = obj.get(NUMBER_FIELDS.get(kind, ""))
        if current is None:
            obj["createdAt"] = self.stamp
            obj["updatedAt"] = self.stamp
            self.conn.execute(
                "INSERT INTO objects (account, kind, id, number, customer_id, created_at, updated_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.account,
                    kind,
                    obj_id,
                    number,
                    obj.get("customerId"),
                    self.stamp,
                    self.stamp,
                    dumps(obj),
                ),
            )
            return obj
        if _without_stamp(current) == _without_stamp(obj):
            return current
        obj["updatedAt"] = self.stamp
        self.conn.execute(
            "UPDATE objects SET number=?, customer_id=?, updated_at=?, body=? "
            "WHERE account=? AND kind=? AND id=?",
            (number, obj.get("customerId"), self.stamp, dumps(obj), self.account, kind, obj_id),
        )
        return obj

    def delete(self, kind: str, obj_id: str) -> None:
        self.touch(kind, obj_id)
        self.conn.execute(
            "UPDATE objects SET deleted=1, updated_at=? WHERE account=? AND kind=? AND id=?",
            (self.stamp, self.account, kind, obj_id),
        )

    # applications (see the schema)
    def add_application(  # noqa: PLR0917 - mirrors the table's columns
        self,
        source_kind: str,
        source_id: str,
        app_type: str,
        amount: Decimal,
        invoice_id: str | None,
        credit_note_id: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO applications "
            "(account, source_kind, source_id, type, invoice_id, credit_note_id, amount) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.account, source_kind, source_id, app_type, invoice_id, credit_note_id, str(amount)),
        )

    def applications_of(self, source_kind: str, source_id: str) -> list[tuple[str, str | None, str | None]]:
        """(type, invoice_id, credit_note_id) of the active applications a document makes."""
        rows = self.conn.execute(
            "SELECT type, invoice_id, credit_note_id FROM applications "
            "WHERE account=? AND source_kind=? AND source_id=? AND active=1",
            (self.account, source_kind, source_id),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def deactivate_applications(self, source_kind: str, source_id: str, *, forget: bool = False) -> None:
        if forget:  # replaced by a PATCH: the old rows are no history worth keeping
            self.conn.execute(
                "DELETE FROM applications WHERE account=? AND source_kind=? AND source_id=?",
                (self.account, source_kind, source_id),
            )
        else:
            self.conn.execute(
                "UPDATE applications SET active=0 WHERE account=? AND source_kind=? AND source_id=?",
                (self.account, source_kind, source_id),
            )

    def applied_to_invoice(self, invoice_id: str) -> tuple[Decimal, Decimal]:
        """(paid, credited) from active applications."""
        rows = self.conn.execute(
            "SELECT type, amount FROM applications WHERE account=? AND invoice_id=? AND active=1",
            (self.account, invoice_id),
        ).fetchall()
        paid = sum((Decimal(a) for t, a in rows if t == "payment"), Decimal("0"))
        credited = sum((Decimal(a) for t, a in rows if t != "payment"), Decimal("0"))
        return paid, credited

    def applied_from_credit_note(self, credit_note_id: str) -> Decimal:
        rows = self.conn.execute(
            "SELECT amount FROM applications WHERE account=? AND credit_note_id=? AND active=1",
            (self.account, credit_note_id),
        ).fetchall()
        return sum((Decimal(r[0]) for r in rows), Decimal("0"))

    def payments_using_credit_note(self, credit_note_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT source_id FROM applications "
            "WHERE account=? AND credit_note_id=? AND active=1 AND source_kind='payment'",
            (self.account, credit_note_id),
        ).fetchall()
        return [r[0] for r in rows]

    def has_applications_on_invoice(self, invoice_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM applications WHERE account=? AND invoice_id=? AND active=1",
            (self.account, invoice_id),
        ).fetchone()
        return row is not None

    # events
    def changes(self) -> list[Change]:
        out: list[Change] = []
        for (kind, obj_id), prior in self._prior.items():
            final = self.get(kind, obj_id)
            if prior is None and final is not None:
                out.append(Change(f"{kind}.created", final))
            elif prior is not None and final is None:
                out.append(Change(f"{kind}.deleted", prior))
            elif prior is not None and final is not None and _without_stamp(prior) != _without_stamp(final):
                previous = {
                    k: copy.deepcopy(prior.get(k))
                    for k in sorted(set(prior) | set(final))
                    if k != "updatedAt" and prior.get(k) != final.get(k)
                }
                out.append(Change(f"{kind}.updated", final, previous))
        return out
