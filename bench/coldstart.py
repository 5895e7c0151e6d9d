"""Cold start: each handler's import and init in a fresh interpreter (what a Lambda cold start
pays before its first event), and the deployed size of each function and of the shared layer
as `sam build` made them (boto3 comes with the Lambda runtime and is not in them)."""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from ops.local import ROOT

BUILD = ROOT / ".aws-sam" / "build"
HANDLERS = {
    "webhook": "WebhookFunction",
    "push": "PushFunction",
    "pull_schedule": "PullScheduleFunction",
    "pull": "PullFunction",
    "api": "AccountingSyncFunction",
}
EXCLUDED = ("boto3", "botocore", "s3transfer")
RUNS = 5


def runtime() -> tuple[str, Path, str]:
    """The interpreter and layer a deployed function gets: ministack's venv (boto3 without the
    dev tools' extras) and the layer `sam build` made, when both exist; else the dev venv."""
    built = BUILD / "SharedLayer" / "python"
    ministack = ROOT / ".ministack-venv" / "bin" / "python"
    if built.is_dir() and ministack.exists():
        return str(ministack), built, "built layer, ministack's interpreter"
    return (
        sys.executable,
        ROOT / "layers" / "shared",
        "source layer, dev venv (run `make up` for the built one)",
    )


def init_ms(name: str, python: str, layer: Path) -> float:
    """Median of RUNS fresh interpreters importing the handler module (its init included)."""
    code = (
        "import time,importlib.util,sys;"
        f"sys.path.insert(0,{str(layer)!r});"
        "t=time.perf_counter();"
        f"s=importlib.util.spec_from_file_location('app',{str(ROOT / 'functions' / name / 'app.py')!r});"
        "m=importlib.util.module_from_spec(s);s.loader.exec_module(m);"
        "print(time.perf_counter()-t)"
    )
    env = {
        "SYNC_TABLE": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q.fifo",
        "PULL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q.fifo",
    }
    runs = []
    for _ in range(RUNS):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, check=True)
        runs.append(float(out.stdout.strip()) * 1000)
    return statistics.median(runs)


def _zipped(directory: Path) -> tuple[float, float]:
    """(zip MB, unzipped MB) of a directory, without boto3/botocore and byte-code caches."""
    buffer = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory)
            if not path.is_file() or rel.parts[0].startswith(EXCLUDED) or "__pycache__" in rel.parts:
                continue
            raw += path.stat().st_size
            archive.write(path, rel.as_posix())
    return buffer.tell() / 1_048_576, raw / 1_048_576


def measure() -> dict[str, Any]:
    python, layer, label = runtime()
    layer_zip, layer_raw = _zipped(BUILD / "SharedLayer") if (BUILD / "SharedLayer").is_dir() else (0.0, 0.0)
    handlers: dict[str, Any] = {}
    for name, logical in HANDLERS.items():
        code_zip, code_raw = _zipped(BUILD / logical) if (BUILD / logical).is_dir() else (0.0, 0.0)
        handlers[name] = {
            "init_ms": round(init_ms(name, python, layer), 1),
            "package_mb": round(code_zip + layer_zip, 3),  # what one function deploys: its code + the layer
            "code_mb": round(code_zip, 3),
            "unzipped_mb": round(code_raw + layer_raw, 2),
        }
    return {
        "runtime": label,
        "runs_per_handler": RUNS,
        "layer_mb": round(layer_zip, 3),
        "layer_unzipped_mb": round(layer_raw, 2),
        "handlers": handlers,
        "init_ms": {k: v["init_ms"] for k, v in handlers.items()},
        "package_mb": {k: v["package_mb"] for k, v in handlers.items()},
    }
