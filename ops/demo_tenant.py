"""The local stack's demo tenant: connected by `make up`, used by `make demo` and the e2e tests.

`make up` connects it through `tenant connect` with every flow on: its settings and secret go
to the deployed stack, and the Blixo sandbox's webhooks are pointed at the stack's webhook URL
for it, so a change made in the Blixo sandbox flows into the push path with no further setup.
`.local/stack.json` records it under `demo_tenant` and its id as `tenant_id`.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bisync.secrets import IntacctCredentials, TenantSecrets
from blixo_cli.onboard import ConnectRequest, connect_tenant
from blixo_cli.target import STACK_JSON, from_stack_file
from ops.local import LocalStack

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


def ensure_demo_tenant(stack: LocalStack) -> dict[str, str]:
    """Connect the demo tenant the way an operator would (`blixo-intacct tenant connect demo`):
    checks both sandboxes' credentials, subscribes the webhook, stores secret and settings."""
    target = from_stack_file(STACK_JSON)
    result = connect_tenant(
        target,
        ConnectRequest(
            tenant_id=DEMO_TENANT,
            name="Demo Co (local)",
            # The sandbox company has several entities: the demo tenant lives in the first.
            entity_id=(stack.doc["intacct"].get("entities") or [None])[0],
            webhook_secret=DEMO_WEBHOOK_SECRET,
        ),
    )
    if not result.saved:
        problems = "; ".join(p.message for p in result.problems)
        raise SystemExit(f"the demo tenant could not be connected: {problems}")
    entry = {
        "tenant_id": DEMO_TENANT,
        "webhook_secret": DEMO_WEBHOOK_SECRET,
        "webhook_url": result.webhook_url,
    }
    stack.doc["demo_tenant"] = entry
    stack.doc["tenant_id"] = DEMO_TENANT
    stack.save()
    return entry
