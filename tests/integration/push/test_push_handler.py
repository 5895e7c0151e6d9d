"""The push Lambda's batch contract with SQS (FIFO partial batch responses)."""

from __future__ import annotations

import json
from typing import Any

from bisync.settings import TenantSettings
from tests.integration.foundation.conftest import LambdaContext, sqs
from tests.integration.push.conftest import TENANT, World


def records(world: World) -> list[dict[str, Any]]:
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    reply = sqs().receive_message(
        QueueUrl=world.aws.push_queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        VisibilityTimeout=0,
    )
    return [World._record(m) for m in reply.get("Messages", [])]


def retarget(record: dict[str, Any], message_id: str, tenant_id: str) -> dict[str, Any]:
    body = json.loads(record["body"])
    body["tenant_id"] = tenant_id
    copy = {**record, "messageId": message_id, "body": json.dumps(body)}
    copy["attributes"] = {**record["attributes"], "MessageGroupId": f"{tenant_id}:{body['customer_id']}"}
    return copy


def test_only_the_failing_record_is_reported_and_the_other_group_goes_on(world: World) -> None:
    world.customer("Good Co", customerNo="GOOD-1")
    [good] = records(world)
    ghost = retarget(good, "m-ghost", "ghost")  # a tenant that was never onboarded
    result = world.push.lambda_handler({"Records": [ghost, good]}, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-ghost"}]}
    assert "GOOD-1" in [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]
    assert world.aws.store.get_cursor(TENANT, "push").processed == 1
    assert world.aws.store.get_cursor("ghost", "push").processed == 0


def test_the_rest_of_a_failed_group_is_held_back_to_keep_its_order(world: World) -> None:
    customer = world.customer("Ordered", customerNo="ORD-1")
    world.customer("Other", customerNo="OTH-1")
    first, other = records(world)
    if json.loads(first["body"])["customer_id"] != customer.id:
        first, other = other, first
    broken = {**first, "messageId": "m-broken", "body": "{not json"}
    later = {**first, "messageId": "m-later"}
    result = world.push.lambda_handler({"Records": [broken, later, other]}, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-broken"}, {"itemIdentifier": "m-later"}]}
    ids = [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]
    assert "OTH-1" in ids
    assert "ORD-1" not in ids  # held back, not run out of order


def test_a_failed_push_is_not_remembered_as_done(world: World) -> None:
    world.customer("Later Tenant", customerNo="LTT-1")
    [record] = records(world)
    moved = retarget(record, "m-1", "beta")
    assert world.push.lambda_handler({"Records": [moved]}, LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }
    world.aws.store.put_tenant(world.settings.model_copy(update={"tenant_id": "beta"}))
    from tests.integration.foundation.conftest import SECRET_PREFIX, secretsmanager

    secret = secretsmanager().get_secret_value(SecretId=f"{SECRET_PREFIX}{TENANT}")["SecretString"]
    secretsmanager().create_secret(Name=f"{SECRET_PREFIX}beta", SecretString=secret)
    assert world.push.lambda_handler({"Records": [moved]}, LambdaContext()) == {"batchItemFailures": []}
    assert world.aws.store.get_cursor("beta", "push").processed == 1
    assert isinstance(world.aws.store.get_tenant("beta"), TenantSettings)


def test_a_push_with_its_flow_off_writes_nothing_and_is_done(world: World) -> None:
    flows = world.settings.flows.model_copy(update={"push_customers": False})
    world.aws.store.put_tenant(world.settings.model_copy(update={"flows": flows}))
    world.customer("Flow Off", customerNo="OFF-1")
    before = world.counters().get("requests", 0)
    assert world.pump() == []
    assert world.counters().get("requests", 0) == before
    assert "OFF-1" not in [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]


class NearlyOutOfTime(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 1_000  # under the reserve an Intacct round may need


def test_a_batch_with_too_little_time_left_fails_over_to_sqs_and_writes_nothing(world: World) -> None:
    world.customer("Late Co", customerNo="LATE-9")
    [late] = records(world)
    before = world.counters().get("requests", 0)
    result = world.push.lambda_handler({"Records": [late]}, NearlyOutOfTime())
    assert result == {"batchItemFailures": [{"itemIdentifier": late["messageId"]}]}
    assert world.counters().get("requests", 0) == before
    assert "LATE-9" not in [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]
    result = world.push.lambda_handler({"Records": [late]}, LambdaContext())  # SQS delivers it again
    assert result == {"batchItemFailures": []}
    assert "LATE-9" in [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]
