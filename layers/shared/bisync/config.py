"""Runtime configuration of the Lambdas, read once from the environment the template sets.

Plain pydantic over os.environ rather than pydantic-settings: the latter's import alone costs
every cold start of every function well over 100 ms, for nine flat fields."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from bisync.endpoints import BLIXO_API_URL, INTACCT_GATEWAY_URL


class RuntimeConfig(BaseModel):
    """Names and URLs the template passes to every function (see template.yaml Globals)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

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
    # Hosts besides the configured gateway's that a session endpoint may name (a JSON list in
    # the environment, or one comma-separated line).
    intacct_allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeConfig:
        """Each field from the variable of its name in capitals (or as written); a missing
        SYNC_TABLE is a validation error that names the field."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper(), env.get(name))
            if raw is None:
                continue
            values[name] = _hosts(raw) if name == "intacct_allowed_hosts" else raw
        return cls.model_validate(values)


def _hosts(raw: str) -> list[str]:
    text = raw.strip()
    if text.startswith(("[", "{")):
        parsed = json.loads(text)
        if not isinstance(parsed, list):
            raise ValueError("INTACCT_ALLOWED_HOSTS must be a JSON list of host names")
        return [str(h) for h in parsed]
    return [h.strip() for h in text.split(",") if h.strip()]


@lru_cache(maxsize=1)
def runtime_config() -> RuntimeConfig:
    """The process-wide configuration (cached: the environment does not change in a container)."""
    return RuntimeConfig.from_env()
