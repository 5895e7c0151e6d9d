"""SQLite state of the sandbox: one connection, one lock, explicit transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, api_key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
  number TEXT, customer_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL,
  UNIQUE (account, kind, id));
CREATE INDEX IF NOT EXISTS objects_list ON objects (account, kind, deleted, seq);
CREATE INDEX IF NOT EXISTS objects_updated ON objects (account, kind, deleted, updated_at);
CREATE INDEX IF NOT EXISTS objects_number ON objects (account, kind, number);
CREATE INDEX IF NOT EXISTS objects_customer ON objects (account, kind, customer_id);
-- One row per amount that moves money between documents: a payment's cash to an invoice
-- ('payment'), a credit note's credit to an invoice through a payment ('credit') or directly
-- ('direct'). Balances are recomputed from the active rows, so voids are a flag flip.
CREATE TABLE IF NOT EXISTS applications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL, source_kind TEXT NOT NULL, source_id TEXT NOT NULL, type TEXT NOT NULL,
  invoice_id TEXT, credit_note_id TEXT, amount TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS applications_invoice ON applications (account, invoice_id, active);
CREATE INDEX IF NOT EXISTS applications_credit ON applications (account, credit_note_id, active);
CREATE INDEX IF NOT EXISTS applications_source ON applications (account, source_kind, source_id);
CREATE TABLE IF NOT EXISTS counters (
  account TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (account, name));
CREATE TABLE IF NOT EXISTS idempotency (
  account TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL,
  PRIMARY KEY (account, key));
CREATE TABLE IF NOT EXISTS webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL, created_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivery_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, endpoint_id TEXT NOT NULL,
  copy INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
  state TEXT NOT NULL, last_status INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS delivery_jobs_due ON delivery_jobs (state, next_at);
CREATE TABLE IF NOT EXISTS delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, event_id TEXT NOT NULL,
  event_type TEXT NOT NULL, endpoint_id TEXT NOT NULL, url TEXT NOT NULL, copy INTEGER NOT NULL,
  attempt INTEGER NOT NULL, status_code INTEGER, error TEXT, outcome TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration_ms REAL NOT NULL,
  next_attempt_at TEXT);
"""

DATA_TABLES = (
    "objects",
    "applications",
    "counters",
    "idempotency",
    "webhooks",
    "events",
    "delivery_jobs",
    "delivery_attempts",
)


class Database:
    """A single connection guarded by a re-entrant lock.

    Every request runs in one `BEGIN IMMEDIATE` transaction under the lock, so a business rule
    that fails half-way rolls everything back and concurrent requests never interleave.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def clear(self) -> None:
        with self.tx() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
