"""checkov over the template: no failed check, and every skip justified in the template.

checkov lives in its own venv (.checkov-venv, from requirements/checkov.txt; its pins conflict
with .venv's). It reads SAM resources itself; it also runs over SAM's own expansion (what
CloudFormation receives: the generated roles, API stages, permissions), which keeps each
source resource's Metadata and so its skips.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.infrastructure.cfn import TEMPLATE_PATH, Template
from tests.infrastructure.sam_expand import expanded_template

CHECKOV = ROOT / ".checkov-venv" / "bin" / "checkov"
needs_checkov = pytest.mark.skipif(
    not CHECKOV.exists(),
    reason="checkov is not installed: `make checkov-venv` creates .checkov-venv from requirements/checkov.txt",
)
CHECK_ID = re.compile(r"CKV2?_AWS_\d+")
MIN_REASON_WORDS = 6

Finding = tuple[str, str]  # (check id, resource logical id)


def declared_skips(template: Template) -> dict[Finding, str]:
    """(check id, resource) -> the reason, for every skip in a resource's Metadata."""
    found: dict[Finding, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            found[(str(skip.get("id")), logical_id)] = str(skip.get("comment") or "")
    return found


def skip_problems(template: Template, template_text: str) -> list[str]:
    problems = []
    for (check_id, logical_id), reason in declared_skips(template).items():
        if not CHECK_ID.fullmatch(check_id):
            problems.append(f"{logical_id}: skip of {check_id!r}, not a checkov check id")
        if len(reason.split()) < MIN_REASON_WORDS:
            problems.append(f"{logical_id}: skip of {check_id} without a reason ({reason!r})")
    # The comment form skips too (`# checkov:skip=ID: reason`): none without a reason.
    for match in re.finditer(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", template_text):
        if len((match.group(2) or "").split()) < MIN_REASON_WORDS:
            problems.append(f"comment skip of {match.group(1)} without a reason")
    return problems


def run_checkov(path: Path) -> dict[str, Any]:
    reply = subprocess.run(
        [str(CHECKOV), "-f", str(path), "--framework", "cloudformation", "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=path.parent,
    )
    # Exit 1 means failed checks: the report says which.
    assert reply.returncode in (0, 1), reply.stderr[-2000:]
    report = json.loads(reply.stdout)
    assert isinstance(report, dict), "checkov reported on more than one framework"
    return report


def findings(report: dict[str, Any], kind: str) -> set[Finding]:
    return {
        (str(check["check_id"]), str(check["resource"]).rsplit(".", 1)[-1])
        for check in report["results"][kind]
    }


@pytest.fixture(scope="module")
def template_report() -> dict[str, Any]:
    return run_checkov(TEMPLATE_PATH)


# --- the skips, as written ----------------------------------------------------------------------
def test_every_skip_names_a_check_and_says_why(template: Template, template_text: str) -> None:
    assert declared_skips(template), "no skips found: the reading of Metadata is broken"
    assert skip_problems(template, template_text) == []


def test_skip_check_detects_a_skip_without_a_reason(template: Template, template_text: str) -> None:
    mutated = copy.deepcopy(template)
    mutated["Resources"]["AlarmTopic"]["Metadata"]["checkov"]["skip"][0]["comment"] = "n/a"
    assert skip_problems(mutated, template_text) == [
        "AlarmTopic: skip of CKV_AWS_26 without a reason ('n/a')"
    ]
    text = template_text + "\n# checkov:skip=CKV_AWS_117\n"
    assert skip_problems(template, text) == ["comment skip of CKV_AWS_117 without a reason"]


# --- checkov ------------------------------------------------------------------------------------
@needs_checkov
def test_checkov_fails_no_check_on_the_template(template_report: dict[str, Any]) -> None:
    assert template_report["summary"]["parsing_errors"] == 0
    assert template_report["summary"]["resource_count"] > 30
    assert sorted(findings(template_report, "failed_checks")) == []


@needs_checkov
def test_checkov_honours_every_skip_and_no_other(template: Template, template_report: dict[str, Any]) -> None:
    # A skip checkov did not apply names a check that no longer fires there: it goes.
    assert findings(template_report, "skipped_checks") == set(declared_skips(template))
    for check in template_report["results"]["skipped_checks"]:
        assert check["check_result"].get("suppress_comment"), check["check_id"]


def _source_of(logical_id: str, sources: set[str]) -> str:
    """A generated resource's SAM source: WebhookApiStage -> WebhookApi, PushFunctionRole ->
    PushFunction (the longest source id it starts with)."""
    candidates = [s for s in sources if logical_id.startswith(s)]
    assert candidates, f"{logical_id} comes from no resource of the template"
    return max(candidates, key=len)


@needs_checkov
def test_checkov_fails_no_check_on_the_expanded_template(template: Template, tmp_path: Path) -> None:
    path = tmp_path / "expanded.json"
    path.write_text(json.dumps(expanded_template()), encoding="utf-8")
    report = run_checkov(path)
    assert report["summary"]["parsing_errors"] == 0
    assert sorted(findings(report, "failed_checks")) == []
    # What it skipped is what the template skips, on the resources SAM made from them.
    sources = set(template["Resources"])
    skipped = {(check_id, _source_of(rid, sources)) for check_id, rid in findings(report, "skipped_checks")}
    assert skipped <= set(declared_skips(template))


@needs_checkov
def test_checkov_reports_a_finding_once_its_skip_is_removed(template_text: str, tmp_path: Path) -> None:
    # Guards the runs above against passing because checkov checked nothing.
    marker = "          - id: CKV_AWS_26\n"
    assert template_text.count(marker) == 1
    start = template_text.index(marker)
    end = template_text.index("\n", template_text.index("comment:", start)) + 1
    path = tmp_path / "template.yaml"
    path.write_text(template_text[:start] + template_text[end:], encoding="utf-8")
    report = run_checkov(path)
    assert findings(report, "failed_checks") == {("CKV_AWS_26", "AlarmTopic")}
