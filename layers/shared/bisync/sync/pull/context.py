"""What the pull's flows work with, and the bookkeeping they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from bisync.blixo import errors as blixo_errors
from bisync.blixo.client import BlixoClient
from bisync.settings import TenantSettings
from bisync.store.mappings import MappingConflictError
from bisync.store.models import Mapping
from bisync.sync.failures import BusinessSyncError, classify
from bisync.sync.ports import ErrorLog
from bisync.sync.pull.reader import Reader

T = TypeVar("T")
PULL = "pull"


class Mappings(Protocol):
    def by_blixo(self, tenant_id: str, object_type: str, blixo_id: str) -> Mapping | None: ...

    def by_intacct(self, tenant_id: str, object_type: str, intacct_key: str) -> Mapping | None: ...

    def many_by_intacct(
        self, tenant_id: str, object_type: str, intacct_keys: Iterable[str]
    ) -> dict[str, Mapping]: ...

    def link(self, mapping: Mapping) -> Mapping: ...

    def link_many(self, mappings: list[Mapping]) -> list[Mapping | MappingConflictError]: ...

    def save(self, mapping: Mapping, *, previous_intacct_key: str | None = None) -> Mapping: ...

    def expected(self, tenant_id: str, object_type: str, probes: Iterable[str]) -> set[str]: ...


Errors = ErrorLog


@dataclass
class FlowCounts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass
class PullContext:
    settings: TenantSettings
    mappings: Mappings
    errors: Errors
    blixo: BlixoClient
    reader: Reader
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    counts: dict[str, FlowCounts] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None
    _books: ThreadPoolExecutor | None = None
    _booked: list[Future[None]] = field(default_factory=list)
    _books_failure: BaseException | None = None
    _held: Exception | None = None  # a chunk's transient write failure, raised after its links

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    def flow(self, name: str) -> FlowCounts:
        return self.counts.setdefault(name, FlowCounts())

    def run_writes(self, calls: Sequence[Callable[[], T]]) -> list[T | BaseException]:
        """Blixo writes of one page, `blixo_concurrency` at a time (Blixo allows 20 per key);
        each call's exception is returned in its place, never lost."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.settings.blixo_concurrency, thread_name_prefix="blixo"
            )

        def guarded(call: Callable[[], T]) -> T | BaseException:
            try:
                return call()
            except Exception as exc:  # noqa: BLE001 - handed back to the flow, which classifies it
                return exc

        return list(self._pool.map(guarded, calls))

    def record_later(self, work: Callable[[], object]) -> None:
        """Run `work` (a chunk's links, then its checkpoint) behind the writes, in order, while
        the next chunk is written: a chunk's records are not the next chunk's (each record comes
        once per flow run), so its bookkeeping need not hold the next one up. Once one piece
        fails, none after it runs (no checkpoint passes links that were not stored)."""
        self._raise_books_failure()
        if self._books is None:
            self._books = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-books")

        def in_order() -> None:
            if self._books_failure is not None:
                return
            try:
                work()
            except BaseException as exc:
                self._books_failure = exc
                raise

        self._booked.append(self._books.submit(in_order))

    def settle(self) -> None:
        """Wait for everything recorded later; its first failure is raised here. Called before
        anything that reads what it wrote: the next flow, a continuation, the run's end."""
        pending, self._booked = self._booked, []
        for future in pending:
            future.exception()  # wait, whatever happened
        self._raise_books_failure()

    def _raise_books_failure(self) -> None:
        if self._books_failure is not None:
            raise self._books_failure

    def close(self) -> None:
        if self._books is not None:
            self._books.shutdown(wait=True)  # never leave a link half-sent
            self._books = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def write_failed(
        self, flow: str, object_type: str, object_id: str, exc: BaseException, retry: dict[str, str]
    ) -> None:
        """A record's write failed: a business failure is its sync error; a transient one is
        held, and `raise_held` fails the run once the chunk's other results are recorded (a
        record written beside a transient failure keeps its link, so the retry finds it mapped)."""
        try:
            failure = self.business_failure(exc)
        except Exception as transient:  # noqa: BLE001 - whatever business_failure raised is transient
            if self._held is None:
                self._held = transient
            return
        self.fail(flow, object_type, object_id, failure, retry)

    def raise_held(self) -> None:
        """Fail the run with the chunk's transient failure, after the links recorded so far are
        stored (no checkpoint is recorded after them: the retry reads the chunk again)."""
        held, self._held = self._held, None
        if held is not None:
            self.settle()
            raise held

    def business_failure(self, exc: BaseException) -> BusinessSyncError:
        """A write's exception as the record's sync error; anything transient is raised (the
        run fails before its cursor moves, and SQS retries it)."""
        failure = classify(exc)
        if failure is None and isinstance(exc, ValueError):
            # A value Blixo's contract cannot carry (pydantic refused to build or serialise the
            # body): that record's error, never the run's.
            failure = BusinessSyncError(f"cannot be written to Blixo: {str(exc)[:300]}")
        if failure is None:
            raise exc
        if not isinstance(failure, BusinessSyncError):
            raise failure
        return failure

    def fail(
        self, flow: str, object_type: str, object_id: str, failure: BusinessSyncError, retry: dict[str, str]
    ) -> None:
        self.flow(flow).failed += 1
        self.errors.record(
            self.tenant_id,
            object_type,
            object_id,
            direction=PULL,
            message=failure.message,
            level=failure.level,
            intacct_errorno=failure.errorno,
            retry=retry,
            now=self.now(),
        )


def metadata(record_no: str, **extra: str) -> dict[str, str]:
    """The link the pull records on what it writes in Blixo (echoes are recognised by it)."""
    return {"intacct.source": "intacct", "intacct.recordNo": str(record_no), **extra}


def is_conflict_on(exc: BaseException, param: str) -> bool:
    return isinstance(exc, blixo_errors.ValidationError) and exc.param == param


def jsonable(value: Any) -> Any:
    """Decimals as strings for hashing and sending."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
