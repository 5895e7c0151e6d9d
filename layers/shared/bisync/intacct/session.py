"""Credentials and the API session (login once, then reuse session id and endpoint)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from pydantic import SecretStr

from bisync.intacct.errors import UnsafeEndpointError
from bisync.intacct.transport import DEFAULT_ENDPOINT
from bisync.intacct.xml import LoginAuth, SessionAuth
from bisync.secrets import IntacctCredentials

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Credentials(IntacctCredentials):
    """The tenant's secret Intacct credentials plus where to send them: the one credential
    model (the secret document holds the IntacctCredentials part; the gateway comes from the
    runtime configuration). Secrets are SecretStr and never echoed in errors."""

    endpoint_url: str = DEFAULT_ENDPOINT
    # Hosts besides the gateway's own that a session endpoint may name (empty: only it).
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def for_gateway(
        cls, secret: IntacctCredentials, endpoint_url: str, allowed_hosts: tuple[str, ...] = ()
    ) -> Credentials:
        return cls(**dict(secret), endpoint_url=endpoint_url, allowed_hosts=allowed_hosts)

    def login(self) -> LoginAuth:
        return LoginAuth(
            userid=self.user_id,
            companyid=self.company_id,
            password=self.user_password,
            locationid=self.entity_id or None,
        )


@dataclass(frozen=True)
class ApiSession:
    sessionid: SecretStr
    endpoint: str
    expires_at: datetime

    def auth(self) -> SessionAuth:
        return SessionAuth(self.sessionid)

    def __repr__(self) -> str:
        return f"ApiSession(endpoint={self.endpoint!r}, expires_at={self.expires_at.isoformat()})"


class SessionHolder:
    """Holds the current session; renews it a margin before its projected timeout.

    Intacct slides the timeout on every call and reports it in each response's
    <authentication>, so `touch` moves the expiry forward."""

    # Used when a response does not say (sessions last at least this long by default).
    FALLBACK_LIFETIME = timedelta(minutes=10)

    def __init__(self, clock: Clock = utc_now, renew_margin: timedelta = timedelta(minutes=2)) -> None:
        self._clock = clock
        self._margin = renew_margin
        self._lock = threading.Lock()
        self._session: ApiSession | None = None

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def current(self) -> ApiSession | None:
        session = self._session
        if session is None or self._clock() >= session.expires_at - self._margin:
            return None
        return session

    def store(self, sessionid: str, endpoint: str, timeout: datetime | None) -> ApiSession:
        expires = self._aware(timeout) if timeout else self._clock() + self.FALLBACK_LIFETIME
        self._session = ApiSession(SecretStr(sessionid), endpoint, expires)
        return self._session

    def touch(self, session: ApiSession, timeout: datetime | None) -> None:
        if timeout is not None and self._session is session:
            self._session = ApiSession(session.sessionid, session.endpoint, self._aware(timeout))

    def invalidate(self, session: ApiSession | None = None) -> None:
        if (
            session is None
            or self._session is session
            or (self._session is not None and self._session.sessionid == session.sessionid)
        ):
            self._session = None

    @staticmethod
    def _aware(value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def checked_endpoint(endpoint: str, credentials: Credentials) -> str:
    """The session endpoint getAPISession named, if it is safe to send credentials to.

    Only the configured gateway's host (or one of `allowed_hosts`), over https unless the
    configured endpoint itself is http (a local sandbox)."""
    configured = urlsplit(credentials.endpoint_url)
    if not endpoint:
        return credentials.endpoint_url
    given, port = _split(endpoint)
    if given is None:
        raise UnsafeEndpointError("getAPISession named an endpoint that is not a valid URL")
    allowed = {(configured.hostname or "").lower(), *(h.lower() for h in credentials.allowed_hosts)}
    schemes = {"https"} if configured.scheme == "https" else {"https", "http"}
    host = (given.hostname or "").lower()
    if given.scheme not in schemes:
        raise UnsafeEndpointError(
            f"getAPISession named an endpoint with scheme {given.scheme or 'none'!r}; "
            f"only {' or '.join(sorted(schemes))} is accepted"
        )
    if given.username is not None or given.password is not None or host not in allowed:
        raise UnsafeEndpointError(
            f"getAPISession named an endpoint on host {host!r}, not the configured gateway's "
            f"({', '.join(sorted(allowed))}); nothing is sent there"
        )
    if host == (configured.hostname or "").lower() and (port or _default_port(given.scheme)) != (
        configured.port or _default_port(configured.scheme)
    ):
        raise UnsafeEndpointError(
            f"getAPISession named an endpoint on port {port}, not the configured gateway's; "
            "nothing is sent there"
        )
    return endpoint


def _split(url: str) -> tuple[SplitResult | None, int | None]:
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError:
        return None, None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
