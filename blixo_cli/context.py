"""What a command needs from the global options: the stack, and a tenant's ready clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import typer

from bisync.config import RuntimeConfig
from bisync.secrets import TenantSecrets, TenantSecretsError, parse_tenant_secrets, tenant_secret_name
from bisync.settings import TenantSettings
from bisync.sync.tenant import TenantClients, connect
from blixo_cli import target as targets
from blixo_cli.output import OperatorError


@dataclass
class Options:
    stack: str | None = None
    stack_file: Path | None = None
    endpoint: str | None = None
    region: str | None = None
    profile: str | None = None
    _target: targets.Target | None = field(default=None, repr=False)

    def target(self) -> targets.Target:
        if self._target is None:
            self._target = targets.resolve(
                stack=self.stack,
                stack_file=self.stack_file,
                endpoint=self.endpoint,
                region=self.region,
                profile=self.profile,
            )
        return self._target


def target_of(ctx: typer.Context) -> targets.Target:
    obj = ctx.find_root().obj
    if isinstance(obj, targets.Target):  # tests hand a Target in directly
        return obj
    if not isinstance(obj, Options):
        raise OperatorError("internal: the global options were not parsed")
    return obj.target()


def runtime_config(target: targets.Target) -> RuntimeConfig:
    """The configuration the stack's functions run with, as far as the operator's side needs it."""
    intacct = target.local.get("intacct", {})
    values: dict[str, object] = {
        "stage": target.stage or "dev",
        "sync_table": target.sync_table,
        "push_queue_url": target.push_queue_url,
        "pull_queue_url": target.pull_queue_url,
        "tenant_secret_prefix": target.tenant_secret_prefix,
        "blixo_api_url": target.blixo_url,
        "intacct_request_deadline_seconds": 60.0,
    }
    if intacct.get("url"):
        values["intacct_endpoint_url"] = intacct["url"]
    return RuntimeConfig(**values)


def read_secrets(target: targets.Target, tenant_id: str) -> TenantSecrets:
    """The tenant's secret; a missing or malformed one is an operator message without values."""
    name = tenant_secret_name(target.tenant_secret_prefix, tenant_id)
    client = target.client("secretsmanager")
    try:
        raw = client.get_secret_value(SecretId=name)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        raise OperatorError(
            f"tenant {tenant_id} has no secret {name}: run `blixo-intacct tenant connect {tenant_id}`"
        ) from None
    try:
        return parse_tenant_secrets(tenant_id, raw)
    except TenantSecretsError as exc:
        raise OperatorError(str(exc)) from None


@contextmanager
def tenant_clients(target: targets.Target, settings: TenantSettings) -> Iterator[TenantClients]:
    """Clients on the tenant's Intacct company and Blixo account, with the stack's limits."""
    store = target.store()
    clients = connect(
        settings, read_secrets(target, settings.tenant_id), runtime_config(target), slots=store.slots
    )
    try:
        yield clients
    finally:
        clients.close()
