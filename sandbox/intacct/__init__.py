"""A local stand-in for the Sage Intacct XML gateway (never deployed; never imports bisync).

handle = start_server(port=0)       # in-process, ephemeral port
handle.gateway_url                  # http://127.0.0.1:PORT/ia/xml/xmlgw.phtml
handle.stop()
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sandbox.intacct.seed import COMPANY_ID, ENTITIES, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD
from sandbox.intacct.server import GATEWAY_PATH, READ_TIMEOUT_SECONDS, Sandbox, SandboxHTTPServer

__all__ = [
    "COMPANY_ID",
    "ENTITIES",
    "GATEWAY_PATH",
    "SENDER_ID",
    "SENDER_PASSWORD",
    "USER_ID",
    "USER_PASSWORD",
    "SandboxHandle",
    "start_server",
]


@dataclass
class SandboxHandle:
    server: SandboxHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def gateway_url(self) -> str:
        return f"{self.url}{GATEWAY_PATH}"

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def credentials(self) -> dict[str, str]:
        """The block `make up` records under `intacct` in .local/stack.json."""
        return {
            "url": self.gateway_url,
            "sender_id": SENDER_ID,
            "sender_password": SENDER_PASSWORD,
            "company_id": COMPANY_ID,
            "user_id": USER_ID,
            "user_password": USER_PASSWORD,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    db: str = ":memory:",
    *,
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
) -> SandboxHandle:
    """Start the sandbox in a background thread; port 0 picks a free port.

    `read_timeout_seconds`: how long a started request may stay silent before it is answered
    400 (short body) or its connection closed (request line or headers cut off)."""
    server = SandboxHTTPServer((host, port), Sandbox(db), read_timeout_seconds)
    thread = threading.Thread(target=server.serve_forever, name="intacct-sandbox", daemon=True)
    thread.start()
    return SandboxHandle(server, thread)
