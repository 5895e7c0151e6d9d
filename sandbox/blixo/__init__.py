"""A local stand-in for the Blixo REST API and webhooks (never deployed; never imports bisync)."""

from sandbox.blixo.server import DEFAULT_API_KEY, App, SandboxHandle, start_server
from sandbox.blixo.webhooks import SIGNATURE_HEADER, sign

__all__ = ["DEFAULT_API_KEY", "SIGNATURE_HEADER", "App", "SandboxHandle", "sign", "start_server"]
