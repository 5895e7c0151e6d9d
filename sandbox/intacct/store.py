"""SQLite state: records of every object as JSON, sessions, control ids, settings.

One connection guarded by one lock: the sandbox serialises the work of concurrent requests (the
concurrency cap and latency faults are applied outside the lock, so they stay observable).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.intacct.values import now_ts

Record = dict[str, str]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (
    company TEXT PRIMARY KEY, settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seq (
    company TEXT PRIMARY KEY, next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    company TEXT NOT NULL, object TEXT NOT NULL, recordno INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (company, object, recordno)
);
CREATE TABLE IF NOT EXISTS sessions (
    sessionid TEXT PRIMARY KEY, company TEXT NOT NULL, userid TEXT NOT NULL, entity TEXT NOT NULL,
    created REAL NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS controlids (
    company TEXT NOT NULL, sender TEXT NOT NULL, controlid TEXT NOT NULL, function TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (company, sender, controlid)
);
"""


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/SAVEPOINT ourselves (transaction="true" semantics).
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(_SCHEMA)

    # -- transactions ---------------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self.db.execute("ROLLBACK")

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """Everything inside commits together or not at all (one function's writes)."""
        self.db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            self.db.execute(f"RELEASE {name}")
            raise
        self.db.execute(f"RELEASE {name}")

    # -- companies ------------------------------------------------------------------------------
    def companies(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT company FROM companies ORDER BY company")]

    def settings(self, company: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT settings FROM companies WHERE company=?", (company,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put_settings(self, company: str, settings: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO companies(company, settings) VALUES(?, ?) "
            "ON CONFLICT(company) DO UPDATE SET settings=excluded.settings",
            (company, json.dumps(settings)),
        )

    def wipe(self) -> None:
        for table in ("companies", "seq", "records", "sessions", "controlids"):
            self.db.execute(f"DELETE FROM {table}")

    # -- records --------------------------------------------------------------------------------
    def next_recordno(self, company: str) -> int:
        # One counter per company, shared by all objects: a recreated record always gets a new key.
        row = self.db.execute("SELECT next FROM seq WHERE company=?", (company,)).fetchone()
        value = 1 if row is None else int(row[0])
        self.db.execute(
            "INSERT INTO seq(company, next) VALUES(?, ?) "
            "ON CONFLICT(company) DO UPDATE SET next=excluded.next",
            (company, value + 1),
        )
        return value

    def insert(self, company: str, obj: str, data: Record, *, stamp: bool = True) -> Record:
        rec = dict(data)
        if not rec.get("RECORDNO"):
            rec["RECORDNO"] = str(self.next_recordno(company))
        if stamp:
            ts = now_ts()
            rec.setdefault("WHENMODIFIED", ts)
            rec["WHENMODIFIED"] = ts
            if "AUWHENCREATED" not in rec:
                rec["AUWHENCREATED"] = ts
        self.db.execute(
            "INSERT INTO records(company, object, recordno, data) VALUES(?, ?, ?, ?)",
            (company, obj, int(rec["RECORDNO"]), json.dumps(rec)),
        )
        return rec

    def update(self, company: str, obj: str, rec: Record, *, stamp: bool = True) -> Record:
        if stamp:
            rec["WHENMODIFIED"] = now_ts()
        self.db.execute(
            "UPDATE records SET data=? WHERE company=? AND object=? AND recordno=?",
            (json.dumps(rec), company, obj, int(rec["RECORDNO"])),
        )
        return rec

    def delete(self, company: str, obj: str, recordno: int) -> None:
        self.db.execute(
            "DELETE FROM records WHERE company=? AND object=? AND recordno=?", (company, obj, recordno)
        )

    def get(self, company: str, obj: str, recordno: int) -> Record | None:
        row = self.db.execute(
            "SELECT data FROM records WHERE company=? AND object=? AND recordno=?", (company, obj, recordno)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def all(self, company: str, obj: str) -> list[Record]:
        rows = self.db.execute(
            "SELECT data FROM records WHERE company=? AND object=? ORDER BY recordno", (company, obj)
        )
        return [dict(json.loads(r[0])) for r in rows]

    def find(self, company: str, obj: str, fieldname: str, value: str) -> list[Record]:
        rows = self.db.execute(
            "SELECT data FROM records WHERE company=? AND object=? AND json_extract(data, ?) = ? "
            "ORDER BY recordno",
            (company, obj, f'$."{fieldname}"', value),
        )
        return [dict(json.loads(r[0])) for r in rows]

    def count(self, company: str, obj: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM records WHERE company=? AND object=?", (company, obj)
        ).fetchone()
        return int(row[0])

    # -- sessions -------------------------------------------------------------------------------
    def add_session(  # noqa: PLR0917
        self, sid: str, company: str, userid: str, entity: str, now: float, ttl: float
    ) -> None:
        self.db.execute(
            "INSERT INTO sessions VALUES(?, ?, ?, ?, ?, ?)", (sid, company, userid, entity, now, now + ttl)
        )

    def session(self, sid: str) -> tuple[str, str, str, float] | None:
        row = self.db.execute(
            "SELECT company, userid, entity, expires FROM sessions WHERE sessionid=?", (sid,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), float(row[3]))

    def touch_session(self, sid: str, expires: float) -> None:
        self.db.execute("UPDATE sessions SET expires=? WHERE sessionid=?", (expires, sid))

    def expire_sessions(self, company: str | None, now: float) -> int:
        """Ends the live sessions (of one company, or all); the number ended. An ended session
        stays on record, expired, so a test can still tell its id from any other text."""
        if company is None:
            cur = self.db.execute("UPDATE sessions SET expires=0 WHERE expires>=?", (now,))
        else:
            cur = self.db.execute(
                "UPDATE sessions SET expires=0 WHERE expires>=? AND company=?", (now, company)
            )
        return cur.rowcount

    # -- control ids (uniqueid=true replay refusal) ---------------------------------------------
    def controlid_seen(self, company: str, sender: str, controlid: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM controlids WHERE company=? AND sender=? AND controlid=?",
            (company, sender, controlid),
        ).fetchone()
        return row is not None

    def remember_controlid(self, company: str, sender: str, controlid: str, function: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO controlids VALUES(?, ?, ?, ?, ?)",
            (company, sender, controlid, function, now_ts()),
        )

    def dump(self, company: str | None, obj: str | None) -> dict[str, dict[str, list[Record]]]:
        sql = "SELECT company, object, data FROM records"
        where: list[str] = []
        args: list[str] = []
        if company:
            where.append("company=?")
            args.append(company)
        if obj:
            where.append("object=?")
            args.append(obj)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY company, object, recordno"
        out: dict[str, dict[str, list[Record]]] = {}
        for comp, o, data in self.db.execute(sql, args):
            out.setdefault(str(comp), {}).setdefault(str(o), []).append(dict(json.loads(data)))
        return out
