"""Runtime configuration of the Lambdas, read once from the environment the template sets."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from bisync.endpoints import BLIXO_API_URL, INTACCT_GATEWAY_URL


class RuntimeConfig(BaseSettings):
    """Names and URLs the template passes to every function (see template.yaml Globals)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    stage: str = "dev"
    sync_table: str
    idempotency_table: str = ""
    push_queue_url: str = ""
    pull_queue_url: str = ""
    tenant_secret_prefix: str = "blixo-intacct/dev/tenants/"  # noqa: S105 - a name, not a secret
    intacct_endpoint_url: str = INTACCT_GATEWAY_URL
    blixo_api_url: str = BLIXO_API_URL
    webhook_max_body_bytes: int = 262_144
    # Intacct transport bounds (bisync.intacct.transport.Timeouts): the decoded-body cap, far
    # under the functions' 512 MB, and each request's overall deadline.
    intacct_max_response_bytes: int = 32 * 1024 * 1024
    intacct_request_deadline_seconds: float = 600.0
    # Hosts besides the configured gateway's that a session endpoint may name.
    intacct_allowed_hosts: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def runtime_config() -> RuntimeConfig:
    """The process-wide configuration (cached: the environment does not change in a container)."""
    return RuntimeConfig()  # filled from the environment
