"""The local stack: ministack + the Intacct and Blixo sandboxes + the real template deployed.

`python -m scripts.stack up` starts what is not running yet (by pid, so running it twice is
safe), builds with `sam build`, deploys with `sam deploy` pointed at ministack, and writes
`.local/stack.json`. `python -m scripts.stack down` stops exactly the processes `up` started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

import sandbox.blixo as blixo_sandbox
import sandbox.intacct as intacct_sandbox
from ops.demo_tenant import DEMO_TENANT, ensure_demo_tenant
from ops.local import LocalStack

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
PIDS = LOCAL / "pids.json"
STACK_JSON = LOCAL / "stack.json"
VENV_PY = ROOT / ".venv" / "bin" / "python"
MINISTACK_PY = ROOT / ".ministack-venv" / "bin" / "python"
SAM = ROOT / ".venv" / "bin" / "sam"

HOST = "127.0.0.1"
REGION = os.environ.get("AWS_REGION", "us-east-1")
STACK_NAME = os.environ.get("STACK_NAME", "blixo-intacct-local")
STAGE = "dev"
ARTIFACT_BUCKET = "sam-artifacts-local"
PORTS = {
    "ministack": int(os.environ.get("MINISTACK_PORT", "4566")),
    "intacct": int(os.environ.get("INTACCT_SANDBOX_PORT", "8101")),
    "blixo": int(os.environ.get("BLIXO_SANDBOX_PORT", "8102")),
}
# Local timeouts are short so a failing message reaches its DLQ in about a minute (the
# visibility timeout stays six times the function timeout, as in production).
LOCAL_PARAMETERS = {
    "Stage": STAGE,
    "LogLevel": "INFO",
    "MaxReceiveCount": "2",
    "PushTimeoutSeconds": "5",
    "PushVisibilityTimeoutSeconds": "30",
    "PullTimeoutSeconds": "60",
    "PullVisibilityTimeoutSeconds": "360",
}


LOCAL_WEBHOOK_RETRY_DELAYS = "1,2,5,10,30,60"


def aws_env() -> dict[str, str]:
    """Dummy credentials and the ministack endpoint for every AWS call made from here."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=f"http://{HOST}:{PORTS['ministack']}",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        SAM_CLI_TELEMETRY="0",
    )
    return env


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


# ---------------------------------------------------------------------------- processes
def read_pids() -> dict[str, int]:
    if PIDS.exists():
        return {k: int(v) for k, v in json.loads(PIDS.read_text()).items()}
    return {}


def write_pids(pids: dict[str, int]) -> None:
    LOCAL.mkdir(exist_ok=True)
    PIDS.write_text(json.dumps(pids, indent=2))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not reaped) is not alive.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    return state != "Z"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((HOST, port)) == 0


def wait_for_port(name: str, port: int, pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if not alive(pid):
            raise SystemExit(f"{name} exited while starting; see .local/{name}.log")
        time.sleep(0.2)
    raise SystemExit(f"{name} did not open port {port} within {timeout:.0f}s; see .local/{name}.log")


def start(
    name: str, argv: list[str], env: dict[str, str] | None = None, fresh_state: Path | None = None
) -> int:
    """Start `name` unless it already runs. A sandbox that starts does so with empty state
    (`fresh_state` is removed): ministack keeps its state in memory, so after a restart the
    sandboxes must not remember records, mappings or webhook URLs of a stack that is gone."""
    pids = read_pids()
    pid = pids.get(name)
    if pid and alive(pid) and port_open(PORTS[name]):
        log(f"{name} already running (pid {pid}, port {PORTS[name]})")
        return pid
    if fresh_state is not None:
        # The write-ahead log and shared memory go too, or SQLite would replay the old data.
        for path in (fresh_state, Path(f"{fresh_state}-wal"), Path(f"{fresh_state}-shm")):
            path.unlink(missing_ok=True)
    if port_open(PORTS[name]):
        raise SystemExit(
            f"port {PORTS[name]} is taken by a process this stack did not start; stop it or set "
            f"{name.upper()}_PORT"
        )
    LOCAL.mkdir(exist_ok=True)
    out = (LOCAL / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    pids[name] = proc.pid
    write_pids(pids)
    wait_for_port(name, PORTS[name], proc.pid)
    log(f"{name} started (pid {proc.pid}, port {PORTS[name]})")
    return proc.pid


def stop_all() -> None:
    pids = read_pids()
    if not pids:
        log("nothing to stop")
    for name, pid in pids.items():
        if not alive(pid):
            log(f"{name} not running")
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)
        log(f"{name} stopped (pid {pid})")
    if PIDS.exists():
        PIDS.unlink()
    if STACK_JSON.exists():
        STACK_JSON.unlink()


# ---------------------------------------------------------------------------- AWS
def run(argv: list[str], env: dict[str, str]) -> None:
    log(" ".join(argv[:3]) + " ...")
    subprocess.run(argv, cwd=ROOT, env=env, check=True)


def deploy(env: dict[str, str]) -> dict[str, str]:
    run(
        [str(SAM), "build", "--template-file", "template.yaml", "--build-dir", ".aws-sam/build", "--cached"],
        env,
    )
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=REGION)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if ARTIFACT_BUCKET not in existing:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    params = dict(LOCAL_PARAMETERS)
    params["IntacctEndpointUrl"] = f"http://{HOST}:{PORTS['intacct']}/ia/xml/xmlgw.phtml"
    params["BlixoApiUrl"] = f"http://{HOST}:{PORTS['blixo']}/v1"
    run(
        [
            str(SAM), "deploy",
            "--template-file", ".aws-sam/build/template.yaml",
            "--stack-name", STACK_NAME,
            "--s3-bucket", ARTIFACT_BUCKET,
            "--region", REGION,
            "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND",
            "--no-confirm-changeset", "--no-fail-on-empty-changeset",
            "--parameter-overrides", *[f"{k}={v}" for k, v in params.items()],
        ],
        env,
    )  # fmt: skip
    cfn = boto3.client("cloudformation", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=REGION)
    stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def api_key_value(key_id: str, env: dict[str, str]) -> str:
    """The Accounting Sync API key's value (API Gateway generated it; no output can carry it)."""
    apigateway = boto3.client("apigateway", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=REGION)
    return str(apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"])


def stack_document(outputs: dict[str, str], api_key: str) -> dict[str, Any]:
    endpoint = f"http://{HOST}:{PORTS['ministack']}"
    doc: dict[str, Any] = {
        "aws_endpoint": endpoint,
        "region": REGION,
        "stack_name": STACK_NAME,
        "stage": STAGE,
        # ministack serves REST APIs under /_aws/execute-api/<apiId>/<stage>/<path>.
        "webhook_url": (
            f"{endpoint}/_aws/execute-api/{outputs['WebhookApiId']}/{STAGE}/webhooks/blixo/{{tenantId}}"
        ),
        "push_queue_url": outputs["PushQueueUrl"],
        "push_dlq_url": outputs["PushDlqUrl"],
        "pull_queue_url": outputs["PullQueueUrl"],
        "pull_dlq_url": outputs["PullDlqUrl"],
        "sync_table": outputs["SyncTableName"],
        "idempotency_table": outputs["IdempotencyTableName"],
        "tenant_secret_prefix": outputs["TenantSecretPrefix"],
        # The Accounting Sync API (routes under /tenants/{tenantId}/...): a client sends api_key
        # in the x-api-key header; without it API Gateway answers 403.
        "api_url": f"{endpoint}/_aws/execute-api/{outputs['AccountingSyncApiId']}/{STAGE}",
        "api_key": api_key,
        "tenant_id": DEMO_TENANT,
        "dashboard": outputs["DashboardName"],
        "functions": {
            "webhook": f"blixo-intacct-{STAGE}-webhook",
            "push": f"blixo-intacct-{STAGE}-push",
            "pull_schedule": f"blixo-intacct-{STAGE}-pull-schedule",
            "pull": f"blixo-intacct-{STAGE}-pull",
            "api": f"blixo-intacct-{STAGE}-api",
        },
    }
    doc.update(sandbox_entries())
    return doc


def sandbox_entries() -> dict[str, Any]:
    """The sandboxes' URLs and their default credentials (the sandboxes' own constants)."""
    return {
        "intacct": {
            "url": f"http://{HOST}:{PORTS['intacct']}{intacct_sandbox.GATEWAY_PATH}",
            "sender_id": intacct_sandbox.SENDER_ID,
            "sender_password": intacct_sandbox.SENDER_PASSWORD,
            "company_id": intacct_sandbox.COMPANY_ID,
            "user_id": intacct_sandbox.USER_ID,
            "user_password": intacct_sandbox.USER_PASSWORD,
            "entities": list(intacct_sandbox.ENTITIES),
        },
        "blixo": {"url": f"http://{HOST}:{PORTS['blixo']}/v1", "api_key": blixo_sandbox.DEFAULT_API_KEY},
    }


def health(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def up() -> None:
    for required in (VENV_PY, MINISTACK_PY, SAM):
        if not required.exists():
            raise SystemExit(f"{required} missing: run `make setup` first")
    env = aws_env()
    os.environ.update(env)  # this process's own boto3 calls go to ministack too
    ms_env = dict(env)
    ms_env.update(GATEWAY_PORT=str(PORTS["ministack"]), BIND_HOST=HOST, MINISTACK_REGION=REGION)
    start("ministack", [str(MINISTACK_PY), "-m", "ministack"], ms_env)
    for name in ("intacct", "blixo"):
        argv = [
            str(VENV_PY), "-m", f"sandbox.{name}",
            "--host", HOST, "--port", str(PORTS[name]),
            "--db", str(LOCAL / f"{name}.sqlite3"),
        ]  # fmt: skip
        if name == "blixo":
            # Production retries a failed webhook hourly; locally a retry comes within seconds.
            argv += ["--webhook-retry-delays", LOCAL_WEBHOOK_RETRY_DELAYS]
        start(name, argv, fresh_state=LOCAL / f"{name}.sqlite3")
    outputs = deploy(env)
    doc = stack_document(outputs, api_key_value(outputs["AccountingSyncApiKeyId"], env))
    STACK_JSON.write_text(json.dumps(doc, indent=2) + "\n")
    demo = ensure_demo_tenant(LocalStack.load(STACK_JSON))
    log(f"demo tenant {demo['tenant_id']} onboarded; Blixo sandbox webhooks -> {demo['webhook_url']}")
    log(f"ready: {STACK_JSON.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args()
    if args.command == "up":
        up()
    elif args.command == "down":
        stop_all()
    else:
        for name, pid in read_pids().items():
            print(f"{name}: pid {pid} {'running' if alive(pid) else 'stopped'} port {PORTS[name]}")


if __name__ == "__main__":
    main()
