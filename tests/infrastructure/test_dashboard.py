"""The operators' dashboard: one per stage, and every metric a widget names is one a function
emits (same namespace, same dimensions), so the two cannot drift apart; the DLQ depths of every
dead-letter queue."""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bisync.operate.jobs import PULL_FLOW_NAMES
from tests.conftest import ROOT
from tests.infrastructure.cfn import (
    Template,
    dead_letter_targets,
    globals_function,
    props,
    resources,
    sub_text,
)

FUNCTIONS = ROOT / "functions"
# What the issue asks the dashboard to show, by the metric that shows it.
REQUIRED = {
    "webhook events in": {"WebhookEventsQueued"},
    "pushes done and failed": {"PushEventsDone", "PushEventsFailed"},
    "records pulled per flow": {"PulledCustomers", "PulledInvoices", "PulledCreditNotes", "PulledPayments"},
    "sync errors opened": {"SyncErrorsOpened"},
    "Intacct request latency": {"IntacctRequestLatency"},
    "Intacct 429s": {"Intacct429s"},
}
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


# --- what the functions emit --------------------------------------------------------------------
def _module_dicts(tree: ast.Module) -> dict[str, set[str]]:
    """Module-level dict literals -> their string values (metric-name tables like METRIC_NAME)."""
    found: dict[str, set[str]] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            found[target.id] = {
                v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            }
    return found


def emitted_names(source: str) -> set[str]:
    """The metric names `add_metric(name=...)` calls can emit: literals, and the values of the
    module's name tables a call indexes. A name built at run time (an f-string) counts for none:
    a dashboard cannot rely on it."""
    tree = ast.parse(source)
    tables = _module_dicts(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "add_metric":
            continue
        name = next((k.value for k in node.keywords if k.arg == "name"), node.args[0] if node.args else None)
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            names.add(name.value)
        elif isinstance(name, ast.Subscript) and isinstance(name.value, ast.Name):
            names |= tables.get(name.value.id, set())
    return names


def emitted_by_functions(root: Path = FUNCTIONS) -> dict[str, set[str]]:
    return {
        path.parent.name: emitted_names(path.read_text(encoding="utf-8")) for path in root.glob("*/app.py")
    }


# --- what the dashboard shows -------------------------------------------------------------------
def dashboard_body(template: Template) -> dict[str, Any]:
    ((dashboard_id, _),) = resources(template, "AWS::CloudWatch::Dashboard").items()
    text = sub_text(props(template, dashboard_id)["DashboardBody"])
    assert text is not None, "DashboardBody is not a one-argument !Sub"
    # ${X} and ${X.Attr} become "<X>" / "<X.Attr>" so the JSON can be read as written.
    body = json.loads(_SUB_VARIABLE.sub(lambda m: f"<{m.group(1)}>", text))
    assert isinstance(body, dict)
    return body


def widget_metrics(body: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    """(widget title, metric entry) for every metric of every metric widget."""
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            for entry in widget["properties"]["metrics"]:
                yield widget["properties"]["title"], entry


def split_entry(entry: list[Any]) -> tuple[str, str, dict[str, str]]:
    """["Namespace", "Metric", "Dim", "Value", ..., {options}] -> (namespace, metric, dimensions)."""
    parts = [p for p in entry if not isinstance(p, dict)]
    assert len(parts) >= 2, f"malformed metric entry {entry}"
    assert len(parts) % 2 == 0, f"a dimension without its value in {entry}"
    namespace, metric, *dims = parts
    return namespace, metric, dict(zip(dims[::2], dims[1::2], strict=True))


def drift(template: Template, emitted: dict[str, set[str]]) -> list[str]:
    """Dashboard metrics of the functions' namespace that no function emits (or not with these
    dimensions)."""
    env = globals_function(template)["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    everything = set().union(*emitted.values())
    problems = []
    for title, entry in widget_metrics(dashboard_body(template)):
        ns, metric, dims = split_entry(entry)
        if ns.startswith("AWS/"):
            continue
        if ns != namespace:
            problems.append(f"{title}: {metric} in namespace {ns}, the functions emit to {namespace}")
        elif metric not in everything:
            problems.append(f"{title}: {metric} is emitted by no function")
        elif dims != {"service": service}:
            # Powertools emits with the one default dimension, service = POWERTOOLS_SERVICE_NAME.
            problems.append(f"{title}: {metric} with dimensions {dims}, emitted with service={service}")
    return problems


# --- tests --------------------------------------------------------------------------------------
def test_one_dashboard_named_per_stage(template: Template) -> None:
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    assert list(dashboards) == ["OperationsDashboard"]
    assert sub_text(props(template, "OperationsDashboard")["DashboardName"]) == "blixo-intacct-${Stage}"


def test_the_emitted_names_are_found_in_the_functions() -> None:
    emitted = emitted_by_functions()
    # Guards the drift check against passing because the scan found nothing.
    assert {"WebhookEventsQueued", "WebhookRejectedSignature"} <= emitted["webhook"]  # a name table
    assert {"PushEventsDone", "SyncErrorsOpened", "IntacctRequestLatency", "Intacct429s"} <= emitted["push"]
    assert {"PulledInvoices", "SyncErrorsOpened", "IntacctRequestLatency"} <= emitted["pull"]


def test_every_dashboard_metric_is_emitted_by_a_function(template: Template) -> None:
    assert drift(template, emitted_by_functions()) == []


def test_the_drift_check_finds_a_metric_nobody_emits(template: Template) -> None:
    mutated = copy.deepcopy(template)
    dashboard = mutated["Resources"]["OperationsDashboard"]["Properties"]
    text = sub_text(dashboard["DashboardBody"])
    assert text is not None
    dashboard["DashboardBody"] = {"Fn::Sub": text.replace('"PushEventsDone"', '"PushEventsDoneTypo"')}
    assert drift(mutated, emitted_by_functions()) == [
        "Pushes done and failed: PushEventsDoneTypo is emitted by no function"
    ]


def test_the_drift_check_finds_a_metric_a_function_stopped_emitting(template: Template) -> None:
    emitted = emitted_by_functions()
    emitted = {name: names - {"Intacct429s"} for name, names in emitted.items()}
    assert drift(template, emitted) == ["Intacct rate limits (429s): Intacct429s is emitted by no function"]


def test_a_runtime_built_name_counts_for_nothing() -> None:
    source = 'metrics.add_metric(name=f"Pulled_{flow}", unit="Count", value=1)\n'
    assert emitted_names(source) == set()
    table = (
        'NAMES = {"a": "MetricA", "b": "MetricB"}\nmetrics.add_metric(name=NAMES[k], unit="Count", value=1)\n'
    )
    assert emitted_names(table) == {"MetricA", "MetricB"}


@pytest.mark.parametrize("what", sorted(REQUIRED))
def test_the_dashboard_shows_what_operators_look_at(template: Template, what: str) -> None:
    shown = {split_entry(entry)[1] for _, entry in widget_metrics(dashboard_body(template))}
    assert REQUIRED[what] <= shown, f"{what}: missing {REQUIRED[what] - shown}"


def test_every_pull_flow_has_its_pulled_metric() -> None:
    source = (FUNCTIONS / "pull" / "app.py").read_text(encoding="utf-8")
    table = _module_dicts(ast.parse(source))
    keys = {
        k.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "PULLED_METRIC"
        and isinstance(node.value, ast.Dict)
        for k in node.value.keys
        if isinstance(k, ast.Constant)
    }
    assert keys == set(PULL_FLOW_NAMES)
    assert table["PULLED_METRIC"] == REQUIRED["records pulled per flow"]


def test_the_dashboard_shows_the_depth_of_every_dlq(template: Template) -> None:
    shown = {
        split_entry(entry)[2].get("QueueName")
        for _, entry in widget_metrics(dashboard_body(template))
        if split_entry(entry)[:2] == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    }
    expected = {f"<{dlq}.QueueName>" for dlq in dead_letter_targets(template).values()}
    assert expected == {"<PushDLQ.QueueName>", "<PullDLQ.QueueName>"}
    assert shown == expected


def test_every_widget_names_its_region_and_the_body_substitutes_only_known_names(template: Template) -> None:
    body = dashboard_body(template)
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "<AWS::Region>", widget["properties"]["title"]
    text = sub_text(props(template, "OperationsDashboard")["DashboardBody"]) or ""
    known = {"Stage", "AWS::Region", *(f"{q}.QueueName" for q in resources(template, "AWS::SQS::Queue"))}
    assert set(_SUB_VARIABLE.findall(text)) <= known
