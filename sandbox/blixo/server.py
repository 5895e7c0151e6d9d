"""HTTP front of the sandbox: auth, limits, faults, idempotency, routing, admin endpoints."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.blixo import resources as r
from sandbox.blixo import validate as v
from sandbox.blixo import webhooks as wh
from sandbox.blixo.controls import MUTATING, Faults, Limiter
from sandbox.blixo.core import ApiError, Clock, JsonObj, bad, dumps, loads, loads_request, money, parse_ts, ts
from sandbox.blixo.db import Database
from sandbox.blixo.repo import Tx

DEFAULT_API_KEY = "blixo-sandbox-key"
DEFAULT_CONCURRENCY = 20
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# How long a request waits for an earlier one with the same key to finish before answering 409.
IDEMPOTENCY_WAIT_SECONDS = 30.0
MAX_BODY_BYTES = 1 << 20
MAX_PER_PAGE = 100
# Once a request has started, a client silent this long (a body shorter than its Content-Length,
# headers cut off) gets a 400 or a closed connection instead of holding a thread forever.
READ_TIMEOUT_SECONDS = 5.0
# Query integers: ASCII digits only (int() also takes '١٢' and fullwidth digits), and few enough
# that int() never refuses (it does past 4300 digits); 18 is far above every range checked.
_INT_PARAM_RE = re.compile(r"[0-9]{1,18}")

Op = Callable[[Tx, JsonObj, dict[str, list[str]]], tuple[int, Any]]


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(payload).encode(), headers or {})


@dataclass(frozen=True)
class _Resource:
    kind: str
    create: Callable[[Tx, JsonObj], JsonObj]
    update: Callable[[Tx, str, JsonObj], JsonObj]
    delete: Callable[[Tx, str], JsonObj] | None
    void: Callable[[Tx, str], JsonObj] | None


RESOURCES = {
    "customers": _Resource("customer", r.create_customer, r.update_customer, r.delete_customer, None),
    "invoices": _Resource("invoice", r.create_invoice, r.update_invoice, r.delete_invoice, r.void_invoice),
    "credit-notes": _Resource(
        "credit_note", r.create_credit_note, r.update_credit_note, r.delete_credit_note, r.void_credit_note
    ),
    "payments": _Resource("payment", r.create_payment, r.update_payment, None, r.void_payment),
}
_RESOURCE_RE = re.compile(r"^/v1/(customers|invoices|credit-notes|payments)(?:/([^/]+)(?:/(void))?)?/?$")
_WEBHOOK_RE = re.compile(r"^/v1/webhooks(?:/([^/]+))?/?$")


def account_id(api_key: str) -> str:
    # Derived from the key so a file database reopened with the same key finds its data.
    return "acct_" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


def _mask(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 10 else "…"


class App:
    def __init__(
        self,
        db_path: str = ":memory:",
        api_keys: tuple[str, ...] = (DEFAULT_API_KEY,),
        *,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        retry_delays: list[float] | None = None,
        idempotency_wait: float = IDEMPOTENCY_WAIT_SECONDS,
        verbose: bool = False,
    ) -> None:
        self.db = Database(db_path)
        self.clock = Clock()
        self.faults = Faults()
        self.verbose = verbose
        self._initial_concurrency = max_concurrency
        self._initial_retry_delays = retry_delays
        self.limiter = Limiter(max_concurrency)
        self.idempotency_ttl = float(IDEMPOTENCY_TTL_SECONDS)
        self._initial_idempotency_wait = float(idempotency_wait)
        self.idempotency_wait = float(idempotency_wait)
        self.webhook_settings = wh.WebhookSettings()
        if retry_delays is not None:
            self.webhook_settings.retry_delays = list(retry_delays)
        self.deliverer = wh.Deliverer(self.db, self.webhook_settings)
        self._keys: dict[str, str] = {}
        self._keys_lock = threading.Lock()
        # Keys of requests still running; a request with the same key waits on the condition.
        self._idem_cond = threading.Condition()
        self._idem_in_flight: set[tuple[str, str]] = set()
        self.default_key = api_keys[0]
        with self.db.tx() as conn:
            for key in api_keys:
                conn.execute(
                    "INSERT OR IGNORE INTO accounts (id, api_key) VALUES (?, ?)", (account_id(key), key)
                )
            self._keys = {k: a for a, k in conn.execute("SELECT id, api_key FROM accounts").fetchall()}
            # Deliveries cut short by a previous stop are tried again.
            conn.execute("UPDATE delivery_jobs SET state='pending' WHERE state='in_flight'")
        self.deliverer.start()

    def close(self) -> None:
        self.deliverer.stop()
        self.db.close()

    # ------------------------------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers: Any, raw: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            if path == "/_sandbox" or path.startswith("/_sandbox/"):
                return self._admin(method, path, query, raw)
            if path == "/v1" or path.startswith("/v1/"):
                return self._api(method, path, query, headers, raw)
            return _json_response(
                404, {"message": f"Unknown path {path}; the API is under /v1", "param": None}
            )
        except ApiError as exc:
            return _json_response(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # noqa: BLE001 - the sandbox must answer, never drop the connection
            traceback.print_exc(file=sys.stderr)
            return _json_response(
                500, {"message": f"Sandbox bug: {type(exc).__name__}: {exc}", "param": None}
            )

    # ------------------------------------------------------------------------------------------
    # /v1
    def _authenticate(self, header: str | None) -> str:
        challenge = {"WWW-Authenticate": 'Basic realm="Blixo"'}
        how = "Use HTTP Basic auth with the API key as the username and an empty password."
        if not header:
            raise ApiError(401, f"No API key provided. {how}", headers=challenge)
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            raise ApiError(401, f"Unsupported authorization scheme {scheme!r}. {how}", headers=challenge)
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, f"Malformed Basic credentials. {how}", headers=challenge) from None
        key = decoded.partition(":")[0]
        with self._keys_lock:
            account = self._keys.get(key)
        if account is None:
            raise ApiError(401, f"Invalid API key provided: {_mask(key)}", headers=challenge)
        return account

    def _api(self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes) -> Response:
        account = self._authenticate(headers.get("Authorization"))
        with self.limiter.slot(account):
            op = self._route(method, path, query)
            body = _parse_body(method, raw)
            key = headers.get("Idempotency-Key") if method in ("POST", "PATCH") else None
            if key is not None and not 6 <= len(key) <= 64:
                raise bad("Idempotency-Key must be 6 to 64 characters", "Idempotency-Key")
            return self._execute(account, method, path, op, body, query, key)

    def _execute(  # noqa: PLR0917 - one call site; the request's parts
        self,
        account: str,
        method: str,
        path: str,
        op: Op,
        body: JsonObj,
        query: dict[str, list[str]],
        key: str | None,
    ) -> Response:
        # A key names one operation on one resource; the body does not count: a retry whose
        # body was rebuilt slightly differently (key order, 10.5 vs "10.50", a fresh timestamp
        # in metadata) is still the same operation and gets the first response.
        fingerprint = f"{method} {path}"
        if key is not None:
            replay = self._claim_key(account, key, fingerprint)
            if replay is not None:
                return replay
        queued = 0
        try:
            # Injected latency and errors happen while the key is held, as the real work would.
            self.faults.before(method, path)
            with self.db.tx() as conn:
                tx = Tx(conn, account, self.clock.now())
                status, payload = op(tx, body, query)
                if method in MUTATING:
                    queued = wh.record_changes(conn, account, tx.changes(), tx.stamp, self.webhook_settings)
                text = dumps(payload)
                if key is not None and 200 <= status < 300:
                    conn.execute(
                        "INSERT OR REPLACE INTO idempotency "
                        "(account, key, fingerprint, status, body, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (account, key, fingerprint, status, text, self.clock.epoch()),
                    )
        finally:
            if key is not None:
                with self._idem_cond:
                    self._idem_in_flight.discard((account, key))
                    self._idem_cond.notify_all()
        if queued:
            self.deliverer.notify()
        failure = self.faults.error_after_write(method, path)
        if failure is not None:
            raise failure
        return Response(status, text.encode())

    def _claim_key(self, account: str, key: str, fingerprint: str) -> Response | None:
        """Replay the stored response, refuse a reuse elsewhere, or mark the key in flight.

        While a request with the same key runs, wait for it (up to `idempotency_wait`) and then
        decide as if it had just arrived: replay what the first stored, or, if the first failed
        (errors are not stored), run this one.
        """
        deadline = time.monotonic() + self.idempotency_wait
        with self._idem_cond:
            while (account, key) in self._idem_in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ApiError(
                        409,
                        f"A request with this Idempotency-Key is still in progress after "
                        f"{self.idempotency_wait:g} s; retry later",
                        "Idempotency-Key",
                    )
                self._idem_cond.wait(remaining)
            with self.db.tx() as conn:
                row = conn.execute(
                    "SELECT fingerprint, status, body FROM idempotency "
                    "WHERE account=? AND key=? AND created_at > ?",
                    (account, key, self.clock.epoch() - self.idempotency_ttl),
                ).fetchone()
            if row is not None:
                if row[0] != fingerprint:
                    raise ApiError(
                        422,
                        f"This Idempotency-Key was already used for {row[0]}; "
                        "use a new key for a new request",
                        "Idempotency-Key",
                    )
                return Response(int(row[1]), row[2].encode(), {"Idempotent-Replayed": "true"})
            self._idem_in_flight.add((account, key))
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]]) -> Op:
        m = _RESOURCE_RE.match(path)
        if m:
            return self._resource_op(method, path, RESOURCES[m.group(1)], m.group(2), m.group(3))
        m = _WEBHOOK_RE.match(path)
        if m:
            return _webhook_op(method, path, m.group(1))
        raise ApiError(404, f"Unknown endpoint {method} {path}")

    def _resource_op(
        self, method: str, path: str, res: _Resource, obj_id: str | None, action: str | None
    ) -> Op:
        if obj_id is None:
            if method == "GET":
                return lambda tx, _b, q: (200, _list(tx, res.kind, q))
            if method == "POST":
                return lambda tx, b, _q: (201, {"data": res.create(tx, b)})
            raise _not_allowed(method, path, "GET, POST")
        if action == "void":
            void = res.void
            if void is None or method != "POST":
                raise _not_allowed(method, path, "POST")
            return lambda tx, _b, _q: (200, {"data": void(tx, obj_id)})
        if method == "GET":
            return lambda tx, _b, _q: (200, {"data": tx.require(res.kind, obj_id)})
        if method == "PATCH":
            return lambda tx, b, _q: (200, {"data": res.update(tx, obj_id, b)})
        delete = res.delete
        if method == "DELETE" and delete is not None:
            return lambda tx, _b, _q: (200, {"data": delete(tx, obj_id)})
        raise _not_allowed(method, path, "GET, PATCH" + (", DELETE" if delete else ""))

    # ------------------------------------------------------------------------------------------
    # /_sandbox (no auth)
    def _admin(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Response:
        name = path.removeprefix("/_sandbox").strip("/")
        body = _parse_body("POST", raw) if method == "POST" else {}
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "health"): lambda: {"ok": True},
            ("GET", "faults"): self.faults.to_json,
            ("POST", "faults"): lambda: self._set_faults(body),
            ("GET", "settings"): self._settings_json,
            ("POST", "settings"): lambda: self._set_settings(body),
            ("GET", "webhook-settings"): self.webhook_settings.to_json,
            ("POST", "webhook-settings"): lambda: self._set_webhook_settings(body),
            ("POST", "reset"): self.reset,
            ("POST", "seed"): lambda: self._seed(body),
            ("GET", "dump"): lambda: self._dump(self._admin_account(query, body)),
            ("GET", "deliveries"): lambda: self._deliveries(query),
            ("GET", "events"): lambda: self._events(query),
            ("POST", "webhooks/drain"): lambda: self._drain(body),
            ("GET", "clock"): self._clock_json,
            ("POST", "clock"): lambda: self._set_clock(body),
            ("GET", "accounts"): self._accounts_json,
            ("POST", "accounts"): lambda: self._add_account(body),
        }
        handler = routes.get((method, name))
        if handler is None:
            allowed = [m for (m, n) in routes if n == name]
            if allowed:
                raise _not_allowed(method, path, ", ".join(allowed))
            raise ApiError(404, f"Unknown admin endpoint {method} {path}")
        return _json_response(200, handler())

    def _set_faults(self, body: JsonObj) -> JsonObj:
        self.faults.configure(body)
        return self.faults.to_json()

    def _settings_json(self) -> JsonObj:
        return {
            "concurrencyLimit": self.limiter.limit,
            "retryAfterSeconds": self.limiter.retry_after,
            "idempotencyTtlSeconds": self.idempotency_ttl,
            "idempotencyWaitSeconds": self.idempotency_wait,
        }

    def _set_settings(self, body: JsonObj) -> JsonObj:
        v.check_keys(
            body, {"concurrencyLimit", "retryAfterSeconds", "idempotencyTtlSeconds", "idempotencyWaitSeconds"}
        )
        wait = self.idempotency_wait
        if "idempotencyWaitSeconds" in body:  # fractions allowed, so tests can wait milliseconds
            wait = float(v.decimal(body["idempotencyWaitSeconds"], "idempotencyWaitSeconds"))
            if not 0 <= wait <= 3600:
                raise bad("idempotencyWaitSeconds must be from 0 to 3600", "idempotencyWaitSeconds")
        values = {}
        for name in body.keys() - {"idempotencyWaitSeconds"}:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**7:
                raise bad(f"{name} must be a non-negative integer", name)
            values[name] = value
        if values.get("concurrencyLimit") == 0:
            raise bad("concurrencyLimit must be at least 1", "concurrencyLimit")
        self.limiter.limit = values.get("concurrencyLimit", self.limiter.limit)
        self.limiter.retry_after = values.get("retryAfterSeconds", self.limiter.retry_after)
        self.idempotency_ttl = float(values.get("idempotencyTtlSeconds", self.idempotency_ttl))
        self.idempotency_wait = wait
        return self._settings_json()

    def _set_webhook_settings(self, body: JsonObj) -> JsonObj:
        self.webhook_settings.update(body)
        return self.webhook_settings.to_json()

    def reset(self) -> JsonObj:
        """Back to the state at start: no data, no webhooks, no faults, initial settings."""
        self.deliverer.reset()
        self.db.clear()
        self.faults.configure({})
        self.limiter.limit = self._initial_concurrency
        self.limiter.retry_after = 1
        self.idempotency_ttl = float(IDEMPOTENCY_TTL_SECONDS)
        fresh = wh.WebhookSettings()
        delays = self._initial_retry_delays
        self.webhook_settings.retry_delays = list(delays) if delays is not None else fresh.retry_delays
        self.webhook_settings.duplicate_delivery = False
        self.webhook_settings.timeout_seconds = fresh.timeout_seconds
        self.clock.reset()
        self.idempotency_wait = self._initial_idempotency_wait
        return {"reset": True}

    def _admin_account(self, query: dict[str, list[str]], body: JsonObj) -> str:
        key = body.get("apiKey") or (query.get("apiKey") or [self.default_key])[0]
        with self._keys_lock:
            account = self._keys.get(key)
        if account is None:
            raise bad("Unknown apiKey", "apiKey")
        return account

    def _seed(self, body: JsonObj) -> JsonObj:
        v.check_keys(body, {"customers", "invoices", "payments", "seed", "emitEvents", "apiKey"})
        counts = {}
        for name in ("customers", "invoices", "payments"):
            n = body.get(name, 0)
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 200_000:
                raise bad(f"{name} must be an integer from 0 to 200000", name)
            counts[name] = n
        if counts["invoices"] and not counts["customers"]:
            raise bad("Invoices need customers", "customers")
        if counts["payments"] > counts["invoices"]:
            raise bad("Each seeded payment pays one seeded invoice: payments <= invoices", "payments")
        seed = body.get("seed", 0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
            raise bad("seed must be an integer or a string", "seed")
        rng = random.Random(seed)
        account = self._admin_account({}, body)
        started = time.perf_counter()
        with self.db.tx() as conn:
            tx = Tx(conn, account, self.clock.now())
            customers = [
                r.create_customer(
                    tx,
                    {
                        "name": f"Seed Customer {i + 1}",
                        "email": f"ap{i + 1}@seed.example",
                        "paymentTerms": "NET 30",
                        "address": {
                            "line1": f"{i + 1} Main St",
                            "city": "Austin",
                            "state": "TX",
                            "country": "US",
                        },
                    },
                )["id"]
                for i in range(counts["customers"])
            ]
            invoices = []
            for i in range(counts["invoices"]):
                items = [
                    {
                        "name": f"Service {k + 1}",
                        "quantity": rng.randint(1, 5),
                        "unitPrice": f"{rng.randint(100, 99999) / 100:.2f}",
                    }
                    for k in range(rng.randint(1, 3))
                ]
                inv = r.create_invoice(
                    tx,
                    {
                        "customerId": customers[i % len(customers)],
                        "items": items,
                        "taxes": [{"name": "Tax", "rate": "8.25"}],
                    },
                )
                invoices.append(inv)
            for i in range(counts["payments"]):
                inv = invoices[i]
                amount = inv["balance"] if rng.random() < 0.7 else money(inv["balance"] / 2)
                r.create_payment(
                    tx,
                    {
                        "customerId": inv["customerId"],
                        "amount": amount,
                        "method": "check",
                        "reference": f"CHK-{i + 1}",
                        "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": amount}],
                    },
                )
            queued = 0
            if body.get("emitEvents", False):
                queued = wh.record_changes(conn, account, tx.changes(), tx.stamp, self.webhook_settings)
        if queued:
            self.deliverer.notify()
        return {**counts, "elapsedMs": round((time.perf_counter() - started) * 1000, 1)}

    def _dump(self, account: str) -> JsonObj:
        out: JsonObj = {"account": account}
        with self.db.tx() as conn:
            for name, kind in (
                ("customers", "customer"),
                ("invoices", "invoice"),
                ("creditNotes", "credit_note"),
                ("payments", "payment"),
            ):
                rows = conn.execute(
                    "SELECT body FROM objects WHERE account=? AND kind=? AND deleted=0 ORDER BY seq",
                    (account, kind),
                ).fetchall()
                out[name] = [loads(row[0]) for row in rows]
            out["webhooks"] = wh.list_endpoints(conn, account)
            out["events"] = conn.execute(
                "SELECT COUNT(*) FROM events WHERE account=?", (account,)
            ).fetchone()[0]
        return out

    def _deliveries(self, query: dict[str, list[str]]) -> JsonObj:
        with self.db.tx() as conn:
            data = wh.list_deliveries(conn, _first(query, "eventId"), _first(query, "endpointId"))
        return {"data": data, "pending": self.deliverer.pending()}

    def _events(self, query: dict[str, list[str]]) -> JsonObj:
        account = self._admin_account(query, {})
        with self.db.tx() as conn:
            return {"data": wh.list_events(conn, account, _first(query, "type"))}

    def _drain(self, body: JsonObj) -> JsonObj:
        v.check_keys(body, {"timeoutSeconds"})
        timeout = float(v.decimal(body.get("timeoutSeconds", 10), "timeoutSeconds"))
        drained = self.deliverer.drain(min(max(timeout, 0.0), 600.0))
        return {"drained": drained, "pending": self.deliverer.pending()}

    def _clock_json(self) -> JsonObj:
        return {"now": ts(self.clock.now()), "offsetSeconds": self.clock.offset}

    def _set_clock(self, body: JsonObj) -> JsonObj:
        v.check_keys(body, {"advanceSeconds", "offsetSeconds"})
        if "offsetSeconds" in body:
            self.clock.set_offset(float(v.decimal(body["offsetSeconds"], "offsetSeconds")))
        if "advanceSeconds" in body:
            self.clock.set_offset(
                self.clock.offset + float(v.decimal(body["advanceSeconds"], "advanceSeconds"))
            )
        return self._clock_json()

    def _accounts_json(self) -> JsonObj:
        with self._keys_lock:
            return {"data": [{"id": a, "apiKey": k} for k, a in self._keys.items()]}

    def _add_account(self, body: JsonObj) -> JsonObj:
        v.check_keys(body, {"apiKey"})
        key = v.string(body.get("apiKey"), "apiKey", max_len=200)
        with self.db.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO accounts (id, api_key) VALUES (?, ?)", (account_id(key), key))
        with self._keys_lock:
            self._keys[key] = account_id(key)
        return {"id": account_id(key), "apiKey": key}


# ----------------------------------------------------------------------------------------------
def _not_allowed(method: str, path: str, allowed: str) -> ApiError:
    return ApiError(
        405, f"Method {method} is not allowed on {path} (allowed: {allowed})", headers={"Allow": allowed}
    )


def _parse_body(method: str, raw: bytes) -> JsonObj:
    if method not in ("POST", "PATCH") or not raw.strip():
        return {}
    body = loads_request(raw)
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _paging(query: dict[str, list[str]], allowed: set[str]) -> tuple[int, int]:
    """Check the query's names (a typo such as `updated_after` is a 400) and read page/perPage."""
    for name in query:
        if name not in allowed:
            raise bad(f"Unknown query parameter {name}; supported: {', '.join(sorted(allowed))}", name)
    page = _int_param(_first(query, "page"), "page", 1, 1, 10**9)
    per_page = _int_param(_first(query, "perPage"), "perPage", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    return page, per_page


def _list(tx: Tx, kind: str, query: dict[str, list[str]]) -> JsonObj:
    allowed = {"page", "perPage", "updatedAfter"} | ({"customerId"} if kind != "customer" else set())
    page, per_page = _paging(query, allowed)
    raw_after = _first(query, "updatedAfter")
    after = ts(parse_ts(raw_after, "updatedAfter")) if raw_after else None
    data, total = tx.list_objects(
        kind, page=page, per_page=per_page, updated_after=after, customer_id=_first(query, "customerId")
    )
    return {"data": data, "page": page, "perPage": per_page, "total": total}


def _int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    text = raw.strip()
    if not _INT_PARAM_RE.fullmatch(text) or not low <= int(text) <= high:
        raise bad(f"{name} must be an integer from {low} to {high} (ASCII digits)", name)
    return int(text)


def _webhook_op(method: str, path: str, endpoint_id: str | None) -> Op:
    if endpoint_id is None:
        if method == "GET":
            return lambda tx, _b, q: (200, _list_webhooks(tx, q))
        if method == "POST":
            return lambda tx, b, _q: (201, {"data": wh.create_endpoint(tx.conn, tx.account, b, tx.stamp)})
        raise _not_allowed(method, path, "GET, POST")
    if method == "GET":
        return lambda tx, _b, _q: (200, {"data": wh.get_endpoint(tx.conn, tx.account, endpoint_id)})
    if method == "DELETE":
        return lambda tx, _b, _q: (200, {"data": wh.delete_endpoint(tx.conn, tx.account, endpoint_id)})
    raise _not_allowed(method, path, "GET, DELETE")


def _list_webhooks(tx: Tx, query: dict[str, list[str]]) -> JsonObj:
    page, per_page = _paging(query, {"page", "perPage"})
    data = wh.list_endpoints(tx.conn, tx.account, page=page, per_page=per_page)
    return {"data": data, "page": page, "perPage": per_page, "total": wh.count_endpoints(tx.conn, tx.account)}


# ----------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops connections in a burst

    def __init__(
        self, address: tuple[str, int], app: App, read_timeout: float = READ_TIMEOUT_SECONDS
    ) -> None:
        self.app = app
        self.read_timeout = read_timeout
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is exercised
    # Buffered writes (flushed after each request) send headers and body together: two small
    # writes would meet delayed ACK and cost 40 ms a request.
    wbufsize = 1 << 16
    server: _Server

    def _handle(self) -> None:
        app = self.server.app
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._send(
                _json_response(411, {"message": "Send a Content-Length body", "param": None}), close=True
            )
            return
        length_text = (self.headers.get("Content-Length") or "0").strip()
        # ASCII digits only: str.isdigit() also passes '²', which int() then refuses.
        if not _INT_PARAM_RE.fullmatch(length_text):
            self._send(_json_response(400, {"message": "Invalid Content-Length", "param": None}), close=True)
            return
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self._send(
                _json_response(413, {"message": f"Request body over {MAX_BODY_BYTES} bytes", "param": None}),
                close=True,
            )
            return
        raw = self._read_body(length)
        if len(raw) < length:
            # The client sent less than its Content-Length and then nothing for read_timeout
            # seconds (or closed its side): what it sent cannot be a whole request.
            message = f"The request body is shorter than its Content-Length ({len(raw)} of {length} bytes)"
            self._send(_json_response(400, {"message": message, "param": None}), close=True)
            return
        started = time.perf_counter()
        resp = app.dispatch(self.command, self.path, self.headers, raw)
        if app.verbose:
            ms = (time.perf_counter() - started) * 1000
            sys.stderr.write(f"blixo-sandbox {self.command} {self.path} -> {resp.status} ({ms:.1f} ms)\n")
        self._send(resp)

    def _read_body(self, length: int) -> bytes:
        """Up to `length` bytes; fewer if the client stops sending (read timeout) or closes."""
        chunks: list[bytes] = []
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read1(remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)

    def _send(self, resp: Response, *, close: bool = False) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(resp.body)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        # An idle keep-alive connection may wait for its next request as long as the client
        # likes; once a request's first byte is in, every read of it is bounded by read_timeout
        # (the base class answers a timeout in the request line or headers by closing).
        self.connection.settimeout(None)
        try:
            started = self.rfile.peek(1)  # type: ignore[attr-defined]  # a BufferedReader
        except OSError:
            started = b""
        if not started:
            self.close_connection = True
            return
        self.connection.settimeout(self.server.read_timeout)
        super().handle_one_request()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default; App.verbose logs one line per request instead."""


class SandboxHandle:
    """A running sandbox: `url` is the API base (…/v1) a client uses as its base_url."""

    def __init__(self, server: _Server, app: App, api_key: str) -> None:
        self._server = server
        self.app = app
        self.api_key = api_key
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.root_url = f"http://{self.host}:{self.port}"
        self.url = f"{self.root_url}/v1"
        self.admin_url = f"{self.root_url}/_sandbox"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="blixo-sandbox", daemon=True
        )
        self._thread.start()

    def drain(self, timeout: float = 10.0) -> bool:
        return self.app.deliverer.drain(timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    db: str = ":memory:",
    api_key: str = DEFAULT_API_KEY,
    *,
    extra_api_keys: tuple[str, ...] = (),
    max_concurrency: int = DEFAULT_CONCURRENCY,
    webhook_retry_delays: list[float] | None = None,
    idempotency_wait_seconds: float = IDEMPOTENCY_WAIT_SECONDS,
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
    verbose: bool = False,
) -> SandboxHandle:
    """Start the sandbox in a background thread; port 0 picks a free port.

    `read_timeout_seconds`: how long a started request may stay silent before it is answered
    400 (short body) or its connection closed (request line or headers cut off)."""
    app = App(
        db,
        (api_key, *extra_api_keys),
        max_concurrency=max_concurrency,
        retry_delays=webhook_retry_delays,
        idempotency_wait=idempotency_wait_seconds,
        verbose=verbose,
    )
    try:
        server = _Server((host, port), app, read_timeout_seconds)
    except OSError:
        app.close()
        raise
    return SandboxHandle(server, app, api_key)
