"""The Intacct XML gateway client: sessions, batches, typed outcomes, retries, paging."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bisync.intacct import functions as fn
from bisync.intacct.errors import (
    AuthenticationError,
    BusinessError,
    IntacctError,
    InvalidValueError,
    OutcomeUnknownError,
    RateLimitError,
    TransientError,
    UnsafeEndpointError,
    classify,
    is_replay_refusal,
)
from bisync.intacct.filters import Filter
from bisync.intacct.functions import Function, Lookup
from bisync.intacct.limiter import DEFAULT_MAX_IN_FLIGHT, Limiter, shared_limiter
from bisync.intacct.models import M
from bisync.intacct.outcome import Outcome, OutcomeStatus, transaction_replay
from bisync.intacct.paging import KEY_FIELD, Page, keyset_pages, result_id_pages
from bisync.intacct.retry import RetryPolicy, retry_after, retryable
from bisync.intacct.session import ApiSession, Clock, Credentials, SessionHolder, checked_endpoint, utc_now
from bisync.intacct.transport import (
    FailureStage,
    HttpResponse,
    Timeouts,
    Transport,
    TransportFailure,
    as_transport,
    failure_of,
)
from bisync.intacct.xml import (
    ControlBlock,
    LoginAuth,
    ParsedResponse,
    ParsedResult,
    Record,
    ResponseFormatError,
    SessionAuth,
    XmlValueError,
    build_request,
    check_payload,
    looks_like_html,
    parse_response,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestStats:
    """One HTTP request to the gateway as an observer sees it: timing and outcome only (never the
    body, a credential or a session id). The functions turn these into metrics."""

    seconds: float  # from sending to the parsed answer; the wait for a concurrency slot excluded
    http_status: int | None  # None: no answer (a network failure or timeout)
    rate_limited: bool  # HTTP 429, or a function refused as over the rate or concurrency limit
    writes: bool
    login: bool  # the getAPISession request that opens a session


RequestObserver = Callable[[RequestStats], None]


class IntacctClient:
    """One company's gateway client. Thread-safe; share one per company per process."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        transport: Transport | requests.Session | None = None,
        retry: RetryPolicy | None = None,
        limiter: Limiter | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        timeouts: Timeouts | None = None,
        clock: Clock = utc_now,
        request_id: Callable[[], str] = fn.new_controlid,
    ) -> None:
        self.credentials = credentials
        self._transport = as_transport(transport)
        self.retry = retry or RetryPolicy()
        self._limiter: Limiter = limiter or shared_limiter(max_in_flight)
        self._timeouts = timeouts or Timeouts()
        self._sessions = SessionHolder(clock)
        self._request_id = request_id
        self._observers: list[RequestObserver] = []

    def add_observer(self, observer: RequestObserver) -> None:
        """Call `observer` after every HTTP request (retries and logins included). An observer
        that raises is ignored: it may count what happens, never change it."""
        self._observers.append(observer)

    def __repr__(self) -> str:
        return (
            f"IntacctClient(company={self.credentials.company_id!r}, entity={self.credentials.entity_id!r})"
        )

    # ------------------------------------------------------------ execution

    def execute(
        self, functions: Sequence[Function], *, transaction: bool = False, resolve_keys: bool = True
    ) -> list[Outcome]:
        """Send the functions in one request; one Outcome per function, in order.

        Raises for request-level failures (authentication, transport, control errors) after
        the retries allowed; result-level business failures come back as outcomes.
        Already-done writes get their key looked up (`Function.lookup`) if `resolve_keys`."""
        if not functions:
            return []
        ids = [f.controlid for f in functions]
        if len(set(ids)) != len(ids):
            raise ValueError("function controlids must be unique within a request")
        refused = _refused_values(functions)
        if refused and transaction:
            # All or nothing: one unsendable value means none of them is sent.
            raise next(iter(refused.values()))
        sendable = [f for f in functions if f.controlid not in refused]
        sent: list[Outcome] = []
        if sendable:
            sent = self._retrying(lambda: self._execute_once(sendable, transaction))
        if resolve_keys:
            sent = [self._resolve(o) for o in sent]
        by_id = {o.function.controlid: o for o in sent}
        return [
            by_id[f.controlid]
            if f.controlid in by_id
            else Outcome(f, OutcomeStatus.FAILED, error=refused[f.controlid])
            for f in functions
        ]

    def run(self, function: Function) -> Outcome:
        """Execute one function and raise its error if it did not happen."""
        return self.execute([function])[0].raise_for_error()

    def _retrying(self, call: Callable[[], Any]) -> Any:
        policy = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts),
            wait=policy.wait,
            retry=retry_if_exception(retryable),
            sleep=policy.sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        return retrying(call)

    def _log_retry(self, state: RetryCallState) -> None:
        # The error's class and status only: its message may quote the request's values.
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "intacct request failed (attempt %d): %s; retrying in %.2fs",
            state.attempt_number,
            type(exc).__name__ if exc else "?",
            wait,
            extra={
                "intacct_company": self.credentials.company_id,
                "intacct_attempt": state.attempt_number,
                "intacct_status": getattr(exc, "http_status", None),
            },
        )

    def _execute_once(self, functions: Sequence[Function], transaction: bool) -> list[Outcome]:
        writes = any(f.is_write for f in functions)
        session = self._session()
        try:
            parsed = self._post(session.endpoint, session.auth(), functions, transaction, writes)
        except AuthenticationError:
            # A session can end early (logout, password change): log in again, once.
            logger.info(
                "intacct session refused; logging in again",
                extra={"intacct_company": self.credentials.company_id},
            )
            self._sessions.invalidate(session)
            session = self._session()
            parsed = self._post(session.endpoint, session.auth(), functions, transaction, writes)
        self._sessions.touch(session, parsed.session_timeout)
        return self._outcomes(functions, parsed, transaction, writes)

    def _session(self) -> ApiSession:
        with self._sessions.lock:
            current = self._sessions.current()
            if current is not None:
                return current
            creds = self.credentials
            parsed = self._post(creds.endpoint_url, creds.login(), [fn.get_api_session()], False, False)
            result = parsed.results[0] if parsed.results else None
            if result is None or result.status != "success" or result.data is None:
                raise classify(result.errors if result else (), default=AuthenticationError)
            api = next((r for r in result.data.records if "sessionid" in r), None)
            if api is None or not api.get("sessionid"):
                raise TransientError("getAPISession answered without a session id")
            endpoint = checked_endpoint(str(api.get("endpoint") or "").strip(), creds)
            return self._sessions.store(str(api["sessionid"]).strip(), endpoint, parsed.session_timeout)

    def _post(
        self,
        url: str,
        auth: LoginAuth | SessionAuth,
        functions: Sequence[Function],
        transaction: bool,
        writes: bool,
    ) -> ParsedResponse:
        creds = self.credentials
        control = ControlBlock(
            senderid=creds.sender_id,
            password=creds.sender_password,
            controlid=self._request_id(),
            uniqueid=writes,
        )
        body = build_request(control, auth, [f.call() for f in functions], transaction=transaction)
        login = isinstance(auth, LoginAuth)
        with self._limiter.slot(creds.company_id):
            started = time.perf_counter()
            try:
                response = self._send(url, body, writes)
            except IntacctError:
                self._observe(started, None, rate_limited=False, writes=writes, login=login)
                raise
        try:
            parsed = self._check(response, writes)
        except IntacctError as exc:
            limited = isinstance(exc, RateLimitError)
            self._observe(started, response.status, rate_limited=limited, writes=writes, login=login)
            raise
        limited = any(
            r.status != "success" and isinstance(classify(r.errors), RateLimitError) for r in parsed.results
        )
        self._observe(started, response.status, rate_limited=limited, writes=writes, login=login)
        return parsed

    def _observe(
        self, started: float, status: int | None, *, rate_limited: bool, writes: bool, login: bool
    ) -> None:
        if not self._observers:
            return
        stats = RequestStats(time.perf_counter() - started, status, rate_limited, writes, login)
        for observer in self._observers:
            with contextlib.suppress(Exception):
                observer(stats)

    def _send(self, url: str, body: bytes, writes: bool) -> HttpResponse:
        failure: TransportFailure | None = None
        try:
            return self._transport(url, body, self._timeouts)
        except Exception as exc:
            failure = failure_of(exc)
            if failure is None:
                raise
        # Raised outside the except block: no __context__ pointing at the original exception,
        # whose request carries the body (passwords, session id).
        if failure.stage is FailureStage.NOT_SENT or not writes:
            raise TransientError(failure.message)
        raise OutcomeUnknownError(f"{failure.message}, after sending a write")

    def _check(self, response: HttpResponse, writes: bool) -> ParsedResponse:
        status = response.status
        parsed: ParsedResponse | None = None
        reason = ""
        try:
            parsed = parse_response(response.body)
        except ResponseFormatError as exc:
            # Our own words (which limit, which element), never a piece of the body.
            reason = str(exc)
        errors = parsed.control_errors + parsed.auth_errors if parsed else ()
        if status == 401:
            # XMLGW_JPP0002: the gateway refused the sender credentials before any XML ran.
            # Not retryable; the message carries only the gateway's own text, never a secret.
            detail = "; ".join(str(e) for e in errors)
            raise AuthenticationError(
                f"Intacct refused the sign-in (HTTP 401){': ' + detail if detail else ''}",
                errors=errors,
                http_status=status,
            )
        if status == 429:
            wait = retry_after(response.headers)
            raise RateLimitError(
                "Intacct rate limit (HTTP 429)", errors=errors, http_status=status, retry_after=wait
            )
        if 300 <= status < 400:
            raise UnsafeEndpointError(
                f"Intacct answered with a redirect (HTTP {status}); redirects are never followed",
                http_status=status,
            )
        if status == 524:
            raise OutcomeUnknownError(
                "Intacct timed out behind its proxy (HTTP 524); the request may still run", http_status=status
            )
        if status >= 500:
            raise TransientError(f"Intacct server error (HTTP {status})", errors=errors, http_status=status)
        if parsed is None:
            what = "an HTML page" if looks_like_html(response.body) else f"an unusable body: {reason}"
            if status >= 400:
                raise BusinessError(f"Intacct refused the request (HTTP {status})", http_status=status)
            if writes:
                raise OutcomeUnknownError(f"Intacct answered a write with {what}", http_status=status)
            raise TransientError(f"Intacct answered with {what}", http_status=status)
        if parsed.control_status != "success":
            raise classify(parsed.control_errors, http_status=status)
        if parsed.auth_status is not None and parsed.auth_status != "success":
            raise classify(parsed.auth_errors, default=AuthenticationError, http_status=status)
        if status >= 400:
            raise classify(errors, http_status=status)
        return parsed

    def _outcomes(
        self, functions: Sequence[Function], parsed: ParsedResponse, transaction: bool, writes: bool
    ) -> list[Outcome]:
        by_id: dict[str, ParsedResult] = {r.controlid: r for r in parsed.results}
        outcomes: list[Outcome] = []
        for function in functions:
            result = by_id.get(function.controlid)
            if result is None:
                error_type = OutcomeUnknownError if writes else TransientError
                raise error_type(f"no result for function {function.name} in the response")
            outcomes.append(self._outcome(function, result))
        if transaction:
            outcomes = transaction_replay(outcomes)
        for outcome in outcomes:
            # A rate limit or outage at one function: re-send the whole request (reads are
            # idempotent, writes are protected by uniqueid).
            if outcome.error is not None and outcome.error.retryable:
                raise outcome.error
        return outcomes

    @staticmethod
    def _outcome(function: Function, result: ParsedResult) -> Outcome:
        if result.status == "success":
            return Outcome(
                function, OutcomeStatus.SUCCESS, key=_result_key(function, result), data=result.data
            )
        if is_replay_refusal(result.errors):
            return Outcome(function, OutcomeStatus.ALREADY_DONE)
        error = classify(result.errors, controlid=function.controlid)
        status = OutcomeStatus.ABORTED if result.status == "aborted" else OutcomeStatus.FAILED
        return Outcome(function, status, data=result.data, error=error)

    def _resolve(self, outcome: Outcome) -> Outcome:
        if outcome.status is OutcomeStatus.ALREADY_DONE and outcome.key is None and outcome.function.lookup:
            return replace(outcome, key=self.find_key(outcome.function.lookup))
        return outcome

    # ------------------------------------------------------------ reads

    def find_key(self, lookup: Lookup) -> str | None:
        """RECORDNO of the single record matching `lookup` (None if none or ambiguous)."""
        outcome = self.run(fn.query(lookup.object, [KEY_FIELD], filter=lookup.to_filter(), pagesize=2))
        keys = [str(r.get(KEY_FIELD)) for r in outcome.records if r.get(KEY_FIELD)]
        return keys[0] if len(keys) == 1 else None

    def query(
        self,
        object: str,
        fields: Sequence[str],
        *,
        filter: Filter | None = None,
        order_by: str | None = None,
        pagesize: int = fn.MAX_QUERY_PAGESIZE,
        show_private: bool = False,
    ) -> Iterator[Record]:
        """Every matching record once, ascending by (order_by, RECORDNO), paged by keyset."""
        select = list(dict.fromkeys([*fields, KEY_FIELD, *([order_by] if order_by else [])]))
        order = [(order_by, True)] if order_by and order_by != KEY_FIELD else []
        order.append((KEY_FIELD, True))

        def fetch(page_filter: Filter | None) -> Page:
            function = fn.query(
                object,
                select,
                filter=page_filter,
                order_by=order,
                pagesize=pagesize,
                show_private=show_private,
            )
            outcome = self.run(function)
            data = outcome.data
            return Page(outcome.records, data.numremaining if data else 0)

        return keyset_pages(fetch, base_filter=filter, order_field=order_by, pagesize=pagesize)

    def query_models(
        self,
        model: type[M],
        fields: Sequence[str],
        *,
        filter: Filter | None = None,
        order_by: str | None = None,
        pagesize: int = fn.MAX_QUERY_PAGESIZE,
        show_private: bool = False,
    ) -> Iterator[M]:
        records = self.query(
            model.OBJECT,
            fields,
            filter=filter,
            order_by=order_by,
            pagesize=pagesize,
            show_private=show_private,
        )
        for record in records:
            yield model.model_validate(record)

    def read_by_query(
        self,
        object: str,
        fields: Sequence[str] = ("*",),
        query: str = "",
        *,
        pagesize: int = fn.MAX_READBYQUERY_PAGESIZE,
    ) -> Iterator[Record]:
        def page_of(outcome: Outcome) -> Page:
            data = outcome.data
            if data is None:
                return Page(())
            return Page(data.records, data.numremaining, data.result_id)

        first = page_of(self.run(fn.read_by_query(object, fields, query, pagesize=pagesize)))
        return result_id_pages(first, lambda rid: page_of(self.run(fn.read_more(rid))))

    def read(
        self,
        object: str,
        keys: Sequence[str | int],
        fields: Sequence[str] = ("*",),
        *,
        functions_per_request: int = 5,
    ) -> list[Record]:
        """Full records by RECORDNO, 100 keys per `read` function, a few functions a request."""
        chunks = [keys[i : i + fn.MAX_READ_KEYS] for i in range(0, len(keys), fn.MAX_READ_KEYS)]
        calls = [fn.read(object, chunk, fields) for chunk in chunks]
        records: list[Record] = []
        for i in range(0, len(calls), functions_per_request):
            for outcome in self.execute(calls[i : i + functions_per_request]):
                records.extend(outcome.raise_for_error().records)
        return records

    def read_models(
        self, model: type[M], keys: Sequence[str | int], fields: Sequence[str] = ("*",)
    ) -> list[M]:
        return [model.model_validate(r) for r in self.read(model.OBJECT, keys, fields)]


def _refused_values(functions: Sequence[Function]) -> dict[str, InvalidValueError]:
    refused: dict[str, InvalidValueError] = {}
    for function in functions:
        try:
            check_payload(function.call())
        except XmlValueError as exc:
            refused[function.controlid] = InvalidValueError(
                f"{function.name}: {exc}", field=exc.field, controlid=function.controlid
            )
    return refused


def _result_key(function: Function, result: ParsedResult) -> str | None:
    if result.key:
        return result.key
    if function.name in ("create", "update") and result.data and result.data.records:
        key = result.data.records[0].get(KEY_FIELD)
        return str(key) if key else None
    return None
