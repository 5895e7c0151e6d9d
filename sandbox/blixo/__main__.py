"""`python -m sandbox.blixo --host 127.0.0.1 --port PORT [--db PATH] [--api-key KEY]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from sandbox.blixo.server import (
    DEFAULT_API_KEY,
    DEFAULT_CONCURRENCY,
    IDEMPOTENCY_WAIT_SECONDS,
    READ_TIMEOUT_SECONDS,
    start_server,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.blixo", description="Blixo API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766, help="0 picks a free port (printed at start)")
    parser.add_argument("--db", default=":memory:", help="SQLite file; default in memory")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help=f"default {DEFAULT_API_KEY}")
    parser.add_argument("--extra-api-key", action="append", default=[], help="more keys, one account each")
    parser.add_argument("--max-concurrency", type=int, default=DEFAULT_CONCURRENCY, help="per API key")
    parser.add_argument(
        "--webhook-retry-delays",
        default=None,
        help="comma-separated seconds between delivery attempts (default: hourly, 48 attempts)",
    )
    parser.add_argument(
        "--idempotency-wait",
        type=float,
        default=IDEMPOTENCY_WAIT_SECONDS,
        help="seconds a request waits for an in-flight request with the same Idempotency-Key before 409",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=READ_TIMEOUT_SECONDS,
        help="seconds a started request may stay silent (short body) before a 400 or a close",
    )
    parser.add_argument("--verbose", action="store_true", help="log one line per request to stderr")
    args = parser.parse_args(argv)
    delays = (
        [float(x) for x in args.webhook_retry_delays.split(",") if x] if args.webhook_retry_delays else None
    )
    handle = start_server(
        args.host,
        args.port,
        args.db,
        args.api_key,
        extra_api_keys=tuple(args.extra_api_key),
        max_concurrency=args.max_concurrency,
        webhook_retry_delays=delays,
        idempotency_wait_seconds=args.idempotency_wait,
        read_timeout_seconds=args.read_timeout,
        verbose=args.verbose,
    )
    # One JSON line on stdout so scripts (make up) can read the URL, even with --port 0.
    print(json.dumps({"blixo": {"url": handle.url, "admin_url": handle.admin_url}}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
