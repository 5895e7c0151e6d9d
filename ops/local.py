"""Access to the local stack described by .local/stack.json (for the demo and operators' tools)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
STACK_JSON = ROOT / ".local" / "stack.json"


class StackNotUpError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalStack:
    doc: dict[str, Any]

    @classmethod
    def load(cls, path: Path = STACK_JSON) -> LocalStack:
        if not path.exists():
            raise StackNotUpError(f"{path} not found: run `make up` first")
        return cls(json.loads(path.read_text()))

    def _kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.doc["aws_endpoint"],
            "region_name": self.doc["region"],
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",  # ministack's dummy credentials
        }

    def client(self, service: str) -> Any:
        return boto3.client(service, **self._kwargs())  # type: ignore[call-overload]

    def table(self) -> Any:
        return boto3.resource("dynamodb", **self._kwargs()).Table(self.doc["sync_table"])

    def save(self, path: Path = STACK_JSON) -> None:
        path.write_text(json.dumps(self.doc, indent=2) + "\n")
