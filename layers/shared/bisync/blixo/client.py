"""The Blixo REST client.

``BlixoClient(api_key=...)`` exposes one typed accessor per resource (``customers``,
``invoices``, ``credit_notes``, ``payments``) with ``get``, ``list``/``iter``/``iter_pages``,
``create``, ``update`` and, where Blixo allows them, ``delete`` and ``void``.

Writes require an ``idempotency_key`` derived by the caller from what is being written (tenant,
object, action, version), so a retry of the whole pull, not only of one HTTP request, finds the
first response instead of creating twice. Transient failures (429, 5xx, network) are retried
with backoff here; what still fails surfaces as ``TransientError`` for SQS to redrive.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from bisync.blixo import api
from bisync.blixo.api import ResourceKind
from bisync.blixo.errors import (
    AuthenticationError,
    BlixoConnectionError,
    BlixoError,
    ConflictError,
    IdempotencyInProgressError,
    NotFoundError,
    ProtocolError,
    RateLimitError,
    RequestError,
    ServerError,
    TransientError,
    ValidationError,
)
from bisync.blixo.models import (
    BlixoModel,
    BlixoWriteModel,
    CreditNote,
    CreditNoteWrite,
    Customer,
    CustomerWrite,
    Invoice,
    InvoiceWrite,
    Payment,
    PaymentWrite,
)
from bisync.redaction import redact

logger = logging.getLogger(__name__)

Timeout = float | tuple[float, float]
_USER_AGENT = "bisync-blixo/0.1"
_MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class Backoff:
    """Retry timing. Tests pass ``Backoff.none()`` and a recording ``sleep`` to run instantly."""

    initial: float = 0.5
    maximum: float = 20.0
    jitter: float = 0.5
    # A Retry-After longer than this is not waited for: the error goes up so the queue can
    # redeliver later instead of a Lambda sleeping through its timeout.
    max_retry_after: float = 60.0
    # Overall budget for one call, retries included (None = only max_retries limits it).
    max_elapsed: float | None = None

    @classmethod
    def none(cls) -> Backoff:
        return cls(initial=0.0, maximum=0.0, jitter=0.0)


M = TypeVar("M", bound=BlixoModel)
W = TypeVar("W", bound=BlixoWriteModel)


@dataclass(frozen=True)
class Page(Generic[M]):
    """One page of a list: ``has_more`` is false at the first short page."""

    items: list[M]
    page: int
    per_page: int
    total: int | None

    @property
    def has_more(self) -> bool:
        return len(self.items) >= self.per_page


class _ApiKeyAuth(requests.auth.AuthBase):
    """HTTP Basic with the API key as username and an empty password.

    The header is built per request from the SecretStr so the plain key is held nowhere that
    a repr, a log record or an exception would show.
    """

    def __init__(self, api_key: SecretStr) -> None:
        self._api_key = api_key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = base64.b64encode(f"{self._api_key.get_secret_value()}:".encode()).decode("ascii")
        r.headers["Authorization"] = f"Basic {token}"
        return r

    def secret_values(self) -> tuple[str, ...]:
        """The key and its encoded forms, for redaction of what a server echoes back."""
        key = self._api_key.get_secret_value()
        return (key, base64.b64encode(f"{key}:".encode()).decode("ascii"))

    def __repr__(self) -> str:
        return "_ApiKeyAuth(api_key=SecretStr('**********'))"


class BlixoClient:
    """A Blixo API client: pooled session, (connect, read) timeouts, retries, typed errors."""

    def __init__(
        self,
        api_key: SecretStr | str,
        base_url: str = api.DEFAULT_BASE_URL,
        *,
        timeout: Timeout = (3.05, 30.0),
        max_retries: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_maxsize: int = 10,
        session: requests.Session | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not key.get_secret_value():
            raise ValueError("a Blixo API key is required")
        scheme = urlsplit(base_url).scheme
        if scheme not in {"https", "http"}:
            raise ValueError(f"base_url must be http(s), got {base_url!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        # A trailing slash makes urljoin keep the version prefix ("/v1/") of the base URL.
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        # Decoded body cap: a page of 100 objects is tens of kB; a gzip bomb stops here.
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._exponential = wait_exponential_jitter(
            multiplier=self.backoff.initial, max=self.backoff.maximum, jitter=self.backoff.jitter
        )
        self._auth = _ApiKeyAuth(key)
        self._session = session or requests.Session()
        # urllib3's own retries are off: retrying is decided in one place (tenacity, below).
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"User-Agent": _USER_AGENT, "Accept": "application/json"})

        self.customers = CustomersAPI(self)
        self.invoices = InvoicesAPI(self)
        self.credit_notes = CreditNotesAPI(self)
        self.payments = PaymentsAPI(self)

    def __repr__(self) -> str:
        return f"BlixoClient(base_url={self.base_url!r}, api_key=SecretStr('**********'))"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> BlixoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API call with retries; return the decoded JSON body (None when empty)."""
        method = method.upper()
        if method in {"POST", "PATCH"}:
            if idempotency_key is None:
                raise ValueError(f"{method} {path} needs an idempotency_key")
            api.validate_idempotency_key(idempotency_key)
        url = urljoin(self.base_url, path.lstrip("/"))
        headers: dict[str, str] = {}
        if idempotency_key is not None:
            headers[api.IDEMPOTENCY_HEADER] = idempotency_key
        data: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")

        saw_transient = False

        def attempt() -> Any:
            nonlocal saw_transient
            try:
                return self._send_once(method, url, path=path, params=params, data=data, headers=headers)
            except NotFoundError:
                # A DELETE that timed out may have deleted: its retry then meets a 404,
                # which means the job is done.
                if method == "DELETE" and saw_transient:
                    logger.info("blixo DELETE %s: 404 after a retried attempt, already deleted", path)
                    return None
                raise
            except TransientError:
                saw_transient = True
                raise

        stop: stop_base = stop_after_attempt(self.max_retries + 1)
        if self.backoff.max_elapsed is not None:
            stop = stop | stop_after_delay(self.backoff.max_elapsed)
        retrying = Retrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry(method, path),
            reraise=True,
        )
        return retrying(attempt)

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        path: str,
        params: Mapping[str, str | int] | None,
        data: bytes | None,
        headers: Mapping[str, str],
    ) -> Any:
        failure: BlixoError | None = None
        try:
            response = self._session.request(
                method,
                url,
                params=dict(params) if params else None,
                data=data,
                headers=dict(headers),
                auth=self._auth,
                timeout=self.timeout,
                # Never follow: a redirect would re-send a write, possibly to another host.
                allow_redirects=False,
                stream=True,
            )
            try:
                body = self._read_capped(response, method, path)
            finally:
                response.close()
        except BlixoError as exc:
            failure = exc
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
        ) as exc:
            # A body cut short (ChunkedEncodingError), bad gzip, a reset mid-read...: only the
            # type name is kept. The exception itself carries the request, API key included.
            failure = BlixoConnectionError(
                f"{type(exc).__name__}: no usable response from Blixo", method=method, path=path
            )
        if failure is not None:
            raise failure  # outside the except block: nothing of the request is chained
        response._content = body  # what the error details and the decoder read
        return self._decode(response, method, path)

    def _read_capped(self, response: requests.Response, method: str, path: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_large(response, method, path)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_response_bytes:
                raise self._too_large(response, method, path)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, response: requests.Response, method: str, path: str) -> ProtocolError:
        return ProtocolError(
            f"response exceeds {self.max_response_bytes} bytes (decoded); refused",
            status_code=response.status_code,
            method=method,
            path=path,
        )

    def _decode(self, response: requests.Response, method: str, path: str) -> Any:
        status = response.status_code
        payload: Any = None
        if response.content:
            try:
                payload = json.loads(response.content, parse_float=Decimal)
            except (ValueError, ArithmeticError):  # ArithmeticError: 1e9999999999999999999
                payload = None
                if 200 <= status < 300:
                    raise ProtocolError(
                        "response is not JSON", status_code=status, method=method, path=path
                    ) from None
        if 200 <= status < 300:
            return payload

        message, param = _error_details(payload, response, self._auth.secret_values())
        kwargs: dict[str, Any] = {"param": param, "status_code": status, "method": method, "path": path}
        if status == 429:
            raise RateLimitError(message, retry_after=_retry_after(response), **kwargs)
        if status >= 500:
            raise ServerError(message, **kwargs)
        if status in {401, 403}:
            raise AuthenticationError(message, **kwargs)
        if status in {400, 422}:
            raise ValidationError(message, **kwargs)
        if status == 404:
            raise NotFoundError(message, **kwargs)
        if status == 409:
            if param == api.IDEMPOTENCY_HEADER:
                raise IdempotencyInProgressError(message, **kwargs)
            raise ConflictError(message, **kwargs)
        if 300 <= status < 400:
            raise ProtocolError(f"unexpected redirect ({message})", **kwargs)
        raise RequestError(message, **kwargs)

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, RateLimitError):
            return exc.retry_after is None or exc.retry_after <= self.backoff.max_retry_after
        return isinstance(exc, TransientError)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._exponential(state))

    @staticmethod
    def _log_retry(method: str, path: str) -> Callable[[RetryCallState], None]:
        def log(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "blixo %s %s failed (attempt %d): %s; retrying in %.2fs",
                method,
                path,
                state.attempt_number,
                type(exc).__name__ if exc else "?",
                wait,
                extra={
                    "blixo_status": getattr(exc, "status_code", None),
                    "blixo_attempt": state.attempt_number,
                },
            )

        return log

    # --- envelopes ----------------------------------------------------------------------------
    def get_data(self, path: str, *, params: Mapping[str, str | int] | None = None) -> Any:
        return _unwrap(self.request("GET", path, params=params), "GET", path)

    def send_data(
        self, method: str, path: str, body: Mapping[str, Any] | None, *, idempotency_key: str
    ) -> Any:
        payload = self.request(method, path, body=body, idempotency_key=idempotency_key)
        return _unwrap(payload, method, path)


def _unwrap(payload: Any, method: str, path: str) -> Any:
    if not isinstance(payload, dict) or api.DATA_KEY not in payload:
        raise ProtocolError(f"response has no {api.DATA_KEY!r} envelope", method=method, path=path)
    return payload[api.DATA_KEY]


def _error_details(
    payload: Any, response: requests.Response, secrets: tuple[str, ...]
) -> tuple[str, str | None]:
    """Blixo's message and param, with anything key-like taken out: a server may quote the
    credential it refused, and this text goes into exceptions and logs."""
    message, param = _raw_error_details(payload, response)
    return redact(message, secrets), (redact(param, secrets) if param else param)


def _raw_error_details(payload: Any, response: requests.Response) -> tuple[str, str | None]:
    message: str | None = None
    param: str | None = None
    if isinstance(payload, dict):
        raw_message = payload.get(api.ERROR_MESSAGE_KEY)
        raw_param = payload.get(api.ERROR_PARAM_KEY)
        message = raw_message if isinstance(raw_message, str) else None
        param = raw_param if isinstance(raw_param, str) else None
    if not message:
        text = response.text.strip()[:_MAX_ERROR_TEXT] if response.content else ""
        message = text or response.reason or f"HTTP {response.status_code}"
    return message, param


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    value = response.headers.get(api.RETRY_AFTER_HEADER)
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- resources ---------------------------------------------------------------------------------
class _Resource(Generic[M, W]):
    kind: ResourceKind
    model: type[M]
    write_model: type[W]

    def __init__(self, client: BlixoClient) -> None:
        self._client = client

    def _parse(self, data: Any, method: str, path: str) -> M:
        try:
            return self.model.model_validate(data)
        except PydanticValidationError as exc:
            raise ProtocolError(
                f"{self.kind.value} does not match the model: {exc.error_count()} error(s): "
                f"{_first_error(exc)}",
                method=method,
                path=path,
            ) from exc

    def _body(self, payload: W | Mapping[str, Any]) -> dict[str, Any]:
        model = payload if isinstance(payload, self.write_model) else self.write_model.model_validate(payload)
        return model.to_wire()

    def get(self, object_id: str) -> M:
        path = api.object_path(self.kind, object_id)
        return self._parse(self._client.get_data(path), "GET", path)

    def iter_pages(
        self,
        *,
        updated_after: datetime | None = None,
        per_page: int = api.MAX_PER_PAGE,
        start_page: int = api.FIRST_PAGE,
        params: Mapping[str, str | int] | None = None,
    ) -> Iterator[Page[M]]:
        """Pages in order; stops after the first page with fewer than ``per_page`` items.

        ``total`` is not trusted for stopping: a count that moves while we read (or is
        simply wrong) must neither cut the list short nor loop forever.
        """
        if not 1 <= per_page <= api.MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{api.MAX_PER_PAGE}")
        path = api.collection_path(self.kind)
        query: dict[str, str | int] = dict(params or {})
        if updated_after is not None:
            query[api.UPDATED_AFTER_PARAM] = api.format_timestamp(updated_after)
        query[api.PER_PAGE_PARAM] = per_page
        page_no = start_page
        previous_ids: list[str] | None = None
        while True:
            query[api.PAGE_PARAM] = page_no
            payload = self._client.request("GET", path, params=query)
            raw_items = _unwrap(payload, "GET", path)
            if not isinstance(raw_items, list):
                raise ProtocolError("list response 'data' is not an array", method="GET", path=path)
            items = [self._parse(item, "GET", path) for item in raw_items]
            ids = [getattr(item, "id", "") for item in items]
            # A server ignoring `page` would hand back the same full page forever.
            if items and ids == previous_ids:
                raise ProtocolError(f"page {page_no} repeats page {page_no - 1}", method="GET", path=path)
            raw_total = payload.get(api.TOTAL_KEY) if isinstance(payload, dict) else None
            total = raw_total if isinstance(raw_total, int) else None
            page = Page(items=items, page=page_no, per_page=per_page, total=total)
            yield page
            if not page.has_more:
                return
            previous_ids = ids
            page_no += 1

    def iter(self, *, updated_after: datetime | None = None, per_page: int = api.MAX_PER_PAGE) -> Iterator[M]:
        for page in self.iter_pages(updated_after=updated_after, per_page=per_page):
            yield from page.items

    def list(self, *, updated_after: datetime | None = None, per_page: int = api.MAX_PER_PAGE) -> list[M]:
        return list(self.iter(updated_after=updated_after, per_page=per_page))

    def create(self, payload: W | Mapping[str, Any], *, idempotency_key: str) -> M:
        path = api.collection_path(self.kind)
        data = self._client.send_data("POST", path, self._body(payload), idempotency_key=idempotency_key)
        return self._parse(data, "POST", path)

    def update(self, object_id: str, payload: W | Mapping[str, Any], *, idempotency_key: str) -> M:
        path = api.object_path(self.kind, object_id)
        data = self._client.send_data("PATCH", path, self._body(payload), idempotency_key=idempotency_key)
        return self._parse(data, "PATCH", path)

    def _delete(self, object_id: str) -> None:
        self._client.request("DELETE", api.object_path(self.kind, object_id))

    def _void(self, object_id: str, idempotency_key: str) -> M:
        path = api.void_path(self.kind, object_id)
        data = self._client.send_data("POST", path, None, idempotency_key=idempotency_key)
        return self._parse(data, "POST", path)


def _first_error(exc: PydanticValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    return f"{loc}: {err['msg']}"


class CustomersAPI(_Resource[Customer, CustomerWrite]):
    kind = ResourceKind.CUSTOMER
    model = Customer
    write_model = CustomerWrite

    def delete(self, customer_id: str) -> None:
        self._delete(customer_id)


class InvoicesAPI(_Resource[Invoice, InvoiceWrite]):
    kind = ResourceKind.INVOICE
    model = Invoice
    write_model = InvoiceWrite

    def delete(self, invoice_id: str) -> None:
        self._delete(invoice_id)

    def void(self, invoice_id: str, *, idempotency_key: str) -> Invoice:
        return self._void(invoice_id, idempotency_key)


class CreditNotesAPI(_Resource[CreditNote, CreditNoteWrite]):
    kind = ResourceKind.CREDIT_NOTE
    model = CreditNote
    write_model = CreditNoteWrite

    def delete(self, credit_note_id: str) -> None:
        self._delete(credit_note_id)

    def void(self, credit_note_id: str, *, idempotency_key: str) -> CreditNote:
        return self._void(credit_note_id, idempotency_key)


class PaymentsAPI(_Resource[Payment, PaymentWrite]):
    """Payments cannot be deleted in Blixo, only voided."""

    kind = ResourceKind.PAYMENT
    model = Payment
    write_model = PaymentWrite

    def void(self, payment_id: str, *, idempotency_key: str) -> Payment:
        return self._void(payment_id, idempotency_key)


__all__ = [
    "Backoff",
    "BlixoClient",
    "BlixoError",
    "CreditNotesAPI",
    "CustomersAPI",
    "InvoicesAPI",
    "Page",
    "PaymentsAPI",
]
