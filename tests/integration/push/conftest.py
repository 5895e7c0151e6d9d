"""The push path in one process: the Blixo sandbox sends real signed webhooks to a local
receiver that runs the webhook Lambda; its queue (moto SQS) is pumped into the push Lambda,
which writes to the Intacct sandbox. Ledgers are then compared to the cent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from bisync.blixo.client import Backoff, BlixoClient
from bisync.intacct import Credentials, IntacctClient, RetryPolicy
from bisync.intacct.limiter import CompanyLimiter
from bisync.settings import AccountMappings, TenantSettings
from sandbox.blixo import start_server as start_blixo
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD, SandboxHandle
from sandbox.intacct import start_server as start_intacct
from tests.integration.foundation.conftest import (  # noqa: F401 - fixtures
    SECRET_PREFIX,
    Aws,
    LambdaContext,
    _fast_moto_transactions,
    aws,
    aws_env,
    load_handler,
    secretsmanager,
    serialized_dynamodb,
    sqs,
    table,
)

BLIXO_KEY = "blixo-sandbox-key"
HOOK_SECRET = "whsec_push_integration"
TENANT = "acme"
ENTITY = "E100"


@pytest.fixture(scope="session")
def intacct_sandbox() -> Iterator[SandboxHandle]:
    handle = start_intacct(port=0)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def blixo_sandbox() -> Iterator[Any]:
    handle = start_blixo("127.0.0.1", port=0, webhook_retry_delays=[0.05, 0.1])
    yield handle
    handle.stop()


class Receiver:
    """Stands in for API Gateway: each delivery runs the webhook Lambda in process."""

    def __init__(self, handler: ModuleType, tenant_id: str) -> None:
        self.statuses: list[int] = []
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event = {
                    "resource": "/webhooks/blixo/{tenantId}",
                    "path": f"/webhooks/blixo/{tenant_id}",
                    "httpMethod": "POST",
                    "headers": dict(self.headers.items()),
                    "multiValueHeaders": {},
                    "pathParameters": {"tenantId": tenant_id},
                    "requestContext": {"requestId": "r", "stage": "dev"},
                    "body": body.decode("utf-8"),
                    "isBase64Encoded": False,
                }
                # One at a time, like a FIFO producer: queue order is delivery order.
                with lock:
                    reply = handler.lambda_handler(event, LambdaContext())
                receiver.statuses.append(reply["statusCode"])
                out = reply["body"].encode()
                self.send_response(reply["statusCode"])
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/blixo/{tenant_id}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class World:
    aws: Aws
    intacct_handle: SandboxHandle
    blixo_url: str
    blixo_root: str
    blixo: BlixoClient
    intacct: IntacctClient
    push: ModuleType
    puller: ModuleType
    receiver: Receiver
    settings: TenantSettings
    batch_size: int = 10
    batches: list[dict[str, Any]] = field(default_factory=list)
    _keys: int = 0

    # ----------------------------------------------------------------- Blixo side
    def key(self, what: str) -> str:
        self._keys += 1
        return f"test-{what}-{self._keys}"

    def blixo_admin(self, method: str, path: str, body: Any = None) -> Any:
        reply = requests.request(method, self.blixo_root + path, json=body, auth=(BLIXO_KEY, ""), timeout=30)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def intacct_admin(self, path: str, body: Any = None) -> Any:
        url = f"{self.intacct_handle.url}/_sandbox/{path}"
        reply = (
            requests.post(url, json=body, timeout=30) if body is not None else requests.get(url, timeout=30)
        )
        reply.raise_for_status()
        return reply.json()

    def customer(self, name: str = "Acme Corp", **fields: Any) -> Any:
        return self.blixo.customers.create(
            {"name": name, "currency": "USD", **fields}, idempotency_key=self.key("c")
        )

    def invoice(self, customer_id: str, *amounts: str, **fields: Any) -> Any:
        items = [
            {"name": f"Line {i}", "quantity": 1, "unitPrice": a} for i, a in enumerate(amounts or ("100.00",))
        ]
        body = {"customerId": customer_id, "issueDate": "2026-11-20", "dueDate": "2026-12-20", "items": items}
        body.update(fields)
        return self.blixo.invoices.create(body, idempotency_key=self.key("i"))

    def pay(
        self, customer_id: str, amount: str, *applied: dict[str, Any], method: str = "check", **fields: Any
    ) -> Any:
        body = {
            "customerId": customer_id,
            "amount": amount,
            "method": method,
            "date": "2026-11-25",
            "appliedTo": list(applied),
        }
        body.update(fields)
        return self.blixo.payments.create(body, idempotency_key=self.key("p"))

    # ----------------------------------------------------------------- the pipeline
    def pump(self, *, max_passes: int = 30) -> list[dict[str, Any]]:
        """Deliver every pending webhook, then feed the push queue to the push Lambda in FIFO
        batches until it is empty; returns the messages still failing (none when all synced)."""
        self.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
        client = sqs()
        url = self.aws.push_queue_url
        failing: list[dict[str, Any]] = []
        for _ in range(max_passes):
            reply = client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=self.batch_size,
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=0,
            )
            messages = reply.get("Messages", [])
            if not messages:
                return []
            event = {"Records": [self._record(m) for m in messages]}
            result = self.push.lambda_handler(event, LambdaContext())
            self.batches.append(result)
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            failing = [m for m in messages if m["MessageId"] in failed]
        return failing

    def pull(self, **job: Any) -> dict[str, Any]:
        """Run the pull Lambda on one job for the tenant (as PullQueue would deliver it)."""
        from datetime import UTC, datetime

        from bisync.sync.jobs import PullJob

        fields = {"tenant_id": TENANT, "scheduled_for": datetime.now(UTC), **job}
        message = PullJob(**fields).to_message()
        record = {
            "messageId": f"pull-{self.key('m')}",
            "receiptHandle": "rh",
            "body": message.body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "0",
                "MessageGroupId": message.group_id,
                "MessageDeduplicationId": message.deduplication_id,
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pull.fifo",
            "awsRegion": "us-east-1",
        }
        result: dict[str, Any] = self.puller.lambda_handler({"Records": [record]}, LambdaContext())
        return result

    @staticmethod
    def _record(message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "MessageGroupId": attributes.get("MessageGroupId", ""),
                "MessageDeduplicationId": attributes.get("MessageDeduplicationId", ""),
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:push.fifo",
            "awsRegion": "us-east-1",
        }

    # ----------------------------------------------------------------- Intacct side
    def mapping(self, object_type: str, blixo_id: str) -> Any:
        return self.aws.store.mappings.by_blixo(TENANT, object_type, blixo_id)

    def ar_invoice(self, key: str) -> dict[str, Any]:
        rows = list(
            self.intacct.query(
                "ARINVOICE",
                ["RECORDNO", "RECORDID", "TOTALENTERED", "TOTALPAID", "TOTALDUE", "STATE", "CUSTOMERID"],
                filter=__import__("bisync.intacct.filters", fromlist=["F"]).F.eq("RECORDNO", key),
            )
        )
        assert len(rows) == 1, rows
        return rows[0]

    def dump(self, obj: str) -> list[dict[str, Any]]:
        data = self.intacct_admin(f"dump?object={obj}")
        rows: list[dict[str, Any]] = data.get(COMPANY_ID, {}).get(obj, [])
        return rows

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.intacct_admin("counters").get(COMPANY_ID, {})
        return counters

    def assert_ledgers_agree(self) -> None:
        """Every Blixo invoice's balance equals its A/R invoice's TOTALDUE, and every
        customer's open balance equals Intacct's, to the cent."""
        invoices = self.blixo.invoices.list()
        open_by_customer: dict[str, Decimal] = {}
        for inv in invoices:
            if inv.status.value == "draft":
                continue
            linked = self.mapping("invoice", inv.id)
            if linked is None and inv.status.value == "voided":
                continue  # voided before its push: nothing of it is owed on either side
            assert linked is not None, f"invoice {inv.id} was never synced"
            ar = self.ar_invoice(linked.intacct_key)
            expected = inv.balance if inv.status.value != "voided" else Decimal("0")
            assert Decimal(ar["TOTALDUE"]) == expected, (inv.id, ar, inv.balance)
            open_by_customer[inv.customer_id] = open_by_customer.get(inv.customer_id, Decimal(0)) + expected
        for cn in self.blixo.credit_notes.list():
            if cn.status.value in ("draft", "voided"):
                continue
            open_by_customer[cn.customer_id] = open_by_customer.get(cn.customer_id, Decimal(0)) - cn.balance
        customers = {r["CUSTOMERID"]: Decimal(r["TOTALDUE"]) for r in self.dump("CUSTOMER")}
        for customer_id, balance in open_by_customer.items():
            linked = self.mapping("customer", customer_id)
            assert linked is not None
            assert customers[linked.intacct_key] == balance, (
                customer_id,
                customers[linked.intacct_key],
                balance,
            )


def settings_for(tenant_id: str = TENANT, **over: Any) -> TenantSettings:
    base = TenantSettings(
        tenant_id=tenant_id,
        entity_id=ENTITY,
        accounts=AccountMappings(
            revenue_account="4000",
            tax_account="2100",
            discount_account="4950",
            convenience_fee_account="4900",
            undeposited_funds_account="1500",
            location_id=ENTITY,
            overpayment_location_id=ENTITY,
        ),
    )
    return base.model_copy(update=over)


@pytest.fixture
def world(
    aws: Aws,  # noqa: F811
    intacct_sandbox: SandboxHandle,
    blixo_sandbox: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    intacct_sandbox.sandbox.reset()
    requests.post(
        blixo_sandbox.root_url + "/_sandbox/reset", auth=(BLIXO_KEY, ""), timeout=10
    ).raise_for_status()
    monkeypatch.setenv("INTACCT_ENDPOINT_URL", intacct_sandbox.gateway_url)
    monkeypatch.setenv("BLIXO_API_URL", blixo_sandbox.url)
    # Anything that read the configuration before these two were set (a late webhook delivery
    # of the previous test, say) must not leave the real gateway's address cached.
    import bisync.config

    bisync.config.runtime_config.cache_clear()
    settings = settings_for()
    aws.store.put_tenant(settings)
    secretsmanager().create_secret(
        Name=f"{SECRET_PREFIX}{TENANT}",
        SecretString=json.dumps(
            {
                "intacct": {
                    "sender_id": SENDER_ID,
                    "sender_password": SENDER_PASSWORD,
                    "company_id": COMPANY_ID,
                    "user_id": USER_ID,
                    "user_password": USER_PASSWORD,
                },
                "blixo_api_key": BLIXO_KEY,
                "webhook_secrets": [HOOK_SECRET],
            }
        ),
    )
    receiver = Receiver(load_handler("webhook"), TENANT)
    blixo = BlixoClient(
        SecretStr(BLIXO_KEY), blixo_sandbox.url, backoff=Backoff.none(), sleep=lambda _s: None
    )
    blixo.request(
        "POST",
        "webhooks",
        body={"url": receiver.url, "events": ["*"], "secret": HOOK_SECRET},
        idempotency_key="push-it-subscribe",
    )
    intacct = IntacctClient(
        Credentials(
            sender_id=SENDER_ID,
            sender_password=SecretStr(SENDER_PASSWORD),
            company_id=COMPANY_ID,
            user_id=USER_ID,
            user_password=SecretStr(USER_PASSWORD),
            entity_id=ENTITY,
            endpoint_url=intacct_sandbox.gateway_url,
        ),
        retry=RetryPolicy(attempts=3, sleep=lambda _s: None),
        limiter=CompanyLimiter(2),
    )
    push = load_handler("push")
    yield World(
        aws=aws,
        intacct_handle=intacct_sandbox,
        blixo_url=blixo_sandbox.url,
        blixo_root=blixo_sandbox.root_url,
        blixo=blixo,
        intacct=intacct,
        push=push,
        puller=load_handler("pull"),
        receiver=receiver,
        settings=settings,
    )
    # Deliveries still pending go to this test's receiver, never into the next test.
    requests.post(
        blixo_sandbox.root_url + "/_sandbox/webhooks/drain",
        json={"timeoutSeconds": 10},
        auth=(BLIXO_KEY, ""),
        timeout=15,
    )
    receiver.stop()
    blixo.close()
