"""The webhook Lambda as the deployed stack runs it, for the security suite: moto's FIFO push
queue, sync table and Secrets Manager (the foundation integration fixtures), the real handler
fed API Gateway proxy events (the events/ sample, re-addressed and re-signed), and every
answer seen with what it left behind: the reply, the one EMF document Powertools printed, the
Powertools log lines, and the push queue.

Test modules import the fixtures they use from here (the folder's conftest is not ours)."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.core.utils import unix_time, unix_time_millis

from bisync.blixo.webhooks import sign
from bisync.settings import TenantSettings
from bisync.sync.jobs import PushJob
from tests.integration.foundation.conftest import (
    SECRET_PREFIX,
    Aws,
    LambdaContext,
    _fast_moto_transactions,
    aws,
    aws_env,
    load_handler,
    sample_event,
    secretsmanager,
    sqs,
    table,
    tenant_secret,
)
from tests.integration.foundation.test_handlers import webhook_event

# Distinctive plaintexts, so a leak into a reply or a log line cannot hide behind a common word.
ACME_SECRET = "whsec_SECURITY_acme_5d1f0c9a"
BETA_SECRET = "whsec_SECURITY_beta_8e2a4b71"
PAUSED_SECRET = "whsec_SECURITY_paused_90d3e6f2"
API_KEY = "blixo-SECURITY-apikey-3c9d0e"
SENDER_PASSWORD = "sender-SECURITY-pw-6b1f"
USER_PASSWORD = "user-SECURITY-pw-2a7c"
PLAINTEXTS = {
    "acme webhook secret": ACME_SECRET,
    "beta webhook secret": BETA_SECRET,
    "paused webhook secret": PAUSED_SECRET,
    "Blixo API key": API_KEY,
    "Intacct sender password": SENDER_PASSWORD,
    "Intacct user password": USER_PASSWORD,
}

NAMESPACE = "BlixoIntacctSync"  # POWERTOOLS_METRICS_NAMESPACE of the fixture (template Globals)
SAMPLE_BODY: str = sample_event("webhook_invoice_created.json")["body"]
SAMPLE_EVENT_ID = "evt_01JDEMO0000000000000000001"


def secret_document(webhook_secrets: list[str]) -> str:
    """The tenant secret as `tenant connect` stores it, with this suite's plaintexts."""
    document = json.loads(tenant_secret(webhook_secrets))
    document["blixo_api_key"] = API_KEY
    document["intacct"]["sender_password"] = SENDER_PASSWORD
    document["intacct"]["user_password"] = USER_PASSWORD
    return json.dumps(document)


def leaked(text: str) -> list[str]:
    """The names of the plaintexts that appear in ``text``."""
    return [name for name, value in PLAINTEXTS.items() if value in text]


def padded(body: str, size: int) -> str:
    """``body`` (an event with an empty ``metadata`` object) grown to exactly ``size`` UTF-8
    bytes by a padding value inside its metadata: still a valid event."""
    empty = '"metadata":{}'
    assert body.count(empty) == 1
    room = size - len(body.encode("utf-8")) - len('"pad":""')
    assert room >= 0, f"{size} is smaller than the event itself"
    grown = body.replace(empty, '"metadata":{"pad":"' + "x" * room + '"}')
    assert len(grown.encode("utf-8")) == size
    return grown


# --------------------------------------------------------------------------- one delivery
@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    metrics: dict[str, float]  # the EMF document's metrics, name -> value
    logs: list[dict[str, Any]]  # the Powertools log lines of this invocation, parsed
    raw_output: str  # everything the invocation wrote: log lines and records, EMF, stdout, stderr

    def answered(self) -> dict[str, Any]:
        """The handler's one "webhook answered"/"webhook refused" line."""
        [line] = [log for log in self.logs if str(log.get("message", "")).startswith("webhook ")]
        return line


class Intake:
    """Posts deliveries to the webhook Lambda the way API Gateway's proxy integration does."""

    def __init__(
        self, stack: Aws, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
    ) -> None:
        self.aws = stack
        self._capsys = capsys
        self._caplog = caplog
        self.handler = load_handler("webhook")
        self.log = io.StringIO()

    def post(
        self,
        body: str | bytes,
        *,
        tenant_id: str = "acme",
        secret: str = ACME_SECRET,
        signature: str | None = None,
        unsigned: bool = False,
        base64_body: bool = False,
    ) -> Reply:
        """One delivery; signed with ``secret`` over the exact bytes sent unless ``signature``
        is given or ``unsigned`` leaves the header out."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        text = base64.b64encode(raw).decode("ascii") if base64_body else raw.decode("utf-8")
        event = webhook_event(
            tenant_id=tenant_id,
            body=text,
            signature=signature if signature is not None else sign(raw, secret),
        )
        event["isBase64Encoded"] = base64_body
        if unsigned:
            event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "x-blixo-signature"}
            event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        self._capsys.readouterr()
        start, records = self.log.tell(), len(self._caplog.records)
        response = self.handler.lambda_handler(event, LambdaContext())
        out = self._capsys.readouterr()
        # Any logger's records that reached pytest's handler, every field of each.
        other = "".join(str(vars(r)) for r in self._caplog.records[records:])
        self.log.seek(start)
        log_text = self.log.read()
        emf = [json.loads(line) for line in out.out.splitlines() if '"_aws"' in line]
        assert len(emf) == 1, out.out  # one metrics document per invocation
        return Reply(
            status=response["statusCode"],
            body=json.loads(response["body"]),
            headers=response["headers"],
            metrics=_metrics(emf[0]),
            # Each log line is one JSON document: nothing a caller sends can start a line.
            logs=[json.loads(line) for line in log_text.splitlines()],
            raw_output=log_text + out.out + out.err + other + response["body"],
        )

    # ----------------------------------------------------------------- the push queue
    def depth(self) -> int:
        """Every message on the push queue, visible, in flight or delayed."""
        attributes = sqs().get_queue_attributes(QueueUrl=self.aws.push_queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        names = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return sum(int(attributes[n]) for n in (*names, "ApproximateNumberOfMessagesDelayed"))

    def queued(self) -> list[tuple[dict[str, str], PushJob]]:
        """The queued messages (their attributes and jobs), left on the queue."""
        reply = sqs().receive_message(
            QueueUrl=self.aws.push_queue_url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=0,
        )
        messages = reply.get("Messages", [])
        assert len(messages) == self.depth()
        return [(m["Attributes"], PushJob.model_validate_json(m["Body"])) for m in messages]


def _metrics(document: dict[str, Any]) -> dict[str, float]:
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["service"]]
    values: dict[str, float] = {}
    for metric in directive["Metrics"]:
        value = document[metric["Name"]]
        assert metric["Unit"] == "Count"
        values[metric["Name"]] = float(value[0] if isinstance(value, list) and len(value) == 1 else value)
    return values


def counted(status: int, name: str) -> dict[str, float]:
    """The metrics one answer emits: its status code's, and its outcome's."""
    return {f"Webhook{status}": 1.0, name: 1.0}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def tenants(aws: Aws) -> Aws:
    """Two onboarded tenants, each with its own webhook secret, and a disabled one."""
    for tenant_id, secret, enabled in (
        ("acme", ACME_SECRET, True),
        ("beta", BETA_SECRET, True),
        ("paused", PAUSED_SECRET, False),
    ):
        aws.store.put_tenant(TenantSettings(tenant_id=tenant_id, enabled=enabled))
        secretsmanager().create_secret(
            Name=f"{SECRET_PREFIX}{tenant_id}", SecretString=secret_document([secret])
        )
    return aws


@pytest.fixture
def intake(
    tenants: Aws,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Intake]:
    """The handler, its Powertools logger turned up to DEBUG and written to a buffer of ours."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    runner = Intake(tenants, capsys, caplog)
    # One logging.Logger per service name, configured by the first Logger() of the process: point
    # its Powertools handler at this test's buffer, whatever stream it was made with.
    service = logging.getLogger(runner.handler.logger.service)
    handler: logging.StreamHandler[Any] = service.powertools_handler  # type: ignore[attr-defined]
    level = service.level
    service.setLevel(logging.DEBUG)
    # Swapped, not setStream(): that flushes the old stream, which may be an earlier test's
    # capture, closed by now.
    previous, handler.stream = handler.stream, runner.log
    try:
        yield runner
    finally:
        handler.stream = previous
        service.setLevel(level)


class SqsClock:
    """moto's SQS clock, moved forward: the five-minute deduplication window is measured with it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset_s = 0.0
        monkeypatch.setattr("moto.sqs.models.unix_time", lambda *a: unix_time(*a) + self.offset_s)
        monkeypatch.setattr(
            "moto.sqs.models.unix_time_millis", lambda *a: unix_time_millis(*a) + self.offset_s * 1000
        )

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds


@pytest.fixture
def sqs_clock(monkeypatch: pytest.MonkeyPatch) -> SqsClock:
    return SqsClock(monkeypatch)


# The foundation fixtures are re-exported: test modules take every fixture they use from here.
__all__ = [
    "ACME_SECRET",
    "API_KEY",
    "BETA_SECRET",
    "NAMESPACE",
    "PAUSED_SECRET",
    "PLAINTEXTS",
    "SAMPLE_BODY",
    "SAMPLE_EVENT_ID",
    "SECRET_PREFIX",
    "SENDER_PASSWORD",
    "USER_PASSWORD",
    "Intake",
    "LambdaContext",
    "Reply",
    "SqsClock",
    "_fast_moto_transactions",
    "aws",
    "aws_env",
    "counted",
    "intake",
    "leaked",
    "load_handler",
    "padded",
    "secret_document",
    "secretsmanager",
    "sqs",
    "sqs_clock",
    "table",
    "tenants",
]
