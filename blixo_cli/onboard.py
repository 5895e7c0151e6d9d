"""`tenant connect`: check a tenant's credentials, subscribe its webhook in Blixo, and store
its secret and settings. Safe to run again: what is already right is kept as it is."""

from __future__ import annotations

import secrets as tokens
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bisync.blixo.client import BlixoClient
from bisync.intacct.client import IntacctClient
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials as GatewayCredentials
from bisync.operate.connect import Problem, check_blixo, check_intacct
from bisync.secrets import (
    IntacctCredentials,
    TenantSecrets,
    TenantSecretsError,
    parse_tenant_secrets,
    tenant_secret_name,
)
from bisync.settings import Flows, TenantSettings
from bisync.store import TenantNotFoundError
from blixo_cli.context import runtime_config
from blixo_cli.target import Target
from ops.onboarding import onboard_tenant

WEBHOOK_EVENTS = ["*"]


@dataclass
class ConnectRequest:
    tenant_id: str
    company_id: str | None = None
    user_id: str | None = None
    user_password: str | None = None
    sender_id: str | None = None
    sender_password: str | None = None
    entity_id: str | None = None
    blixo_api_key: str | None = None
    name: str | None = None
    webhook_secret: str | None = None  # normally generated; `make up` pins the demo's


@dataclass
class ConnectResult:
    tenant_id: str
    saved: bool
    problems: list[Problem] = field(default_factory=list)
    webhook_url: str = ""
    webhook: str = ""  # kept, created, replaced
    secret_name: str = ""
    settings: TenantSettings | None = None
    webhook_secret: SecretStr | None = None

    def public(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "saved": self.saved,
            "problems": [p.model_dump() for p in self.problems],
            "webhook_url": self.webhook_url,
            "webhook": self.webhook,
            "secret_name": self.secret_name,
        }


class MissingValueError(ValueError):
    """A credential that was neither given nor stored from an earlier connect."""


def _existing(target: Target, tenant_id: str) -> TenantSecrets | None:
    client = target.client("secretsmanager")
    try:
        raw = client.get_secret_value(SecretId=tenant_secret_name(target.tenant_secret_prefix, tenant_id))
    except client.exceptions.ResourceNotFoundException:
        return None
    try:
        return parse_tenant_secrets(tenant_id, raw["SecretString"])
    except TenantSecretsError:
        return None  # replaced by what this connect is given


def _pick(given: str | None, stored: str | SecretStr | None, local: Any, what: str) -> str:
    if given:
        return given
    if isinstance(stored, SecretStr):
        return stored.get_secret_value()
    if stored:
        return stored
    if local:
        return str(local)
    raise MissingValueError(what)


@dataclass
class Staged:
    """What connect will store, before the webhook secret is settled."""

    intacct: IntacctCredentials
    blixo_api_key: SecretStr
    webhook_secrets: list[SecretStr]

    def secrets(self, webhook_secrets: list[SecretStr]) -> TenantSecrets:
        return TenantSecrets(
            intacct=self.intacct, blixo_api_key=self.blixo_api_key, webhook_secrets=webhook_secrets
        )


def resolve_credentials(target: Target, request: ConnectRequest, current: TenantSecrets | None) -> Staged:
    stored: dict[str, Any] = dict(current.intacct) if current else {}
    # The local stack's sandbox credentials are the defaults there (and only there).
    local: dict[str, Any] = dict(target.local.get("intacct", {}))
    blixo_local: dict[str, Any] = dict(target.local.get("blixo", {}))

    def value(name: str, given: str | None) -> str:
        return _pick(given, stored.get(name), local.get(name), f"--{name.replace('_', '-')}")

    return Staged(
        intacct=IntacctCredentials(
            company_id=value("company_id", request.company_id),
            user_id=value("user_id", request.user_id),
            user_password=SecretStr(value("user_password", request.user_password)),
            sender_id=value("sender_id", request.sender_id),
            sender_password=SecretStr(value("sender_password", request.sender_password)),
            entity_id=request.entity_id or stored.get("entity_id"),
        ),
        blixo_api_key=SecretStr(
            _pick(
                request.blixo_api_key,
                current.blixo_api_key if current else None,
                blixo_local.get("api_key"),
                "--blixo-api-key",
            )
        ),
        webhook_secrets=list(current.webhook_secrets) if current else [],
    )


def connect_tenant(target: Target, request: ConnectRequest, *, check_only: bool = False) -> ConnectResult:
    store = target.store()
    try:
        settings = store.get_tenant(request.tenant_id)
    except TenantNotFoundError:
        settings = TenantSettings(tenant_id=request.tenant_id, flows=Flows())
    current = _existing(target, request.tenant_id)
    secrets = resolve_credentials(target, request, current)
    update: dict[str, Any] = {}
    if request.name is not None:
        update["name"] = request.name
    if secrets.intacct.entity_id:
        update["entity_id"] = secrets.intacct.entity_id
    settings = TenantSettings.model_validate({**settings.model_dump(), **update})
    config = runtime_config(target)
    result = ConnectResult(tenant_id=request.tenant_id, saved=False, settings=settings)
    intacct = IntacctClient(
        GatewayCredentials.for_gateway(
            secrets.intacct, config.intacct_endpoint_url, tuple(config.intacct_allowed_hosts)
        ),
        retry=RetryPolicy(attempts=3),
    )
    result.problems += check_intacct(intacct.execute, settings, secrets.intacct.company_id)
    blixo = BlixoClient(secrets.blixo_api_key, config.blixo_api_url)
    try:
        result.problems += check_blixo(lambda: next(blixo.customers.iter_pages(per_page=1)))
        if result.problems or check_only:
            return result
        url = target.webhook_url.replace("{tenantId}", request.tenant_id)
        result.webhook_url = url
        stored_secrets, result.webhook = _subscribe(
            target, store, blixo, settings, secrets, url, request.webhook_secret
        )
    finally:
        blixo.close()
    stored = onboard_tenant(
        store, target.client("secretsmanager"), target.tenant_secret_prefix, settings, stored_secrets
    )
    result.saved = True
    result.settings = stored
    result.secret_name = stored.secret_name
    result.webhook_secret = stored_secrets.webhook_secrets[0]
    return result


def _list_webhooks(blixo: BlixoClient) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        payload = blixo.request("GET", "webhooks", params={"page": page, "perPage": 100})
        items = payload.get("data", []) if isinstance(payload, dict) else []
        out += [i for i in items if isinstance(i, dict)]
        if len(items) < 100:
            return out
        page += 1


def _subscribe(
    target: Target,
    store: Any,
    blixo: BlixoClient,
    settings: TenantSettings,
    secrets: Staged,
    url: str,
    pinned: str | None,
) -> tuple[TenantSecrets, str]:
    """Keep an endpoint whose secret we hold; else store a new secret first (so the first
    deliveries verify), create the endpoint, then remove the stale ones of the same URL."""
    known = {s.get_secret_value() for s in secrets.webhook_secrets}
    mine = [h for h in _list_webhooks(blixo) if h.get("url") == url]
    keep = [h for h in mine if h.get("secret") in known and (pinned is None or h.get("secret") == pinned)]
    if keep:
        for stale in [h for h in mine if h not in keep]:
            blixo.request("DELETE", f"webhooks/{stale['id']}")
        ordered = [SecretStr(keep[0]["secret"])] + [
            s for s in secrets.webhook_secrets if s.get_secret_value() != keep[0]["secret"]
        ]
        return secrets.secrets(ordered[:2]), "kept"
    secret = pinned or "whsec_" + tokens.token_hex(24)
    # The old secret stays valid beside the new one until the old endpoint is gone.
    rotated = secrets.secrets([SecretStr(secret), *secrets.webhook_secrets][:2])
    onboard_tenant(store, target.client("secretsmanager"), target.tenant_secret_prefix, settings, rotated)
    blixo.request(
        "POST",
        "webhooks",
        body={"url": url, "events": WEBHOOK_EVENTS, "secret": secret},
        idempotency_key=f"connect-{settings.tenant_id}-{tokens.token_hex(8)}",
    )
    for stale in mine:
        blixo.request("DELETE", f"webhooks/{stale['id']}")
    return secrets.secrets([SecretStr(secret)]), "replaced" if mine else "created"
