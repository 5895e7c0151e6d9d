"""Per-company concurrency limit: at most N requests in flight from this process.

Intacct's default tier allows about 2 concurrent requests per company; more get 429 GW-0010.
The semaphores live in one registry so every client of a company in the process shares it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_MAX_IN_FLIGHT = 2


class CompanyLimiter:
    def __init__(self, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}

    def _semaphore(self, company_id: str) -> threading.BoundedSemaphore:
        key = company_id.upper()  # company ids are case-insensitive in Intacct
        with self._lock:
            sem = self._semaphores.get(key)
            if sem is None:
                sem = threading.BoundedSemaphore(self.max_in_flight)
                self._semaphores[key] = sem
            return sem

    @contextmanager
    def slot(self, company_id: str) -> Iterator[None]:
        sem = self._semaphore(company_id)
        sem.acquire()
        try:
            yield
        finally:
            sem.release()


_REGISTRY_LOCK = threading.Lock()
_REGISTRY: dict[int, CompanyLimiter] = {}


def shared_limiter(max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> CompanyLimiter:
    """The process-wide limiter for a given N (clients of one company share its slots)."""
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(max_in_flight)
        if limiter is None:
            limiter = CompanyLimiter(max_in_flight)
            _REGISTRY[max_in_flight] = limiter
        return limiter
