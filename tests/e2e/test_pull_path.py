"""EventBridge schedule -> pull-schedule Lambda -> PullQueue -> pull Lambda, on the deployed stack."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import partial

import pytest

from bisync.settings import Flows
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e

PULLS_OFF = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


def test_the_schedule_enqueues_one_pull_per_tenant(stack: Stack, onboard) -> None:
    first, second = onboard(), onboard()
    quiet = onboard(flows=PULLS_OFF)
    scheduled = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.doc["region"],
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/hourly"],
        "detail": {},
    }

    reply = stack.client("lambda").invoke(
        FunctionName=stack.doc["functions"]["pull_schedule"], Payload=json.dumps(scheduled).encode()
    )
    result = json.loads(reply["Payload"].read())

    assert "FunctionError" not in reply, result
    assert {first.tenant_id, second.tenant_id} <= set(result["tenants"])
    assert quiet.tenant_id not in result["tenants"]
    # Each job went through PullQueue to the deployed pull Lambda, which records one run.
    for tenant in (first, second):
        runs = eventually(
            partial(stack.store().list_runs, tenant.tenant_id),
            timeout=60,
            what=f"a pull run for {tenant.tenant_id}",
        )
        assert len(runs) == 1
        assert runs[0].trigger.startswith("schedule:")
    assert stack.store().list_runs(quiet.tenant_id) == []
