"""Per-company concurrency limit: at most N requests in flight from this process.

Intacct's default tier allows about 2 concurrent requests per company; more get 429 GW-0010.
The semaphores live in one registry so every client of a company in the process shares it.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from bisync.intacct.errors import TransientError

DEFAULT_MAX_IN_FLIGHT = 2


class Limiter(Protocol):
    """What the client needs: a slot per request of a company."""

    def slot(self, company_id: str) -> AbstractContextManager[None]: ...


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


class SlotLeases(Protocol):
    """Leased slots shared by every container (bisync.store.slots.SlotStore in production)."""

    def try_acquire(self, tenant_id: str, slots: int, holder: str, lease_seconds: float) -> int | None: ...

    def release(self, tenant_id: str, slot: int, holder: str) -> None: ...


class NoSlotError(TransientError):
    """No Intacct slot came free in time: the work is retried later (a transient failure)."""


class LeaseLimiter:
    """At most `max_in_flight` requests of one tenant in flight across all containers.

    A lease outlives the longest request (the transport's overall deadline) so it is never
    taken from a live holder; a crashed holder's slot frees itself when its lease runs out.
    Waiting is bounded by `max_wait`: then NoSlotError."""

    def __init__(
        self,
        leases: SlotLeases,
        tenant_id: str,
        max_in_flight: int,
        *,
        lease_seconds: float,
        max_wait: float = 20.0,
        wait_limit: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self._leases = leases
        self._tenant = tenant_id
        self._lease = lease_seconds
        self._max_wait = max_wait
        # What the caller has left to wait now (a function's remaining time): never beyond it.
        self._wait_limit = wait_limit
        self._sleep = sleep
        self._clock = clock
        # Threads of this process take slots through one local semaphore first, so they do not
        # spin against each other in DynamoDB.
        self._local = threading.BoundedSemaphore(max_in_flight)

    @contextmanager
    def slot(self, company_id: str) -> Iterator[None]:
        max_wait = self._max_wait
        if self._wait_limit is not None:
            max_wait = max(0.0, min(max_wait, self._wait_limit()))
        deadline = self._clock() + max_wait
        if not self._local.acquire(timeout=max_wait):
            raise NoSlotError(f"no Intacct slot for tenant {self._tenant} within {max_wait:g} s")
        try:
            holder = uuid.uuid4().hex
            delay = 0.02
            while True:
                slot = self._leases.try_acquire(self._tenant, self.max_in_flight, holder, self._lease)
                if slot is not None:
                    break
                if self._clock() + delay > deadline:
                    raise NoSlotError(f"no Intacct slot for tenant {self._tenant} within {max_wait:g} s")
                self._sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto
                delay = min(delay * 2, 0.5)
            try:
                yield
            finally:
                self._leases.release(self._tenant, slot, holder)
        finally:
            self._local.release()
