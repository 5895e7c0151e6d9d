"""IAM least privilege: no wildcard actions, `Resource: "*"` only where AWS requires it (and a
comment in the template saying why), tenant secrets scoped to their prefix."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from bisync.secrets import tenant_secret_name
from tests.conftest import ROOT
from tests.infrastructure.cfn import (
    Statement,
    Template,
    as_list,
    functions,
    globals_function,
    iam_statements,
    line_of,
    load_template_text,
    resources,
    sub_text,
)
from tests.infrastructure.sam_expand import expand_template, expanded_template

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
        "Resources/PushFunction/Properties/Policies/0/Statement/2 (Sid StarResource): "
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


# --- what each function can reach, after SAM's transform ----------------------------------------
# The roles SAM generates hold the template's Policies and the managed policies SAM attaches on
# its own (an SQS event would add AWSLambdaSQSQueueExecutionRole: receive and delete on every
# queue). Managed policies are expanded to the statements AWS publishes for them; any other
# managed policy fails the check.
LOG_ACTIONS = frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})
XRAY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    }
)
MANAGED_POLICY_ACTIONS = {
    # Lambda's own log writing. SAM attaches it to every role it creates (there is no opt-out
    # short of writing the roles by hand); it is the one "*" that AWS does not require.
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": LOG_ACTIONS,
    # Tracing: Active. X-Ray has no resource-level permissions: "*" is required.
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": XRAY_ACTIONS,
}
SECRETS = "tenant-secrets"  # the tenant-secret prefix, blixo-intacct/<stage>/tenants/*
STAR = "*"

Grant = tuple[str, str]  # (action, resource: a logical id, "<table>/index/<name>", SECRETS or "*")


def _resource_key(resource: Any) -> str:
    if resource == STAR:
        return STAR
    target = ref_or_arn(resource)
    if target is not None:
        return target
    text = sub_text(resource)
    if text == TENANT_SECRET_ARN:
        return SECRETS
    index = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", text or "")
    if index:
        return f"{index.group(1)}/index/{index.group(2)}"
    raise AssertionError(f"a resource this check does not know how to name: {resource!r}")


def ref_or_arn(value: Any) -> str | None:
    if isinstance(value, Mapping) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        parts = target.split(".", 1) if isinstance(target, str) else list(target)
        if len(parts) == 2 and parts[1] == "Arn":
            return str(parts[0])
    return None


def function_grants(expanded: Template, function_id: str) -> set[Grant]:
    """Every (action, resource) the function's execution role allows."""
    function = expanded["Resources"][function_id]
    assert function["Type"] == "AWS::Lambda::Function"
    role_id = ref_or_arn(function["Properties"]["Role"])
    assert role_id is not None, f"{function_id}: its role is not one of this template's"
    role = expanded["Resources"][role_id]["Properties"]
    grants: set[Grant] = set()
    for arn in role.get("ManagedPolicyArns", []):
        assert arn in MANAGED_POLICY_ACTIONS, f"{function_id}: managed policy {arn} is attached"
        grants |= {(action, STAR) for action in MANAGED_POLICY_ACTIONS[arn]}
    for statement in iam_statements(role.get("Policies", [])):
        assert statement.body.get("Effect") == "Allow", statement.where
        assert set(statement.body) <= {"Sid", "Effect", "Action", "Resource"}, statement.where
        for action in statement.actions():
            for resource in statement.resources():
                grants.add((str(action), _resource_key(resource)))
    return grants


# --- what each function needs, from its code ----------------------------------------------------
STORE_DIR = ROOT / "layers" / "shared" / "bisync" / "store"
# The table's classes and how a handler reaches each (SyncStore's properties).
STORE_CLASSES = {
    "SyncStore": "",
    "ErrorStore": "errors.",
    "MappingStore": "mappings.",
    "SlotStore": "slots.",
    "DeliveryStore": "deliveries.",
}
TABLE_CALLS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
}
# TransactWriteItems is no IAM action: each item is authorised as its own kind of write.
TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def store_method_actions() -> dict[str, frozenset[str]]:
    """ "errors.record" -> the DynamoDB actions the method's calls need, read from the store's
    code (its own table calls, its transactions' item kinds, the private helpers it calls)."""
    methods: dict[tuple[str, str], ast.FunctionDef] = {}
    for path in STORE_DIR.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name in STORE_CLASSES:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        methods[(node.name, item.name)] = item

    def actions(cls: str, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(methods[(cls, name)]):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called = node.func.attr
                if called in TABLE_CALLS:
                    found.add(TABLE_CALLS[called])
                elif called == "transact_write_items":
                    kinds = {
                        key.value
                        for sub in ast.walk(methods[(cls, name)])
                        if isinstance(sub, ast.Dict)
                        for key in sub.keys
                        if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEMS
                    }
                    assert kinds, f"{cls}.{name}: a transaction whose item kinds cannot be read"
                    found |= {TRANSACTION_ITEMS[k] for k in kinds}
                elif called == "transact_get_items":
                    found.add("dynamodb:GetItem")
                elif (
                    isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "self"
                    and (cls, called) in methods
                    and called not in seen
                ):
                    found |= actions(cls, called, seen | {name})
        return found

    return {
        STORE_CLASSES[cls] + name: frozenset(actions(cls, name))
        for cls, name in methods
        if not name.startswith("_")
    }


@dataclass(frozen=True)
class Needs:
    """What a function's code does with AWS. `store` names the sync-table methods it calls
    (directly or through the bisync code it drives); `sends` the queues whose URL it sends to;
    `consumes` the queue its event source mapping polls; `depths` the queues whose counts it
    reads; `index_queries` the table indexes it queries."""

    app: str
    store: frozenset[str] = frozenset()
    index_queries: frozenset[str] = frozenset()
    secrets: bool = False
    sends: frozenset[str] = frozenset()
    consumes: str | None = None
    depths: frozenset[str] = frozenset()


# The functions' use of the store, traced by hand from each handler (the calls go through
# bisync.sync.* and bisync.operate.*, where a call-graph by name cannot tell one store apart
# from a dict): every method named here must exist in the store, and what each one needs comes
# from the store's code above, so a store change that needs a new action fails this check.
INTACCT_SLOTS = frozenset({"slots.try_acquire", "slots.release"})  # every Intacct request
NEEDS = {
    # sync.intake.receive_webhook: the tenant's settings; the webhook secret; the push queue.
    "WebhookFunction": Needs(
        "webhook",
        store=frozenset({"get_tenant", "deliveries.seen", "deliveries.remember"}),
        secrets=True,
        sends=frozenset({"PushQueue"}),
    ),
    # sync.push: mappings read and written, errors opened and cleared, activity recorded.
    "PushFunction": Needs(
        "push",
        store=frozenset(
            {"get_tenant", "record_flow_activity", "errors.record", "errors.clear"}
            | {"mappings.by_blixo", "mappings.by_intacct", "mappings.link", "mappings.save"}
            | {"mappings.expect", "mappings.unexpect"}
        )
        | INTACCT_SLOTS,
        secrets=True,
        consumes="PushQueue",
    ),
    # sync.schedule.enqueue_pull_jobs over SyncStore.iter_tenants (the sparse GSI1).
    "PullScheduleFunction": Needs(
        "pull_schedule", index_queries=frozenset({"SyncTable/index/GSI1"}), sends=frozenset({"PullQueue"})
    ),
    # sync.pull: cursors, runs, mappings in batches, errors (listed to clear resolved ones);
    # a pull near its timeout sends its own continuation to the pull queue.
    "PullFunction": Needs(
        "pull",
        store=frozenset(
            {"get_tenant", "get_cursor", "advance_high_water", "put_run", "record_flow_activity"}
            | {"errors.record", "errors.clear", "errors.list"}
            | {"mappings.by_blixo", "mappings.by_intacct", "mappings.save", "mappings.link_many"}
            | {"mappings.many_by_blixo", "mappings.many_by_intacct", "mappings.expected"}
        )
        | INTACCT_SLOTS,
        secrets=True,
        sends=frozenset({"PullQueue"}),
        consumes="PullQueue",
    ),
    # The routes: settings (and the Intacct check of a change, under a slot), status (cursors,
    # runs, errors, the four queues' depths), errors listed, ignored, retried to either queue.
    "AccountingSyncFunction": Needs(
        "api",
        store=frozenset(
            {
                "get_tenant",
                "put_tenant",
                "get_cursor",
                "list_runs",
                "errors.get",
                "errors.list",
                "errors.ignore",
            }
        )
        | INTACCT_SLOTS,
        secrets=True,
        sends=frozenset({"PushQueue", "PullQueue"}),
        depths=frozenset({"PushQueue", "PushDLQ", "PullQueue", "PullDLQ"}),
    ),
}
# What the Lambda service needs to poll an SQS event source for the function.
POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def needed_grants(needs: Needs, store_actions: Mapping[str, frozenset[str]]) -> set[Grant]:
    grants: set[Grant] = {(action, STAR) for action in LOG_ACTIONS | XRAY_ACTIONS}
    for method in needs.store:
        assert method in store_actions, f"{needs.app}: the store has no method {method}"
        grants |= {(action, "SyncTable") for action in store_actions[method]}
    grants |= {("dynamodb:Query", index) for index in needs.index_queries}
    if needs.secrets:
        grants.add(("secretsmanager:GetSecretValue", SECRETS))
    grants |= {("sqs:SendMessage", queue) for queue in needs.sends}
    if needs.consumes:
        grants |= {(action, needs.consumes) for action in POLL_ACTIONS}
    grants |= {("sqs:GetQueueAttributes", queue) for queue in needs.depths}
    return grants


def test_the_store_methods_need_what_their_code_calls() -> None:
    actions = store_method_actions()
    # A few fixed points, so the reading of the store's code is itself checked.
    assert actions["get_tenant"] == {"dynamodb:GetItem"}
    assert actions["iter_tenants"] == {"dynamodb:Query"}
    assert actions["mappings.save"] == {"dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert actions["mappings.link"] == {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
    }  # + the stored link on a repeat
    assert actions["mappings.many_by_blixo"] == {"dynamodb:BatchGetItem"}
    assert actions["mappings.by_intacct"] == {"dynamodb:GetItem"}
    assert actions["slots.release"] == {"dynamodb:DeleteItem"}
    assert actions["errors.record"] == {"dynamodb:UpdateItem"}


@pytest.mark.parametrize("function_id", sorted(NEEDS))
def test_each_function_can_reach_exactly_what_its_code_needs(function_id: str) -> None:
    expanded = expanded_template()
    granted = function_grants(expanded, function_id)
    needed = needed_grants(NEEDS[function_id], store_method_actions())
    assert sorted(granted - needed) == [], f"{function_id} is granted more than its code needs"
    assert sorted(needed - granted) == [], f"{function_id} lacks what its code needs"


def test_needs_cover_every_function(template: Template) -> None:
    assert set(NEEDS) == set(functions(template))


def _app_names(app: str) -> set[str]:
    tree = ast.parse((ROOT / "functions" / app / "app.py").read_text(encoding="utf-8"))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }


@pytest.mark.parametrize("function_id", sorted(NEEDS))
def test_the_needs_match_what_the_handler_uses(template: Template, function_id: str) -> None:
    """The handler module's own references: the tenant secrets, the queues it is told of, the
    store, the queue depths; and its event source mapping in the template."""
    needs = NEEDS[function_id]
    names = _app_names(needs.app)
    assert ("load_tenant_secrets" in names) == needs.secrets
    sends = {
        q for q, attr in (("PushQueue", "push_queue_url"), ("PullQueue", "pull_queue_url")) if attr in names
    }
    if needs.depths:
        # queue_depths reads all four; the sends are SqsQueue(config.<queue>_url) of the routes.
        assert "queue_depths" in names
        assert {"PUSH_DLQ_ENV", "PULL_DLQ_ENV"} <= names
    else:
        assert sends == needs.sends
    assert ("sync_store" in names) == bool(needs.store or needs.index_queries)
    polled = {
        ref_or_arn(m["Properties"]["EventSourceArn"])
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    }
    assert polled == ({needs.consumes} if needs.consumes else set())


def test_no_function_reaches_the_unused_idempotency_table() -> None:
    # The code never reads IDEMPOTENCY_TABLE (no Powertools idempotency is wired up).
    used = [
        p for p in (ROOT / "functions").rglob("*.py") if "idempotency_table" in p.read_text(encoding="utf-8")
    ]
    used += [
        p
        for p in (ROOT / "layers" / "shared" / "bisync").rglob("*.py")
        if p.name != "config.py" and "idempotency_table" in p.read_text(encoding="utf-8")
    ]
    assert used == []
    expanded = expanded_template()
    assert all(resource != "IdempotencyTable" for f in NEEDS for _, resource in function_grants(expanded, f))


def test_least_privilege_check_detects_an_extra_grant() -> None:
    expanded = copy.deepcopy(expanded_template())
    policy = expanded["Resources"]["WebhookFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:DeleteItem"],
            "Resource": {"Fn::GetAtt": ["SyncTable", "Arn"]},
        }
    )
    extra = function_grants(expanded, "WebhookFunction") - needed_grants(
        NEEDS["WebhookFunction"], store_method_actions()
    )
    assert extra == {("dynamodb:DeleteItem", "SyncTable")}


def test_least_privilege_check_detects_a_missing_grant() -> None:
    expanded = copy.deepcopy(expanded_template())
    policy = expanded["Resources"]["AccountingSyncFunctionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]
    for statement in policy["Statement"]:
        if statement["Sid"] == "TenantSettingsStatusAndErrors":
            statement["Action"].remove("dynamodb:DeleteItem")
    missing = needed_grants(NEEDS["AccountingSyncFunction"], store_method_actions()) - function_grants(
        expanded, "AccountingSyncFunction"
    )
    assert missing == {("dynamodb:DeleteItem", "SyncTable")}


def test_least_privilege_check_refuses_sams_sqs_managed_policy(template: Template) -> None:
    # A SAM `Type: SQS` event instead of the plain mapping: SAM attaches the managed policy.
    mutated = copy.deepcopy(template)
    mapping = mutated["Resources"].pop("PushFunctionPushQueueEvents")["Properties"]
    mutated["Resources"]["PushFunction"]["Properties"]["Events"] = {
        "PushQueueEvents": {
            "Type": "SQS",
            "Properties": {"Queue": mapping["EventSourceArn"], "BatchSize": mapping["BatchSize"]},
        }
    }
    with pytest.raises(AssertionError, match="AWSLambdaSQSQueueExecutionRole"):
        function_grants(expand_template(mutated), "PushFunction")
