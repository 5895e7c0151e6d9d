"""Every log line the e2e and chaos runs wrote holds no secret (runs last: `-m logscan`).

The lines: every event of every function's CloudWatch log group on the local stack, and
ministack's own log (the functions' stderr and the event-source mappings' reports go there).
The secrets: the Intacct sender and user passwords, every Blixo API key the sandbox ever issued
(each test tenant has its own account), the Accounting Sync API key, every webhook secret the
Blixo sandbox holds (and anything shaped like one), and every Intacct session id ever issued.
The sandboxes' own logs are left out: they are stand-ins for Blixo and Intacct, and print their
documented public defaults when they start."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.chaos.world import log_lines
from tests.conftest import ROOT
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.logscan]

LOCAL = ROOT / ".local"
SHAPED_LIKE_A_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9]{6,}")


def _rows(db: Path, sql: str) -> list[str]:
    if not db.exists():
        pytest.fail(f"{db} is missing: the local stack keeps the sandboxes' data there")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [str(r[0]) for r in conn.execute(sql) if r[0]]


def secrets_of(stack: Stack) -> dict[str, str]:
    """Each secret value, with what it is (never printed: only the kind is)."""
    found = {
        stack.doc["intacct"]["sender_password"]: "Intacct sender password",
        stack.doc["intacct"]["user_password"]: "Intacct user password",
        stack.doc["api_key"]: "Accounting Sync API key",
    }
    found |= dict.fromkeys(_rows(LOCAL / "blixo.sqlite3", "SELECT api_key FROM accounts"), "Blixo API key")
    found |= dict.fromkeys(_rows(LOCAL / "blixo.sqlite3", "SELECT secret FROM webhooks"), "webhook secret")
    found |= dict.fromkeys(
        _rows(LOCAL / "intacct.sqlite3", "SELECT sessionid FROM sessions"), "Intacct session id"
    )
    return found


def every_log_line(stack: Stack) -> Iterator[tuple[str, str]]:
    logs = stack.client("logs")
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page.get("logGroups", []):
            name = group["logGroupName"]
            for line in log_lines(logs, name):
                yield name, line
    ministack = LOCAL / "ministack.log"
    for line in ministack.read_text(errors="replace").splitlines():
        yield "ministack.log", line


def test_no_log_line_holds_a_secret(stack: Stack) -> None:
    secrets = secrets_of(stack)
    assert len(secrets) >= 4, "the scan found fewer secrets than the stack has: it would prove nothing"
    needles = sorted(secrets, key=len, reverse=True)
    leaks: list[str] = []
    lines = 0
    for source, line in every_log_line(stack):
        lines += 1
        leaks += [f"{source}: a {secrets[s]}" for s in needles if s in line]
        if SHAPED_LIKE_A_WEBHOOK_SECRET.search(line):
            leaks.append(f"{source}: something shaped like a webhook secret")
    assert lines > 1000, f"only {lines} log lines: the e2e and chaos runs write far more"
    assert leaks == []


def test_the_scan_finds_a_planted_secret(stack: Stack) -> None:
    """The scan itself can fail: a log line carrying a session id is caught."""
    session = next(s for s, kind in secrets_of(stack).items() if kind == "Intacct session id")
    planted = f'{{"level":"INFO","message":"login ok","session":"{session}"}}'
    assert [s for s in secrets_of(stack) if s in planted] == [session]
    assert SHAPED_LIKE_A_WEBHOOK_SECRET.search("secret=whsec_abcdef123")
