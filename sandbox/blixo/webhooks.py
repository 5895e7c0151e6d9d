"""Webhook endpoints, event recording and the background delivery worker."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import queue
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sandbox.blixo import validate as v
from sandbox.blixo.core import ApiError, JsonObj, bad, dumps, loads, ts
from sandbox.blixo.db import Database
from sandbox.blixo.repo import Change

RESOURCES = ("customer", "invoice", "credit_note", "payment")
EVENT_TYPES = tuple(f"{r}.{a}" for r in RESOURCES for a in ("created", "updated", "deleted"))
PRODUCTION_RETRY_DELAYS = tuple([3600.0] * 47)  # hourly, 48 attempts in all
SIGNATURE_HEADER = "X-Blixo-Signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _stamp(epoch: float) -> str:
    return ts(datetime.fromtimestamp(epoch, UTC))


@dataclass
class WebhookSettings:
    """Delivery behaviour; `retry_delays[n]` is the wait after failed attempt n+1."""

    retry_delays: list[float] = field(default_factory=lambda: list(PRODUCTION_RETRY_DELAYS))
    duplicate_delivery: bool = False
    timeout_seconds: float = 30.0

    def to_json(self) -> JsonObj:
        return {
            "retryDelaysSeconds": self.retry_delays,
            "maxAttempts": len(self.retry_delays) + 1,
            "duplicateDelivery": self.duplicate_delivery,
            "timeoutSeconds": self.timeout_seconds,
        }

    def update(self, body: JsonObj) -> None:
        v.check_keys(
            body,
            {"retryDelaysSeconds", "maxAttempts", "backoffSeconds", "duplicateDelivery", "timeoutSeconds"},
        )
        delays = list(self.retry_delays)
        if "retryDelaysSeconds" in body:
            raw = body["retryDelaysSeconds"]
            if not isinstance(raw, list) or len(raw) > 1000:
                raise bad("retryDelaysSeconds must be a list of seconds", "retryDelaysSeconds")
            delays = [_seconds(x, "retryDelaysSeconds") for x in raw]
        if "maxAttempts" in body or "backoffSeconds" in body:
            attempts = body.get("maxAttempts", len(delays) + 1)
            if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 1000:
                raise bad("maxAttempts must be an integer from 1 to 1000", "maxAttempts")
            backoff = _seconds(body.get("backoffSeconds", delays[0] if delays else 3600), "backoffSeconds")
            delays = [backoff] * (attempts - 1)
        timeout = self.timeout_seconds
        if "timeoutSeconds" in body:
            timeout = _seconds(body["timeoutSeconds"], "timeoutSeconds")
            if timeout <= 0:
                raise bad("timeoutSeconds must be positive", "timeoutSeconds")
        duplicate = self.duplicate_delivery
        if "duplicateDelivery" in body:
            if not isinstance(body["duplicateDelivery"], bool):
                raise bad("duplicateDelivery must be true or false", "duplicateDelivery")
            duplicate = body["duplicateDelivery"]
        self.retry_delays, self.timeout_seconds, self.duplicate_delivery = delays, timeout, duplicate


def _seconds(value: Any, param: str) -> float:
    number = float(v.decimal(value, param))
    if number < 0:
        raise bad(f"{param} must not be negative", param)
    return number


# ---------------------------------------------------------------------------------------------
# endpoints (the /v1/webhooks resource)


def _endpoint_json(row: sqlite3.Row | tuple[Any, ...]) -> JsonObj:
    return {"id": row[0], "url": row[1], "events": loads(row[2]), "secret": row[3], "createdAt": row[4]}


def create_endpoint(conn: sqlite3.Connection, account: str, body: JsonObj, stamp: str) -> JsonObj:
    v.check_keys(body, {"url", "events", "secret"})
    url = v.string(body.get("url"), "url", max_len=2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad("url must be an absolute http(s) URL", "url")
    events = body.get("events")
    events = ["*"] if events is None else events
    if not isinstance(events, list) or not events:
        raise bad("events must be a non-empty list of event types, or ['*']", "events")
    for pattern in events:
        ok = pattern == "*" or pattern in EVENT_TYPES
        ok = ok or (isinstance(pattern, str) and pattern.endswith(".*") and pattern[:-2] in RESOURCES)
        if not ok:
            raise bad(f"Unknown event type {pattern!r}; use one of {', '.join(EVENT_TYPES)} or '*'", "events")
    secret = body.get("secret")
    secret = "whsec_" + secrets.token_hex(24) if secret is None else v.string(secret, "secret", max_len=255)
    endpoint_id = "we_" + secrets.token_hex(8)
    conn.execute(
        "INSERT INTO webhooks (account, id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (account, endpoint_id, url, dumps(events), secret, stamp),
    )
    return {"id": endpoint_id, "url": url, "events": events, "secret": secret, "createdAt": stamp}


def list_endpoints(
    conn: sqlite3.Connection, account: str, *, page: int = 1, per_page: int | None = None
) -> list[JsonObj]:
    """Endpoints in creation order; one page of them when `per_page` is given."""
    limit = -1 if per_page is None else per_page  # SQLite: -1 = no limit
    rows = conn.execute(
        "SELECT id, url, events, secret, created_at FROM webhooks WHERE account=? ORDER BY seq "
        "LIMIT ? OFFSET ?",
        (account, limit, (page - 1) * (per_page or 0)),
    ).fetchall()
    return [_endpoint_json(r) for r in rows]


def count_endpoints(conn: sqlite3.Connection, account: str) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM webhooks WHERE account=?", (account,)).fetchone()[0])


def get_endpoint(conn: sqlite3.Connection, account: str, endpoint_id: str) -> JsonObj:
    row = conn.execute(
        "SELECT id, url, events, secret, created_at FROM webhooks WHERE account=? AND id=?",
        (account, endpoint_id),
    ).fetchone()
    if row is None:
        raise ApiError(404, f"No such webhook endpoint: {endpoint_id}")
    return _endpoint_json(row)


def delete_endpoint(conn: sqlite3.Connection, account: str, endpoint_id: str) -> JsonObj:
    get_endpoint(conn, account, endpoint_id)
    conn.execute("DELETE FROM webhooks WHERE account=? AND id=?", (account, endpoint_id))
    conn.execute(
        "UPDATE delivery_jobs SET state='cancelled' WHERE endpoint_id=? AND state='pending'", (endpoint_id,)
    )
    return {"id": endpoint_id, "deleted": True}


def _matches(patterns: list[str], event_type: str) -> bool:
    return any(
        p in ("*", event_type) or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


def record_changes(
    conn: sqlite3.Connection, account: str, changes: list[Change], stamp: str, settings: WebhookSettings
) -> int:
    """Store one event per change and queue its deliveries (in the caller's transaction)."""
    endpoints = list_endpoints(conn, account)
    queued = 0
    now = time.time()
    for change in changes:
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "type": change.type,
            "createdAt": stamp,
            "data": {"object": change.object, "previous": change.previous},
        }
        conn.execute(
            "INSERT INTO events (account, id, type, created_at, body) VALUES (?, ?, ?, ?, ?)",
            (account, event["id"], change.type, stamp, dumps(event)),
        )
        for endpoint in endpoints:
            if not _matches(endpoint["events"], change.type):
                continue
            for copy in range(1, 3 if settings.duplicate_delivery else 2):
                conn.execute(
                    "INSERT INTO delivery_jobs (event_id, endpoint_id, copy, next_at, state) "
                    "VALUES (?, ?, ?, ?, 'pending')",
                    (event["id"], endpoint["id"], copy, now),
                )
                queued += 1
    return queued


def list_events(conn: sqlite3.Connection, account: str, event_type: str | None = None) -> list[JsonObj]:
    sql, args = "SELECT body FROM events WHERE account=?", [account]
    if event_type:
        sql += " AND type=?"
        args.append(event_type)
    return [loads(r[0]) for r in conn.execute(sql + " ORDER BY seq", args).fetchall()]


# ---------------------------------------------------------------------------------------------
# delivery


@dataclass
class _Job:
    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    secret: str
    copy: int
    attempts: int
    body: bytes


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    """One POST without following redirects; (status, error)."""
    parts = urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", target, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(1 << 16)
    except TimeoutError:
        return None, f"timeout after {timeout:g} s"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"connection error: {type(exc).__name__}: {exc}"
    finally:
        conn.close()
    if 200 <= resp.status < 300:
        return resp.status, None
    if 300 <= resp.status < 400:  # redirects are failures, never followed
        return resp.status, f"HTTP {resp.status} (redirects are not followed)"
    return resp.status, f"HTTP {resp.status}"


class Deliverer:
    """A dispatcher thread claims due jobs and hands them to a small pool of senders."""

    def __init__(self, db: Database, settings: WebhookSettings, workers: int = 8) -> None:
        self._db = db
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._generation = 0  # bumped by reset: late results of old jobs are dropped
        self._queue: queue.Queue[tuple[_Job, int] | None] = queue.Queue()
        # Daemon threads: a receiver that hangs must not keep the process from exiting.
        self._senders = [
            threading.Thread(target=self._send_loop, name=f"blixo-webhook-{i}", daemon=True)
            for i in range(workers)
        ]
        self._thread = threading.Thread(target=self._run, name="blixo-webhook-dispatch", daemon=True)

    def start(self) -> None:
        for sender in self._senders:
            sender.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        for _ in self._senders:
            self._queue.put(None)

    def _send_loop(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._deliver(*item)
            except sqlite3.ProgrammingError:  # the database closed under a late delivery
                return

    def notify(self) -> None:
        self._wake.set()

    def reset(self) -> None:
        self._generation += 1

    def pending(self) -> int:
        with self._db.tx() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM delivery_jobs WHERE state IN ('pending', 'in_flight')"
            ).fetchone()
        return int(row[0])

    def drain(self, timeout: float) -> bool:
        """Wait until no delivery is pending or in flight (retries included)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.pending() == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.005)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            generation = self._generation  # read before claiming: a reset in between drops these
            jobs, next_due = self._claim()
            for job in jobs:
                self._queue.put((job, generation))
            if not jobs:
                wait = 1.0 if next_due is None else min(1.0, max(0.0, next_due - time.time()))
                self._wake.wait(wait)

    def _claim(self) -> tuple[list[_Job], float | None]:
        now = time.time()
        with self._db.tx() as conn:
            rows = conn.execute(
                "SELECT j.id, j.event_id, e.type, j.endpoint_id, w.url, w.secret, j.copy, j.attempts, e.body "
                "FROM delivery_jobs j JOIN events e ON e.id = j.event_id "
                "LEFT JOIN webhooks w ON w.id = j.endpoint_id "
                "WHERE j.state='pending' AND j.next_at <= ? ORDER BY j.next_at, j.id LIMIT 64",
                (now,),
            ).fetchall()
            jobs = []
            for r in rows:
                if r[4] is None:  # endpoint deleted meanwhile
                    conn.execute("UPDATE delivery_jobs SET state='cancelled' WHERE id=?", (r[0],))
                    continue
                conn.execute("UPDATE delivery_jobs SET state='in_flight' WHERE id=?", (r[0],))
                jobs.append(_Job(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8].encode()))
            nxt = conn.execute("SELECT MIN(next_at) FROM delivery_jobs WHERE state='pending'").fetchone()[0]
        return jobs, nxt

    def _deliver(self, job: _Job, generation: int) -> None:
        attempt = job.attempts + 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Blixo-Webhooks/1.0 (sandbox)",
            SIGNATURE_HEADER: sign(job.secret, job.body),
            "X-Blixo-Event-Id": job.event_id,
            "X-Blixo-Delivery-Attempt": str(attempt),
        }
        started = time.time()
        status, error = post(job.url, job.body, headers, self.settings.timeout_seconds)
        finished = time.time()
        delays = self.settings.retry_delays
        next_at: float | None = None
        if error is None:
            outcome = "succeeded"
        elif attempt <= len(delays):
            outcome, next_at = "retrying", finished + delays[attempt - 1]
        else:
            outcome = "failed"
        with self._db.tx() as conn:
            if generation != self._generation:
                return
            conn.execute(
                "UPDATE delivery_jobs SET attempts=?, state=?, next_at=?, last_status=?, last_error=? "
                "WHERE id=?",
                (attempt, "pending" if next_at else outcome, next_at or finished, status, error, job.id),
            )
            conn.execute(
                "INSERT INTO delivery_attempts "
                "(job_id, event_id, event_type, endpoint_id, url, copy, attempt, "
                "status_code, error, outcome, started_at, finished_at, duration_ms, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.event_id,
                    job.event_type,
                    job.endpoint_id,
                    job.url,
                    job.copy,
                    attempt,
                    status,
                    error,
                    outcome,
                    _stamp(started),
                    _stamp(finished),
                    round((finished - started) * 1000, 3),
                    _stamp(next_at) if next_at else None,
                ),
            )
        self._wake.set()


def list_deliveries(
    conn: sqlite3.Connection, event_id: str | None = None, endpoint_id: str | None = None
) -> list[JsonObj]:
    sql = (
        "SELECT job_id, event_id, event_type, endpoint_id, url, copy, attempt, status_code, error, outcome, "
        "started_at, finished_at, duration_ms, next_attempt_at FROM delivery_attempts WHERE 1=1"
    )
    args: list[Any] = []
    if event_id:
        sql += " AND event_id=?"
        args.append(event_id)
    if endpoint_id:
        sql += " AND endpoint_id=?"
        args.append(endpoint_id)
    keys = [
        *("jobId", "eventId", "eventType", "endpointId", "url", "copy", "attempt"),
        *("statusCode", "error", "outcome", "startedAt", "finishedAt", "durationMs", "nextAttemptAt"),
    ]
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(sql + " ORDER BY id", args).fetchall()]
