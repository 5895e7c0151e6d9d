"""The pull benchmark, on the local stack's sandboxes and DynamoDB (`make up`).

An Intacct company of its own (`POST /_sandbox/companies`) is seeded with Order Entry invoices
(3 lines each), returns, customers and A/R payments; Intacct answers after `intacct_latency_ms`
(per request, while it holds one of the company's 2 slots) and Blixo after `blixo_latency_ms`
(20 requests in flight per key). The pull engine runs in a process of its own (so its peak
memory is its own), exactly as the pull Lambda runs it, into a new Blixo account. The same
data is then read the two other ways: record numbers with readByQuery then `read` 100 at a
time, and PyPI `sageintacctsdk`'s `get_all_generator`.

    python -m bench.pull --once '<json>'   (one measured run; prints its figures as JSON)
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from sageintacctsdk import SageIntacctSDK
from sageintacctsdk.apis.api_base import ApiBase

from bisync.config import RuntimeConfig
from bisync.intacct import functions as fn
from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.retry import RetryPolicy
from bisync.settings import TenantSettings
from bisync.store import SyncStore
from bisync.sync.jobs import PullJob
from bisync.sync.pull import PullSession, pull_report
from bisync.sync.pull.run import FLOWS
from bisync.sync.tenant import connect
from ops.demo_tenant import sandbox_secrets
from ops.local import ROOT, LocalStack, Sandboxes, proc_stat, sandbox_intacct_client

ENTITY = "E100"
PAGE = 2000  # Intacct's largest query page


@dataclass(frozen=True)
class Data:
    customers: int = 2000
    orders: int = 10_000
    lines_per_order: int = 3
    returns: int = 1000
    order_payments: int = 5000

    def times(self, factor: float) -> Data:
        return Data(
            customers=max(1, round(self.customers * factor)),
            orders=max(1, round(self.orders * factor)),
            lines_per_order=self.lines_per_order,
            returns=max(1, round(self.returns * factor)),
            order_payments=max(1, round(self.order_payments * factor)),
        )


@dataclass(frozen=True)
class Latency:
    intacct_ms: float = 150.0
    blixo_ms: float = 50.0
    intacct_concurrency: int = 2
    blixo_concurrency: int = 20


def seed(admin: Sandboxes, data: Data) -> tuple[str, dict[str, int]]:
    company = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    admin.intacct("companies", {"company": company})
    seeded = admin.intacct(
        "seed",
        {
            "company": company,
            "customers": data.customers,
            "orders": data.orders,
            "lines_per_order": data.lines_per_order,
            "returns": data.returns,
            "order_payments": data.order_payments,
            "entity": ENTITY,
        },
    )
    counts = {
        "customers": int(seeded["customers"]),
        "invoices": int(seeded["orders"]),
        "invoice_lines": int(seeded["order_lines"]),
        "returns": int(seeded["returns"]),
        "return_lines": int(seeded["return_lines"]),
        "payments": int(seeded["order_payments"]),
        "payment_applications": int(seeded["payment_details"]),
    }
    return company, counts


def lower_bound(counts: dict[str, int], latency: Latency) -> dict[str, float]:
    """The fewest requests the data needs (a session, then each kind of record at the largest
    page) and the time they take at the latency and concurrency; Blixo has no bulk write, so
    each customer, document and payment is one request there."""
    intacct = 1 + sum(math.ceil(n / PAGE) for n in counts.values() if n)
    blixo = counts["customers"] + counts["invoices"] + counts["returns"] + counts["payments"]
    intacct_s = intacct * latency.intacct_ms / 1000 / latency.intacct_concurrency
    blixo_s = blixo * latency.blixo_ms / 1000 / latency.blixo_concurrency
    return {
        "intacct_requests": intacct,
        "blixo_requests": blixo,
        "intacct_s": intacct_s,
        "blixo_s": blixo_s,
        # Both services at once at best: what is read is written while the next page is read.
        "wall_s": max(intacct_s, blixo_s),
    }


def _latency(admin: Sandboxes, company: str, latency: Latency | None) -> None:
    admin.intacct("faults", {"company": company, "latency_ms": latency.intacct_ms if latency else 0})
    admin.blixo("faults", {"latencyMs": latency.blixo_ms} if latency else {})


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.count += 1
        return super().request(*args, **kwargs)


# ------------------------------------------------------------------------ the engine's pull
def once(args: dict[str, Any]) -> dict[str, Any]:
    """One pull of `company` into a new Blixo account, the way the pull Lambda runs it."""
    stack = LocalStack.load()
    doc = stack.doc
    admin = Sandboxes.of(doc)
    latency = Latency(**args["latency"])
    company = str(args["company"])
    api_key = f"bench-{uuid.uuid4().hex}"
    admin.blixo("accounts", {"apiKey": api_key})
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    settings = TenantSettings(
        tenant_id=tenant,
        name="Pull benchmark",
        entity_id=ENTITY,
        intacct_concurrency=latency.intacct_concurrency,
        blixo_concurrency=latency.blixo_concurrency,
    )
    table = stack.table()
    store = SyncStore(table)
    store.put_tenant(settings)
    config = RuntimeConfig(
        sync_table=doc["sync_table"],
        intacct_endpoint_url=doc["intacct"]["url"],
        blixo_api_url=doc["blixo"]["url"],
    )
    secrets = sandbox_secrets(doc, f"whsec_{uuid.uuid4().hex}", api_key)
    secrets = secrets.model_copy(
        update={"intacct": secrets.intacct.model_copy(update={"company_id": company, "entity_id": ENTITY})}
    )
    counting = CountingSession()

    def open_session(s: TenantSettings) -> PullSession:
        clients = connect(
            s,
            secrets,
            config,
            slots=store.slots,
            intacct_options={
                "deadline_seconds": 300.0,
                "retry": RetryPolicy(attempts=4, initial=0.5, maximum=10.0),
            },
            blixo_options={"session": counting, "pool_maxsize": latency.blixo_concurrency},
        )
        return PullSession(execute=clients.intacct.execute, blixo=clients.blixo, close=clients.close)

    _latency(admin, company, latency)
    before = admin.intacct_counters(company)
    started = time.perf_counter()
    try:
        report = pull_report(
            PullJob(tenant_id=tenant, trigger="operator", scheduled_for=datetime.now(UTC)),
            store,
            open_session=open_session,
        )
    finally:
        wall = time.perf_counter() - started
        _latency(admin, company, None)
        store.delete_tenant(tenant)
    after = admin.intacct_counters(company)
    counts = report.run.counts
    return {
        "wall_s": wall,
        "intacct_requests": after["requests"] - before.get("requests", 0),
        "intacct_transactions": after["transactions"] - before.get("transactions", 0),
        "blixo_requests": counting.count,
        "rows": report.rows,
        "run_counts": counts,
        "outcome": report.run.outcome.value,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
    }


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by each process of the local stack (ministack, both sandboxes)."""
    pids = json.loads((ROOT / ".local" / "pids.json").read_text())
    out = {}
    for name, pid in pids.items():
        fields = proc_stat(pid)
        if fields is not None:
            out[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def measure(company: str, latency: Latency) -> dict[str, Any]:
    """`once` in a fresh interpreter: its peak memory is the pull's alone. The CPU the stack's
    processes spent meanwhile says what else the machine's cores were busy with."""
    stack_before = cpu_seconds()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.pull",
            "--once",
            json.dumps({"company": company, "latency": asdict(latency)}),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the pull run failed: {out.stderr.strip()[-2000:]}")
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    stack_after = cpu_seconds()
    result["cpu_s"] = {
        "pull": result.pop("cpu_s"),
        **{name: round(stack_after[name] - stack_before.get(name, 0.0), 1) for name in stack_after},
    }
    return result


# ------------------------------------------------------------------------- the other ways
def _client(doc: dict[str, Any], company: str, concurrency: int) -> IntacctClient:
    return sandbox_intacct_client(
        doc,
        company=company,
        entity=ENTITY,
        retry=RetryPolicy(attempts=4, initial=0.5, maximum=10.0),
        limiter=CompanyLimiter(concurrency),
    )


def _reads() -> list[tuple[str, tuple[str, ...], str, str]]:
    """What the pull reads, object by object: (object, fields, filter field, filter value); the
    other two ways read the same records with the same fields."""
    out: list[tuple[str, tuple[str, ...], str, str]] = []
    for spec in FLOWS:
        definition = {"invoices": "Sales Invoice", "credit_notes": "Sales Return"}.get(spec.name, "")
        out.append((spec.intacct_object, spec.fields, "DOCPARID" if definition else "", definition))
        if spec.children is not None and spec.name != "credit_notes":  # one read of all lines
            out.append((spec.children.object, spec.children.fields, "", ""))
    return out


def ids_then_read(doc: dict[str, Any], admin: Sandboxes, company: str, latency: Latency) -> dict[str, Any]:
    """The common pattern: record numbers with readByQuery (1000 a page), then `read` of 100
    records a request, two requests in flight (the company's limit)."""
    client = _client(doc, company, latency.intacct_concurrency)
    _latency(admin, company, latency)
    before = admin.intacct_counters(company)
    started = time.perf_counter()
    records = 0
    try:
        with ThreadPoolExecutor(latency.intacct_concurrency) as pool:
            for obj, fields, field, value in _reads():
                where = f"{field} = '{value}'" if field else ""
                keys = [
                    str(r["RECORDNO"]) for r in client.read_by_query(obj, ["RECORDNO"], where, pagesize=1000)
                ]
                chunks = [keys[i : i + fn.MAX_READ_KEYS] for i in range(0, len(keys), fn.MAX_READ_KEYS)]

                def read(chunk: list[str], o: str = obj, f: tuple[str, ...] = fields) -> list[Any]:
                    return client.read(o, chunk, f, functions_per_request=1)

                for got in pool.map(read, chunks):
                    records += len(got)
    finally:
        wall = time.perf_counter() - started
        _latency(admin, company, None)
    after = admin.intacct_counters(company)
    return {
        "wall_s": wall,
        "intacct_requests": after["requests"] - before.get("requests", 0),
        "records": records,
    }


def sageintacctsdk_reads(
    doc: dict[str, Any], admin: Sandboxes, company: str, latency: Latency
) -> dict[str, Any]:
    """PyPI `sageintacctsdk` as its users call it: `get_all_generator` per object (a count,
    then `query` pages of 2000 by offset), one request at a time."""
    sandbox = doc["intacct"]
    original = ApiBase.__init__

    def init(self: ApiBase, *a: Any, **kw: Any) -> None:
        original(self, *a, **kw)
        self._ApiBase__api_url = sandbox["url"]  # the SDK has no URL option

    ApiBase.__init__ = init
    try:
        sdk = SageIntacctSDK(
            sender_id=sandbox["sender_id"],
            sender_password=sandbox["sender_password"],
            user_id=sandbox["user_id"],
            company_id=company,
            user_password=sandbox["user_password"],
            entity_id=ENTITY,
        )
        _latency(admin, company, latency)
        before = admin.intacct_counters(company)
        started = time.perf_counter()
        records = 0
        try:
            for obj, fields, field, value in _reads():
                api = ApiBase(dimension=obj, pagesize=PAGE)
                api.set_sender_id(sandbox["sender_id"])
                api.set_sender_password(sandbox["sender_password"])
                api.set_show_private(False)
                api.set_session_id(sdk.customers._ApiBase__session_id)
                pages = api.get_all_generator(field=field or None, value=value or None, fields=list(fields))
                for page in pages:
                    records += len(page)
        finally:
            wall = time.perf_counter() - started
            _latency(admin, company, None)
    finally:
        ApiBase.__init__ = original
    after = admin.intacct_counters(company)
    return {
        "wall_s": wall,
        "intacct_requests": after["requests"] - before.get("requests", 0),
        "records": records,
    }


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--once":
        print(json.dumps(once(json.loads(argv[2]))))
        return 0
    print("usage: python -m bench.pull --once '<json>' (make bench runs the whole benchmark)")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
