"""Typed errors of the Intacct XML gateway and the rules that classify them.

The split matters to the sync engine: transient, rate-limit and outcome-unknown errors are
retried (writes with the same controlid); business errors go to the operator; an
authentication error means the credentials (or the session) are bad.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

# Text Intacct uses when a function controlid was already executed with uniqueid=true.
REPLAY_REFUSAL_TEXT = "a successful transaction has already been recorded with the control id"
TRANSACTION_ROLLED_BACK = "XL03000009"
_AUTH_ERRORNOS = frozenset({"XL03000006", "XMLGW_JPP0002"})
_RATE_LIMIT_TEXTS = ("concurrent request in process", "api rate limit exceeded", "gw-0010")
_TRANSIENT_TEXTS = ("the service is temporarily off-line", "temporarily unavailable")
_BUSINESS_PREFIXES = ("BL", "DL", "PL")
_SUPPORT_ID = re.compile(r"\s*\[Support ID:[^\]]*\]\s*", re.IGNORECASE)


def strip_support_id(text: str | None) -> str | None:
    """Remove Intacct's "[Support ID: ...]" suffix (it differs on every call)."""
    if text is None:
        return None
    cleaned = _SUPPORT_ID.sub(" ", text).strip()
    return cleaned or None


class ErrorDetail(BaseModel):
    """One `<error>` of an `<errormessage>`."""

    model_config = ConfigDict(frozen=True)

    errorno: str | None = None
    description: str | None = None
    description2: str | None = None
    correction: str | None = None

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.description, self.description2, self.correction) if p)

    def __str__(self) -> str:
        return f"{self.errorno or '?'}: {self.text}".strip()


class IntacctError(Exception):
    """Base of every error the client raises. Never carries secrets (only gateway text)."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[ErrorDetail] = (),
        http_status: int | None = None,
        controlid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: tuple[ErrorDetail, ...] = tuple(errors)
        self.http_status = http_status
        self.controlid = controlid

    @property
    def errorno(self) -> str | None:
        for err in self.errors:
            if err.errorno:
                return err.errorno
        return None

    @property
    def description(self) -> str | None:
        return self.errors[0].description if self.errors else None

    @property
    def description2(self) -> str | None:
        return self.errors[0].description2 if self.errors else None

    @property
    def correction(self) -> str | None:
        return self.errors[0].correction if self.errors else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, errorno={self.errorno!r}, http={self.http_status})"


class AuthenticationError(IntacctError):
    """Bad sender, sender not authorised for the company, bad login or expired session."""


class RateLimitError(IntacctError):
    """429 GW-0010, "concurrent request in process", "API rate limit exceeded"."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[ErrorDetail] = (),
        http_status: int | None = None,
        controlid: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, errors=errors, http_status=http_status, controlid=controlid)
        self.retry_after = retry_after


class TransientError(IntacctError):
    """5xx (not 524), HTML or non-XML bodies, timeouts and dropped connections before a write."""

    retryable = True


class OutcomeUnknownError(IntacctError):
    """524, or a write whose response was lost: it may or may not have committed.

    Safe to retry with the same function controlids (uniqueid=true turns a replay of a
    committed write into an already-done outcome)."""

    retryable = True


class BusinessError(IntacctError):
    """BL..., DL..., PL... and any other refusal that retrying cannot fix."""


class InvalidValueError(BusinessError):
    """A value this side refuses to send: XML 1.0 cannot carry one of its characters.

    Raised before anything is sent; names the field, never the value."""

    def __init__(self, message: str, *, field: str, controlid: str | None = None) -> None:
        super().__init__(message, controlid=controlid)
        self.field = field


class UnsafeEndpointError(IntacctError):
    """A redirect, or a session endpoint off the configured gateway's host: nothing is sent
    there (it would receive the credentials). Not retried: it is a configuration or an attack."""


def is_replay_refusal(errors: Sequence[ErrorDetail]) -> bool:
    return any(REPLAY_REFUSAL_TEXT in e.text.lower() for e in errors)


def is_rollback_only(errors: Sequence[ErrorDetail]) -> bool:
    """True if the only reason given is "the entire transaction ... rolled back"."""
    return bool(errors) and all(e.errorno == TRANSACTION_ROLLED_BACK for e in errors)


def classify(
    errors: Sequence[ErrorDetail],
    *,
    default: type[IntacctError] = BusinessError,
    http_status: int | None = None,
    controlid: str | None = None,
) -> IntacctError:
    """Turn the `<error>`s of one status level into the matching typed error."""
    message = "; ".join(str(e) for e in errors) or "Intacct reported a failure without details"
    lowered = " ".join(f"{e.errorno or ''} {e.text}" for e in errors).lower()
    kind: type[IntacctError] = default
    if any(e.errorno in _AUTH_ERRORNOS for e in errors):
        kind = AuthenticationError
    elif any(t in lowered for t in _RATE_LIMIT_TEXTS):
        kind = RateLimitError
    elif any(t in lowered for t in _TRANSIENT_TEXTS):
        kind = TransientError
    elif any((e.errorno or "").startswith(_BUSINESS_PREFIXES) for e in errors):
        # BL/DL/PL are business refusals even at the authentication level (PL04000055).
        kind = BusinessError
    return kind(message, errors=errors, http_status=http_status, controlid=controlid)
