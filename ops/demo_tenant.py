"""The local stack's demo tenant: onboarded by `make up`, used by `make demo` and the e2e tests.

Its settings and secret go to the deployed stack, and the Blixo sandbox's webhooks are
pointed at the stack's webhook URL for it, so a change made in the Blixo sandbox flows into
the push path with no further setup. `.local/stack.json` records it under `demo_tenant`.
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import SecretStr

from bisync.secrets import IntacctCredentials, TenantSecrets
from bisync.settings import TenantSettings
from bisync.store import SyncStore
from ops.local import LocalStack
from ops.onboarding import onboard_tenant

DEMO_TENANT = "demo"
DEMO_WEBHOOK_SECRET = "whsec_demo_local"  # noqa: S105 - the local demo's own, public value


def sandbox_secrets(
    doc: dict[str, Any], webhook_secret: str, blixo_api_key: str | None = None
) -> TenantSecrets:
    """A tenant's credentials for the local sandboxes, as `.local/stack.json` records them
    (`blixo_api_key`: another account of the Blixo sandbox than the stack's own)."""
    intacct = doc["intacct"]
    return TenantSecrets(
        intacct=IntacctCredentials(
            sender_id=intacct["sender_id"],
            sender_password=SecretStr(intacct["sender_password"]),
            company_id=intacct["company_id"],
            user_id=intacct["user_id"],
            user_password=SecretStr(intacct["user_password"]),
            entity_id=intacct["entities"][0] if intacct.get("entities") else None,
        ),
        blixo_api_key=SecretStr(blixo_api_key or doc["blixo"]["api_key"]),
        webhook_secrets=[SecretStr(webhook_secret)],
    )


def onboard(stack: LocalStack) -> TenantSettings:
    secrets = sandbox_secrets(stack.doc, DEMO_WEBHOOK_SECRET)
    settings = TenantSettings(
        tenant_id=DEMO_TENANT, name="Demo Co (local)", entity_id=secrets.intacct.entity_id
    )
    return onboard_tenant(
        SyncStore(stack.table()),
        stack.client("secretsmanager"),
        stack.doc["tenant_secret_prefix"],
        settings,
        secrets,
    )


def subscribe_webhooks(stack: LocalStack) -> None:
    """Point the Blixo sandbox's webhooks at the stack (once; running it again keeps one)."""
    base = stack.doc["blixo"]["url"]
    auth = (stack.doc["blixo"]["api_key"], "")
    url = stack.doc["webhook_url"].replace("{tenantId}", DEMO_TENANT)
    page = 1
    while True:
        listed = requests.get(
            f"{base}/webhooks", params={"page": page, "perPage": 100}, auth=auth, timeout=10
        )
        listed.raise_for_status()
        hooks: list[dict[str, Any]] = listed.json()["data"]
        if any(hook["url"] == url for hook in hooks):
            return
        if len(hooks) < 100:
            break
        page += 1
    created = requests.post(
        f"{base}/webhooks",
        auth=auth,
        json={"url": url, "events": ["*"], "secret": DEMO_WEBHOOK_SECRET},
        timeout=10,
    )
    created.raise_for_status()


def ensure_demo_tenant(stack: LocalStack) -> dict[str, str]:
    onboard(stack)
    subscribe_webhooks(stack)
    entry = {
        "tenant_id": DEMO_TENANT,
        "webhook_secret": DEMO_WEBHOOK_SECRET,
        "webhook_url": stack.doc["webhook_url"].replace("{tenantId}", DEMO_TENANT),
    }
    stack.doc["demo_tenant"] = entry
    stack.save()
    return entry
