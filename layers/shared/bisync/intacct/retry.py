"""How the client retries: exponential backoff with full jitter, at least a 429's Retry-After."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryCallState

from bisync.intacct.errors import IntacctError, RateLimitError
from bisync.intacct.limiter import NoSlotError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; `sleep` is injectable so tests run instantly."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = field(default=random.uniform)

    def wait(self, state: RetryCallState) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** (state.attempt_number - 1))
        delay = self.jitter(0.0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after:
            delay = max(delay, min(exc.retry_after, self.maximum))
        return delay


def retryable(exc: BaseException) -> bool:
    # No slot is not retried here: the wait for one was the retry, and waiting again per
    # attempt would outlast the function (the message fails as transient; SQS retries it).
    return isinstance(exc, IntacctError) and exc.retryable and not isinstance(exc, NoSlotError)


def retry_after(headers: Any) -> float | None:
    value = None
    for key, item in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            value = item
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
