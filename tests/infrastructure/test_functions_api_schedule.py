"""Functions (code, handler, layer, log group), the webhook API route and the hourly schedule."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT
from tests.infrastructure.cfn import (
    Template,
    events_of_type,
    function_environment,
    function_layers,
    functions,
    props,
    ref_target,
    resolve,
    resources,
    sub_text,
)

EXPECTED_FUNCTIONS = {
    "WebhookFunction": "functions/webhook/",
    "PushFunction": "functions/push/",
    "PullScheduleFunction": "functions/pull_schedule/",
    "PullFunction": "functions/pull/",
    "AccountingSyncFunction": "functions/api/",
}
# Lambda's synchronous invocation payload limit: a larger webhook body never reaches the code.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024


def test_the_functions_of_the_map_exist_with_their_code(template: Template) -> None:
    assert {fid: props(template, fid).get("CodeUri") for fid in functions(template)} == EXPECTED_FUNCTIONS


@pytest.mark.parametrize("function_id", sorted(EXPECTED_FUNCTIONS))
def test_function_code_folder_defines_its_handler(template: Template, function_id: str) -> None:
    function = props(template, function_id)
    assert function.get("Handler") == "app.lambda_handler"
    module, handler = function["Handler"].rsplit(".", 1)
    source = ROOT / function["CodeUri"] / f"{module}.py"
    assert source.is_file(), f"{function_id}: {source} is missing"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert handler in defined, f"{source} defines no top-level {handler}()"


@pytest.mark.parametrize("function_id", sorted(EXPECTED_FUNCTIONS))
def test_function_lists_the_shared_layer(template: Template, function_id: str) -> None:
    assert "SharedLayer" in [ref_target(layer) for layer in function_layers(template, function_id)]


@pytest.mark.parametrize("function_id", sorted(EXPECTED_FUNCTIONS))
def test_function_has_its_log_group_with_a_retention(template: Template, function_id: str) -> None:
    name = sub_text(props(template, function_id)["FunctionName"])
    groups = {
        sub_text(props(template, gid)["LogGroupName"]): props(template, gid)
        for gid in resources(template, "AWS::Logs::LogGroup")
    }
    # Lambda writes to /aws/lambda/<name>; a group the template owns there gets a retention.
    assert f"/aws/lambda/{name}" in groups, f"{function_id}: no log group for {name}"
    assert groups[f"/aws/lambda/{name}"].get("RetentionInDays") == {"Fn::If": ["IsProd", 90, 14]}


def test_shared_layer_builds_from_the_bisync_folder(template: Template) -> None:
    layer = template["Resources"]["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # Without BuildMethod `sam build` copies the folder as is: no pinned deps, wrong layout.
    assert layer.get("Metadata", {}).get("BuildMethod") == "python3.11"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    assert (content / "bisync" / "__init__.py").is_file()
    assert "python3.11" in layer["Properties"].get("CompatibleRuntimes", [])


# --- the webhook API ----------------------------------------------------------------------------
def test_webhook_route_is_post_on_the_rest_api(template: Template) -> None:
    api_events = [e for e in events_of_type(template, "Api", "HttpApi") if e[0] == "WebhookFunction"]
    assert [(fid, e["Path"], e["Method"].lower()) for fid, _, e in api_events] == [
        ("WebhookFunction", "/webhooks/blixo/{tenantId}", "post")
    ]
    _, _, event = api_events[0]
    # An Api event without RestApiId makes SAM create an implicit API that has no throttling.
    api_id = ref_target(event.get("RestApiId"))
    assert api_id == "WebhookApi"
    assert api_id in resources(template, "AWS::Serverless::Api")
    # ministack serves only REST APIs (architecture.md), and REST is what carries the throttle.
    assert resources(template, "AWS::Serverless::HttpApi") == {}


@pytest.mark.parametrize("api_id", ["WebhookApi", "AccountingSyncApi"])
def test_each_api_is_throttled(template: Template, api_id: str) -> None:
    settings = props(template, api_id).get("MethodSettings", [])
    everything = [s for s in settings if s.get("ResourcePath") == "/*" and s.get("HttpMethod") == "*"]
    assert len(everything) == 1, "no MethodSettings entry covering every route and method"
    rate = resolve(template, everything[0].get("ThrottlingRateLimit"))
    burst = resolve(template, everything[0].get("ThrottlingBurstLimit"))
    assert isinstance(rate, int | float)
    assert isinstance(burst, int)
    assert rate > 0
    assert burst >= rate > 0


def test_each_api_stage_is_the_deployment_stage(template: Template) -> None:
    apis = resources(template, "AWS::Serverless::Api")
    assert set(apis) == {"WebhookApi", "AccountingSyncApi"}
    for api_id in apis:
        assert ref_target(props(template, api_id).get("StageName")) == "Stage", api_id


def test_webhook_function_gets_the_body_size_limit(template: Template) -> None:
    env = function_environment(template, "WebhookFunction")
    limit = resolve(template, env.get("WEBHOOK_MAX_BODY_BYTES"))
    assert isinstance(limit, int)
    assert 0 < limit <= LAMBDA_SYNC_PAYLOAD_BYTES


# --- the schedule -------------------------------------------------------------------------------
def test_the_only_schedule_is_hourly_and_starts_the_pull_schedule_function(template: Template) -> None:
    schedules = events_of_type(template, "Schedule", "ScheduleV2")
    # A second rule or scheduler resource would start pulls outside the hourly plan.
    assert resources(template, "AWS::Events::Rule") == {}
    assert resources(template, "AWS::Scheduler::Schedule") == {}
    assert [(fid, e.get("Schedule") or e.get("ScheduleExpression")) for fid, _, e in schedules] == [
        ("PullScheduleFunction", "cron(0 * * * ? *)")
    ]
    _, _, event = schedules[0]
    assert event.get("Enabled", True) is True
    assert event.get("State", "ENABLED") == "ENABLED"
    assert props(template, "PullScheduleFunction")["CodeUri"] == "functions/pull_schedule/"
