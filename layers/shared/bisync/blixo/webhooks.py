"""Verification of Blixo webhook deliveries (used by the webhook Lambda).

``verify(raw_body, signature_header, secrets)`` checks, in this order: the body size (before
any hashing, so an oversize body costs nothing), the signature (HMAC-SHA256 of the raw bytes,
constant-time comparison, every configured secret tried so a rotation has no gap), strict JSON,
then the event against the models. It returns ``AcceptedEvent`` to enqueue or ``IgnoredEvent``
(a well-formed event of a type this integration does not handle: answer 2xx, count, do not
queue) and raises a ``WebhookError`` whose ``status_code`` the handler returns.

Replay protection is the caller's dedupe on ``event.id``: Blixo signs no timestamp.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from bisync.blixo import api
from bisync.blixo.models import BlixoEvent, EventEnvelope, UnknownEventType, event_from_envelope

DEFAULT_MAX_BODY_BYTES = 256 * 1024

Secret = str | bytes | SecretStr


# --- outcomes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AcceptedEvent:
    """A verified event of a handled type: enqueue it (dedupe on ``event.id``)."""

    event: BlixoEvent
    # 0 = signed with the current secret, 1+ = an older one still accepted during a rotation;
    # worth a metric so the rotation can be finished once nothing uses the old secret.
    secret_index: int


@dataclass(frozen=True)
class IgnoredEvent:
    """A verified, well-formed event whose type is not handled: acknowledge and count it."""

    event_id: str
    event_type: str
    secret_index: int


VerificationOutcome = AcceptedEvent | IgnoredEvent


# --- errors -------------------------------------------------------------------------------------
class WebhookError(Exception):
    """Base class; ``status_code`` is what the webhook endpoint answers."""

    status_code: int = 400


class MissingSignature(WebhookError):
    status_code = 401


class InvalidSignature(WebhookError):
    status_code = 401


class PayloadTooLarge(WebhookError):
    status_code = 413


class MalformedPayload(WebhookError):
    status_code = 400


# --- verification -------------------------------------------------------------------------------
def sign(raw_body: bytes, secret: Secret) -> str:
    """The signature Blixo puts in the header for ``raw_body`` (also used by tests and tools)."""
    return hmac.new(_secret_bytes(secret), raw_body, api.SIGNATURE_DIGEST).hexdigest()


def signature_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The signature header's value; HTTP header names are case-insensitive (API Gateway
    passes them as the sender wrote them)."""
    if not headers:
        return None
    wanted = api.SIGNATURE_HEADER.lower()
    for name, value in headers.items():
        if name.lower() == wanted:
            return value
    return None


def verify(
    raw_body: bytes,
    signature_header: str | None,
    secrets: Sequence[Secret],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> VerificationOutcome:
    """Verify one delivery; ``secrets`` is the current secret first, then any previous ones."""
    keys = [_secret_bytes(s) for s in secrets]
    keys = [k for k in keys if k]
    if not keys:
        # A configuration problem, not the sender's: let it surface as a 500.
        raise ValueError("no webhook secret configured")
    if len(raw_body) > max_body_bytes:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes exceeds {max_body_bytes}")
    if signature_header is None or not signature_header.strip():
        raise MissingSignature(f"missing {api.SIGNATURE_HEADER} header")
    expected = api.parse_signature_header(signature_header)
    if expected is None:
        raise InvalidSignature(f"{api.SIGNATURE_HEADER} is not a hex HMAC-SHA256 digest")

    secret_index = _matching_secret(raw_body, expected.encode("ascii"), keys)
    if secret_index is None:
        raise InvalidSignature("signature does not match")

    payload = parse_strict_json(raw_body)
    failure: MalformedPayload | None = None
    try:
        envelope = EventEnvelope.model_validate(payload)
    except PydanticValidationError as exc:
        _malformed("event envelope", exc)
    try:
        event = event_from_envelope(envelope)
    except UnknownEventType:
        return IgnoredEvent(event_id=envelope.id, event_type=envelope.type, secret_index=secret_index)
    except PydanticValidationError as exc:
        _malformed(f"{envelope.type} object", exc)
    except (ArithmeticError, RecursionError) as exc:
        # A value no model check foresaw: still the sender's input, so a 400, never a 5xx
        # that Blixo would retry for two days.
        failure = MalformedPayload(f"invalid {envelope.type} object: {type(exc).__name__}")
    if failure is not None:
        raise failure
    return AcceptedEvent(event=event, secret_index=secret_index)


def _matching_secret(raw_body: bytes, expected: bytes, keys: Sequence[bytes]) -> int | None:
    # Every key is tried (no early exit) so the time taken does not tell which one matched.
    found: int | None = None
    for index, key in enumerate(keys):
        digest = hmac.new(key, raw_body, api.SIGNATURE_DIGEST).hexdigest().encode("ascii")
        if hmac.compare_digest(digest, expected) and found is None:
            found = index
    return found


def _secret_bytes(secret: Secret) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _malformed(what: str, exc: PydanticValidationError) -> NoReturn:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    # Only the location and pydantic's message: never echo payload values into logs.
    raise MalformedPayload(f"invalid {what}: {exc.error_count()} error(s), first at {loc}: {err['msg']}")


# --- strict JSON --------------------------------------------------------------------------------
def _reject_constant(name: str) -> NoReturn:
    raise MalformedPayload(f"JSON constant {name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Two parsers could disagree on which value wins: refuse the ambiguity.
            raise MalformedPayload(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def parse_strict_json(raw_body: bytes) -> dict[str, Any]:
    """UTF-8 JSON object with no duplicate keys, no NaN/Infinity; floats as Decimal."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("body is not UTF-8") from exc
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=Decimal,
        )
    except MalformedPayload:
        raise
    except (ValueError, RecursionError, ArithmeticError) as exc:
        # ArithmeticError: a number whose exponent Decimal cannot hold (1.5e9999999999999999999).
        raise MalformedPayload(f"body is not valid JSON: {type(exc).__name__}") from exc
    if not isinstance(value, dict):
        raise MalformedPayload("event must be a JSON object")
    _check_structure(value)
    return value


# Real events are a handful of levels deep; the models (and pydantic's own limit of 255) must
# never meet anything near a recursion limit.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_structure(value: Any) -> None:
    """Depth and text checks, iteratively (no recursion for a hostile body to exhaust)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise MalformedPayload(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise MalformedPayload(f"a key under {path or '(root)'} holds a lone surrogate")
                stack.append((child, depth + 1, f"{path}.{key}".lstrip(".")[:120]))
        elif isinstance(item, str) and _SURROGATE.search(item):
            # Valid JSON escapes, but no text: cannot be stored, queued or sent anywhere.
            raise MalformedPayload(f"{path or 'a value'} holds a lone surrogate (\\ud800-\\udfff)")


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "AcceptedEvent",
    "IgnoredEvent",
    "InvalidSignature",
    "MalformedPayload",
    "MissingSignature",
    "PayloadTooLarge",
    "VerificationOutcome",
    "WebhookError",
    "parse_strict_json",
    "sign",
    "signature_from_headers",
    "verify",
]
