"""Every log line the e2e and chaos runs wrote holds no secret (runs last: `-m logscan`).

The lines: every event of every function's CloudWatch log group on the local stack,
ministack's own log (the functions' stderr and the event-source mappings' reports go there),
and what the commands run against the stack printed (`.local/logs/`: the chaos run's pull worker
and `dlq replay` calls, the e2e tests' `blixo-intacct` calls).
The secrets: the Intacct sender and user passwords, every Blixo API key the sandbox ever issued
(each test tenant has its own account), the Accounting Sync API key, every webhook secret the
Blixo sandbox holds (and anything shaped like one), and every Intacct session id ever issued
(an expired session stays on record in the sandbox, so the ones the chaos run ends count too).
The sandboxes' own logs are left out: they are stand-ins for Blixo and Intacct, and print their
documented public defaults when they start."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
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


def file_lines(local: Path) -> Iterator[tuple[str, str]]:
    """ministack's log and every command log under `local`, line by line."""
    for path in [local / "ministack.log", *sorted((local / "logs").glob("*.log"))]:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                yield str(path.relative_to(local)), line


def every_log_line(stack: Stack) -> Iterator[tuple[str, str]]:
    logs = stack.client("logs")
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page.get("logGroups", []):
            name = group["logGroupName"]
            for line in log_lines(logs, name):
                yield name, line
    yield from file_lines(LOCAL)


def leaks_in(lines: Iterable[tuple[str, str]], secrets: dict[str, str]) -> tuple[int, list[str]]:
    """How many lines were read, and each secret found in one (by source and kind, never the value)."""
    needles = sorted(secrets, key=len, reverse=True)
    leaks: list[str] = []
    count = 0
    for source, line in lines:
        count += 1
        leaks += [f"{source}: a {secrets[s]}" for s in needles if s in line]
        if SHAPED_LIKE_A_WEBHOOK_SECRET.search(line):
            leaks.append(f"{source}: something shaped like a webhook secret")
    return count, leaks


def test_no_log_line_holds_a_secret(stack: Stack) -> None:
    secrets = secrets_of(stack)
    assert len(secrets) >= 4, "the scan found fewer secrets than the stack has: it would prove nothing"
    count, leaks = leaks_in(every_log_line(stack), secrets)
    assert count > 1000, f"only {count} log lines: the e2e and chaos runs write far more"
    assert leaks == []


def test_the_scan_finds_a_planted_secret(stack: Stack, tmp_path: Path) -> None:
    """The scan itself can fail: a session id in a command log, an API key in ministack's log and
    a webhook-secret-shaped text are each caught, through the same reader and matcher."""
    secrets = secrets_of(stack)
    session = next(s for s, kind in secrets.items() if kind == "Intacct session id")
    key = next(s for s, kind in secrets.items() if kind == "Blixo API key")
    (tmp_path / "logs").mkdir()
    (tmp_path / "ministack.log").write_text(f"ok\nrequest with x-api-key {key} failed\n")
    (tmp_path / "logs" / "chaos-cli.log").write_text(
        f'{{"level":"INFO","message":"login ok","session":"{session}"}}\nsecret=whsec_abcdef123\n'
    )
    count, leaks = leaks_in(file_lines(tmp_path), secrets)
    assert count == 4
    assert sorted(leaks) == [
        "logs/chaos-cli.log: a Intacct session id",
        "logs/chaos-cli.log: something shaped like a webhook secret",
        "ministack.log: a Blixo API key",
    ]


def test_the_scan_knows_the_sessions_the_chaos_run_ended(stack: Stack) -> None:
    """The chaos run (before this scan) ends live sessions; their ids are still secrets here."""
    ended = _rows(LOCAL / "intacct.sqlite3", "SELECT sessionid FROM sessions WHERE expires = 0")
    assert ended, "no ended session on record: the chaos run expires sessions before the scan"
    assert set(ended) <= set(secrets_of(stack))
