"""Typed errors raised by the Blixo client.

The split that matters to the sync: ``TransientError`` (and its subclasses) may succeed if
tried again later and end in the DLQ if they persist; everything else is a business or
configuration problem to record as a sync error. No error ever carries the API key: messages
hold the method, the path and Blixo's own message.
"""

from __future__ import annotations


class BlixoError(Exception):
    """Base class: ``message`` is Blixo's message (or ours), ``param`` the offending field."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        status_code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.param = param
        self.status_code = status_code
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        param = f" (param: {self.param})" if self.param else ""
        return f"{where}{status}{self.message}{param}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, param={self.param!r}, "
            f"status_code={self.status_code!r}, method={self.method!r}, path={self.path!r})"
        )


class AuthenticationError(BlixoError):
    """401/403: the API key is wrong or lacks access. Not retried."""


class ValidationError(BlixoError):
    """400/422: Blixo refused the request; ``param`` names the field. Not retried."""


class NotFoundError(BlixoError):
    """404: unknown id. Not retried."""


class ConflictError(BlixoError):
    """409: the request conflicts with the object's state. Not retried."""


class RequestError(BlixoError):
    """Any other 4xx. Not retried."""


class ProtocolError(BlixoError):
    """A response that does not follow the contract (not JSON, no ``data`` envelope)."""


class TransientError(BlixoError):
    """Worth trying again later: the client already retried it ``max_retries`` times."""


class RateLimitError(TransientError):
    """429: too many concurrent requests; ``retry_after`` is Blixo's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        param: str | None = None,
        status_code: int | None = 429,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, param=param, status_code=status_code, method=method, path=path)


class ServerError(TransientError):
    """5xx from Blixo."""


class IdempotencyInProgressError(TransientError):
    """409 naming the Idempotency-Key: an earlier attempt with the same key is still running
    (typically after our read timeout). Retried: the retry then gets the stored response."""


class BlixoConnectionError(TransientError):
    """The request did not get a response: connection refused or reset, or a timeout."""
