"""`python -m sandbox.intacct --host 127.0.0.1 --port PORT [--db PATH] [--read-timeout SECONDS]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from sandbox.intacct import start_server
from sandbox.intacct.server import READ_TIMEOUT_SECONDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.intacct", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=READ_TIMEOUT_SECONDS,
        help="seconds a started request may stay silent (short body) before a 400 or a close",
    )
    args = parser.parse_args(argv)
    handle = start_server(args.host, args.port, args.db, read_timeout_seconds=args.read_timeout)
    # One JSON line on stdout so a launcher (make up) can record url and credentials.
    print(json.dumps({"intacct": handle.credentials()}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
