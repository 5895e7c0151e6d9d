"""The Accounting Sync API: every route needs the usage plan's API key, the routes are the ones
docs/openapi.json documents, and its function may do exactly what the routes need."""

from __future__ import annotations

import copy
import json
from typing import Any

from functions.api.app import PULL_DLQ_ENV, PUSH_DLQ_ENV
from tests.conftest import ROOT
from tests.infrastructure.cfn import (
    Template,
    as_list,
    events_of_type,
    function_environment,
    function_timeout,
    getatt_target,
    iam_statements,
    props,
    ref_target,
    resources,
    sub_text,
)

OPENAPI = ROOT / "docs" / "openapi.json"
FUNCTION = "AccountingSyncFunction"
API = "AccountingSyncApi"
# API Gateway ends an integration after 29 s, whatever the function's timeout.
API_GATEWAY_INTEGRATION_TIMEOUT_S = 29


def api_routes(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (e["Method"].upper(), e["Path"]): e
        for fid, _, e in events_of_type(template, "Api")
        if fid == FUNCTION
    }


def unkeyed_routes(template: Template) -> list[str]:
    """Routes of the API a caller could reach without the API key."""
    required = props(template, API).get("Auth", {}).get("ApiKeyRequired") is True
    found = []
    for (method, path), event in api_routes(template).items():
        override = event.get("Auth", {}).get("ApiKeyRequired")
        if override is False or (override is None and not required):
            found.append(f"{method} {path}")
    return found


def test_every_route_needs_the_api_key(template: Template) -> None:
    assert api_routes(template), "no routes found"
    assert unkeyed_routes(template) == []


def test_the_key_check_finds_a_route_that_opts_out(template: Template) -> None:
    mutated = copy.deepcopy(template)
    events = mutated["Resources"][FUNCTION]["Properties"]["Events"]
    events["GetStatus"]["Properties"]["Auth"] = {"ApiKeyRequired": False}
    assert unkeyed_routes(mutated) == ["GET /tenants/{tenantId}/status"]


def test_every_route_is_on_the_accounting_sync_api(template: Template) -> None:
    for route, event in api_routes(template).items():
        assert ref_target(event.get("RestApiId")) == API, route


def test_the_routes_are_the_documented_ones(template: Template) -> None:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert set(api_routes(template)) == documented


def test_the_usage_plan_carries_the_key_for_the_api_stage(template: Template) -> None:
    (plan_id,) = resources(template, "AWS::ApiGateway::UsagePlan")
    plan = props(template, plan_id)
    (stage,) = plan["ApiStages"]
    assert ref_target(stage["ApiId"]) == API
    # SAM's <api>.Stage reference: the stage it creates (and a dependency on it).
    assert stage["Stage"] == {"Ref": f"{API}.Stage"}
    assert plan["Throttle"]["RateLimit"] == {"Ref": "ApiRateLimit"}
    (key_id,) = resources(template, "AWS::ApiGateway::ApiKey")
    assert props(template, key_id).get("Enabled") is True
    # No key value in the template: API Gateway generates it, so it is in no repository.
    assert "Value" not in props(template, key_id)
    (link_id,) = resources(template, "AWS::ApiGateway::UsagePlanKey")
    link = props(template, link_id)
    assert (ref_target(link["KeyId"]), ref_target(link["UsagePlanId"]), link["KeyType"]) == (
        key_id,
        plan_id,
        "API_KEY",
    )


def test_the_function_answers_within_api_gateways_timeout(template: Template) -> None:
    assert function_timeout(template, FUNCTION) < API_GATEWAY_INTEGRATION_TIMEOUT_S


def test_the_function_is_told_the_dlq_urls(template: Template) -> None:
    env = function_environment(template, FUNCTION)
    assert ref_target(env[PUSH_DLQ_ENV]) == "PushDLQ"
    assert ref_target(env[PULL_DLQ_ENV]) == "PullDLQ"
    assert ref_target(env["PUSH_QUEUE_URL"]) == "PushQueue"
    assert ref_target(env["PULL_QUEUE_URL"]) == "PullQueue"


def grants(template: Template) -> dict[str, tuple[set[str], set[str]]]:
    """Sid -> (actions, resources as logical ids or the !Sub text) of the function's policy."""
    found = {}
    for statement in iam_statements(props(template, FUNCTION).get("Policies", [])):
        targets = set()
        for resource in statement.resources():
            target = getatt_target(resource, "Arn")
            targets.add(target if target is not None else str(sub_text(resource)))
        found[str(statement.body["Sid"])] = (set(statement.actions()), targets)
        assert statement.body.get("Effect") == "Allow"
    return found


def test_the_function_may_do_exactly_what_the_routes_need(template: Template) -> None:
    assert grants(template) == {
        "TenantSettingsStatusAndErrors": (
            {
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
            },
            {"SyncTable"},
        ),
        "QueueSyncJobs": ({"sqs:SendMessage"}, {"PushQueue", "PullQueue"}),
        "ReadQueueDepths": ({"sqs:GetQueueAttributes"}, {"PushQueue", "PushDLQ", "PullQueue", "PullDLQ"}),
        "ReadTenantSecrets": (
            {"secretsmanager:GetSecretValue"},
            {
                "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
                "blixo-intacct/${Stage}/tenants/*"
            },
        ),
    }


def test_nothing_else_is_attached_to_the_function(template: Template) -> None:
    policies = as_list(props(template, FUNCTION).get("Policies", []))
    assert len(policies) == 1
    assert set(policies[0]) == {"Statement"}
