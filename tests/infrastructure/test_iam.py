"""IAM least privilege: no wildcard actions, `Resource: "*"` only where AWS requires it (and a
comment in the template saying why), tenant secrets scoped to their prefix."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import pytest

from bisync.secrets import tenant_secret_name
from tests.infrastructure.cfn import (
    Statement,
    Template,
    as_list,
    functions,
    globals_function,
    iam_statements,
    line_of,
    load_template_text,
    sub_text,
)

# Actions that have no resource-level permissions: AWS only authorises them on Resource "*".
STAR_RESOURCE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        "cloudwatch:PutMetricData",
        "ec2:DescribeNetworkInterfaces",
        "sts:GetCallerIdentity",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:ListSecrets",
        "sqs:ListQueues",
        "dynamodb:ListTables",
    }
)
# AWS managed policies that grant whole services (or everything).
BROAD_MANAGED_POLICY = re.compile(r"(AdministratorAccess|PowerUserAccess|FullAccess)$")

TENANT_SECRET_PREFIX = "blixo-intacct/${Stage}/tenants/"
TENANT_SECRET_ARN = (
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
    + TENANT_SECRET_PREFIX
    + "*"
)


def _comment_above(lines: list[str], node: Any) -> str | None:
    line = line_of(node)
    if line is None or line == 0:
        return None
    above = lines[line - 1].strip()
    return above.lstrip("#").strip() if above.startswith("#") else None


def statement_problems(statement: Statement, lines: list[str]) -> list[str]:
    where = f"{statement.where} (Sid {statement.body.get('Sid', '-')})"
    allow = statement.body.get("Effect") == "Allow"
    problems = []
    for key in ("Action", "NotAction"):
        for action in as_list(statement.body.get(key, [])):
            if isinstance(action, str) and "*" in action:
                problems.append(f"{where}: wildcard {key} {action!r}")
    if allow and "NotAction" in statement.body:
        problems.append(f"{where}: Allow with NotAction grants every other action")
    if allow and "NotResource" in statement.body:
        problems.append(f"{where}: Allow with NotResource grants every other resource")
    principal = statement.body.get("Principal")
    if principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS", []))):
        problems.append(f"{where}: Principal '*'")
    for resource in statement.resources():
        if resource != "*":
            continue
        if not statement.in_key_policy:
            unjustified = [a for a in statement.actions() if a not in STAR_RESOURCE_ACTIONS]
            if unjustified:
                problems.append(f"{where}: Resource '*' for {unjustified}, which AWS lets you scope")
        comment = _comment_above(lines, resource)
        if not comment or len(comment.split()) < 3:
            problems.append(f"{where}: Resource '*' without a comment on the line above saying why")
    return problems


def iam_problems(template: Template, template_text: str) -> list[str]:
    lines = template_text.splitlines()
    problems = []
    for statement in iam_statements(template.get("Resources", {}), ("Resources",)):
        problems.extend(statement_problems(statement, lines))
    for function_id, function in functions(template).items():
        for policy in as_list(function.get("Properties", {}).get("Policies", [])):
            if isinstance(policy, str) and BROAD_MANAGED_POLICY.search(policy):
                problems.append(f"{function_id}: managed policy {policy}")
    for role_id, role in template.get("Resources", {}).items():
        for arn in as_list(role.get("Properties", {}).get("ManagedPolicyArns", [])):
            text = sub_text(arn) or arn
            if isinstance(text, str) and BROAD_MANAGED_POLICY.search(text):
                problems.append(f"{role_id}: managed policy {text}")
    return problems


def test_statements_are_found(template: Template) -> None:
    # Guards the checks below against passing vacuously if the walk found nothing.
    sids = {s.body.get("Sid") for s in iam_statements(template["Resources"])}
    assert {"QueuePushEvents", "ConsumePushQueue", "ListTenants", "ConsumeAndContinuePullQueue"} <= sids


def test_no_statement_grants_wildcards_or_unjustified_star_resources(
    template: Template, template_text: str
) -> None:
    assert iam_problems(template, template_text) == []


@pytest.mark.parametrize("action", ["*", "sqs:*", ["dynamodb:GetItem", "dynamodb:*"]])
def test_iam_check_detects_a_wildcard_action(template: Template, template_text: str, action: Any) -> None:
    mutated = copy.deepcopy(template)
    policies = mutated["Resources"]["PushFunction"]["Properties"]["Policies"]
    policies[0]["Statement"].append({"Sid": "TooBroad", "Effect": "Allow", "Action": action, "Resource": "x"})
    problems = iam_problems(mutated, template_text)
    assert len(problems) == 1
    assert "TooBroad" in problems[0]
    assert "wildcard Action" in problems[0]


def test_iam_check_detects_a_broad_managed_policy(template: Template, template_text: str) -> None:
    mutated = copy.deepcopy(template)
    mutated["Resources"]["PullFunction"]["Properties"]["Policies"].append("AmazonDynamoDBFullAccess")
    assert iam_problems(mutated, template_text) == ["PullFunction: managed policy AmazonDynamoDBFullAccess"]


# A statement spliced into the raw template text, so the comment check reads real lines.
ANCHOR = "            - Sid: ConsumePushQueue\n"


def with_star_statement(template_text: str, action: str, comment: str | None) -> str:
    block = (
        f"            - Sid: StarResource\n              Effect: Allow\n              Action: [{action}]\n"
    )
    if comment is not None:
        block += f"              # {comment}\n"
    block += '              Resource: "*"\n'
    assert template_text.count(ANCHOR) == 1
    return template_text.replace(ANCHOR, block + ANCHOR)


def star_problems(text: str) -> list[str]:
    return [p for p in iam_problems(load_template_text(text), text) if "StarResource" in p]


def test_star_resource_with_a_required_action_and_a_comment_passes(template_text: str) -> None:
    text = with_star_statement(
        template_text, "xray:PutTraceSegments", "X-Ray has no resource ARNs to scope to."
    )
    assert star_problems(text) == []


def test_star_resource_without_the_comment_is_refused(template_text: str) -> None:
    text = with_star_statement(template_text, "xray:PutTraceSegments", None)
    assert star_problems(text) == [
        "Resources/PushFunction/Properties/Policies/0/Statement/3 (Sid StarResource): "
        "Resource '*' without a comment on the line above saying why"
    ]


def test_star_resource_for_a_scopable_action_is_refused_even_with_a_comment(template_text: str) -> None:
    text = with_star_statement(template_text, "s3:GetObject", "Reads whatever it is given.")
    problems = star_problems(text)
    assert len(problems) == 1
    assert "Resource '*' for ['s3:GetObject']" in problems[0]


# --- tenant secrets -----------------------------------------------------------------------------
def secret_statements(template: Template) -> list[Statement]:
    return [
        s
        for s in iam_statements(template["Resources"], ("Resources",))
        if any(isinstance(a, str) and a.startswith("secretsmanager:") for a in s.actions())
    ]


def test_secret_access_is_scoped_to_the_tenant_prefix(template: Template) -> None:
    statements = secret_statements(template)
    readers = {s.path[1] for s in statements}
    assert readers == {"WebhookFunction", "PushFunction", "PullFunction", "AccountingSyncFunction"}
    for statement in statements:
        assert statement.actions() == ["secretsmanager:GetSecretValue"], statement.where
        assert [sub_text(r) for r in statement.resources()] == [TENANT_SECRET_ARN], statement.where


def test_functions_read_secrets_under_the_granted_prefix(template: Template) -> None:
    env = globals_function(template)["Environment"]["Variables"]
    assert sub_text(env["TENANT_SECRET_PREFIX"]) == TENANT_SECRET_PREFIX
    # The name the code reads is the granted prefix plus the tenant id (matched by the "*").
    assert tenant_secret_name(TENANT_SECRET_PREFIX, "acme") == TENANT_SECRET_PREFIX + "acme"


def test_secret_scope_check_detects_a_broader_resource(template: Template) -> None:
    mutated = copy.deepcopy(template)
    statement = mutated["Resources"]["PullFunction"]["Properties"]["Policies"][0]["Statement"][1]
    statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:*:*:secret:*"}
    with pytest.raises(AssertionError):
        test_secret_access_is_scoped_to_the_tenant_prefix(mutated)
