"""Knobs for tests: injected faults, the per-key concurrency cap, general settings."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from sandbox.blixo import validate as v
from sandbox.blixo.core import ApiError, JsonObj, bad

MUTATING = ("POST", "PATCH", "DELETE")


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # 5xx before the request runs (nothing written)
    rate_limit_rate: float = 0.0  # 429 before the request runs
    error_after_write_rate: float = 0.0  # 5xx after a write committed (tests idempotent retries)
    fail_next: int = 0  # deterministic counterparts of the rates: the next N requests
    rate_limit_next: int = 0
    error_after_write_next: int = 0
    error_status: int = 500
    retry_after_seconds: int = 1
    methods: tuple[str, ...] = ()  # empty = every method
    path_prefix: str = ""  # e.g. "/v1/payments"; empty = every /v1 path
    seed: int | None = None


_JSON_NAMES = {
    "latency_ms": "latencyMs",
    "jitter_ms": "jitterMs",
    "error_rate": "errorRate",
    "rate_limit_rate": "rateLimitRate",
    "error_after_write_rate": "errorAfterWriteRate",
    "fail_next": "failNext",
    "rate_limit_next": "rateLimitNext",
    "error_after_write_next": "errorAfterWriteNext",
    "error_status": "errorStatus",
    "retry_after_seconds": "retryAfterSeconds",
    "methods": "methods",
    "path_prefix": "pathPrefix",
    "seed": "seed",
}


class Faults:
    """Fault injection for /v1 requests; a seeded RNG makes the random rates reproducible."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random()
        self.injected = {"latency": 0, "error": 0, "rateLimit": 0, "errorAfterWrite": 0}

    def to_json(self) -> JsonObj:
        c = self.config
        out: JsonObj = {_JSON_NAMES[f.name]: getattr(c, f.name) for f in fields(c)}
        out["methods"] = list(c.methods)
        out["injected"] = dict(self.injected)
        return out

    def configure(self, body: JsonObj, *, replace: bool = True) -> None:
        """Replace the whole configuration (unset fields return to defaults) unless `replace` is off."""
        reverse = {j: p for p, j in _JSON_NAMES.items()}
        v.check_keys(body, set(reverse))
        new = (
            FaultConfig()
            if replace
            else FaultConfig(**{f.name: getattr(self.config, f.name) for f in fields(FaultConfig)})
        )
        for key, value in body.items():
            name = reverse[key]
            if name in ("latency_ms", "jitter_ms"):
                setattr(new, name, _number(value, key, 0, 600_000))
            elif name.endswith("_rate"):
                setattr(new, name, _number(value, key, 0, 1))
            elif name in ("fail_next", "rate_limit_next", "error_after_write_next", "retry_after_seconds"):
                setattr(new, name, int(_number(value, key, 0, 1_000_000)))
            elif name == "error_status":
                status = int(_number(value, key, 500, 599))
                setattr(new, name, status)
            elif name == "methods":
                if not isinstance(value, list) or any(m not in ("GET", *MUTATING) for m in value):
                    raise bad("methods must be a list of GET, POST, PATCH, DELETE", key)
                new.methods = tuple(value)
            elif name == "path_prefix":
                new.path_prefix = v.string(value, key, allow_empty=True)
            elif name == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise bad("seed must be an integer", key)
                new.seed = value
        with self._lock:
            self.config = new
            self._rng = random.Random(new.seed)
            self.injected = dict.fromkeys(self.injected, 0)

    def _applies(self, method: str, path: str) -> bool:
        c = self.config
        return (not c.methods or method in c.methods) and path.startswith(c.path_prefix)

    def before(self, method: str, path: str) -> None:
        """Sleep for latency, then maybe refuse with 429 or 5xx (nothing is written)."""
        with self._lock:
            c = self.config
            if not self._applies(method, path):
                return
            delay = c.latency_ms + (self._rng.uniform(0, c.jitter_ms) if c.jitter_ms else 0.0)
            limited = c.rate_limit_next > 0 or (
                c.rate_limit_rate > 0 and self._rng.random() < c.rate_limit_rate
            )
            if c.rate_limit_next > 0:
                c.rate_limit_next -= 1
            failed = not limited and (
                c.fail_next > 0 or (c.error_rate > 0 and self._rng.random() < c.error_rate)
            )
            if failed and c.fail_next > 0:
                c.fail_next -= 1
            if delay:
                self.injected["latency"] += 1
            if limited:
                self.injected["rateLimit"] += 1
            if failed:
                self.injected["error"] += 1
        if delay > 0:
            time.sleep(delay / 1000)
        if limited:
            raise ApiError(
                429,
                "Rate limit exceeded (injected fault); retry after the Retry-After seconds",
                headers={"Retry-After": str(c.retry_after_seconds), "X-Sandbox-Fault": "rate-limit"},
            )
        if failed:
            raise ApiError(
                c.error_status,
                "Internal server error (injected fault before the request ran)",
                headers={"X-Sandbox-Fault": "error"},
            )

    def error_after_write(self, method: str, path: str) -> ApiError | None:
        with self._lock:
            c = self.config
            if method not in MUTATING or not self._applies(method, path):
                return None
            hit = c.error_after_write_next > 0 or (
                c.error_after_write_rate > 0 and self._rng.random() < c.error_after_write_rate
            )
            if c.error_after_write_next > 0:
                c.error_after_write_next -= 1
            if not hit:
                return None
            self.injected["errorAfterWrite"] += 1
            status = c.error_status
        return ApiError(
            status,
            "Internal server error (injected fault after the write was committed)",
            headers={"X-Sandbox-Fault": "error-after-write"},
        )


def _number(value: Any, param: str, low: float, high: float) -> float:
    number = float(v.decimal(value, param))
    if not low <= number <= high:
        raise bad(f"{param} must be between {low:g} and {high:g}", param)
    return number


class Limiter:
    """Counts in-flight requests per API key; over the cap the request is answered 429."""

    def __init__(self, limit: int, retry_after: int = 1) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self.refused = 0

    @contextmanager
    def slot(self, account: str) -> Iterator[None]:
        with self._lock:
            current = self._in_flight.get(account, 0)
            if current >= self.limit:
                self.refused += 1
                raise ApiError(
                    429,
                    f"Too many concurrent requests for this API key (limit {self.limit}); "
                    f"retry after {self.retry_after} s",
                    headers={"Retry-After": str(self.retry_after)},
                )
            self._in_flight[account] = current + 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[account] -= 1
