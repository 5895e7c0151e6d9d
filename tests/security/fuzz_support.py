"""A small time-boxed mutation fuzzer for the security suite.

`fuzz(target, seeds, seconds=...)` feeds `target` inputs made from `seeds` by random
mutations (byte flips, inserts, deletions, truncation, splices, deep nesting, huge numbers,
bad UTF-8, format-specific tokens) until the time is up. The target returns normally or
raises one of the module's own typed errors; anything else is a crash, returned with the input
that caused it so the test can show it (and it can be kept as a regression case).

FUZZ_SECONDS overrides the time per target (default 15 s); FUZZ_SEED fixes the random seed
(default: a fresh one, printed with any crash so it can be replayed).
"""

from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

DEFAULT_SECONDS = 15.0


def fuzz_seconds() -> float:
    return float(os.environ.get("FUZZ_SECONDS") or DEFAULT_SECONDS)


def fuzz_seed() -> int:
    raw = os.environ.get("FUZZ_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(1 << 32)


XML_TOKENS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&lol;",
    b"&#0;",
    b"&#xD800;",
    b"&#13;",
    b"]]>",
    b"<![CDATA[",
    b"<!DOCTYPE response [<!ENTITY a 'b'>]>",
    b'<!ENTITY x SYSTEM "file:///etc/passwd">',
    b"<?xml version='1.0'?>",
    b"<?pi data?>",
    b"<!-- c -->",
    b'<data listtype="x" count="-1" numremaining="99999999999999999999999">',
    b"<result>",
    b"</result>",
    b"<status>failure</status>",
    b"<errormessage><error><errorno>XL03000006</errorno></error></errormessage>",
    b"<key></key>",
    b"<sessiontimeout>9999-99-99T99:99:99</sessiontimeout>",
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></a>',
    b"\x00",
    b"\xef\xbb\xbf",
]
JSON_TOKENS = [
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\udfff\\ud800",
    b"NaN",
    b"Infinity",
    b"-0",
    b"1e400",
    b"1e-400",
    b"123456789012345678901234567890.123456789",
    b"{}",
    b"[]",
    b"null",
    b"true",
    b',"id":"dup"',
    b',"amount":1e999999',
    b',"quantity":-1',
    b'"type":"invoice.created"',
    b'"type":"payment.created"',
    b'"status":"voided"',
    b"\xef\xbb\xbf",
]
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
_DIGITS = re.compile(rb"\d+(\.\d+)?")


@dataclass
class Crash:
    data: bytes
    error: str
    trace: str


@dataclass
class FuzzReport:
    seed: int
    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    crashes: list[Crash] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"seed {self.seed} (replay with FUZZ_SEED={self.seed}), {self.runs} runs"]
        for crash in self.crashes[:3]:
            lines += [f"--- {crash.error} on input {crash.data[:400]!r}", crash.trace[-2000:]]
        return "\n".join(lines)


class Mutator:
    def __init__(
        self, rng: random.Random, seeds: Sequence[bytes], tokens: Sequence[bytes], nest: tuple[bytes, bytes]
    ):
        self.rng = rng
        self.seeds = list(seeds)
        self.tokens = list(tokens)
        self.open, self.close = nest

    def one(self, data: bytes) -> bytes:
        r = self.rng
        n = len(data)
        pos = r.randrange(n + 1)
        choice = r.randrange(11)
        if choice == 0 and n:  # flip a few bits
            out = bytearray(data)
            for _ in range(r.randint(1, 8)):
                i = r.randrange(n)
                out[i] ^= 1 << r.randrange(8)
            return bytes(out)
        if choice == 1:  # random bytes
            return data[:pos] + r.randbytes(r.randint(1, 16)) + data[pos:]
        if choice == 2 and n:  # delete a range
            end = min(n, pos + r.randint(1, 64))
            return data[:pos] + data[end:]
        if choice == 3:  # truncate
            return data[:pos]
        if choice == 4 and n:  # duplicate a range
            end = min(n, pos + r.randint(1, 256))
            return data[:end] + data[pos:end] * r.randint(1, 4) + data[end:]
        if choice == 5:  # splice with another seed
            other = r.choice(self.seeds)
            cut = r.randrange(len(other) + 1)
            return data[:pos] + other[cut:]
        if choice == 6:  # deep nesting
            depth = r.choice([70, 1_000, 50_000])
            return data[:pos] + self.open * depth + self.close * r.choice([0, depth]) + data[pos:]
        if choice == 7:  # a huge number instead of one of the numbers
            numbers = list(_DIGITS.finditer(data))
            huge = r.choice(
                [b"9" * r.choice([30, 5_000]), b"1e999999999", b"-0.000000000000000000001", b"1" + b"0" * 400]
            )
            if numbers:
                m = r.choice(numbers)
                return data[: m.start()] + huge + data[m.end() :]
            return data[:pos] + huge + data[pos:]
        if choice == 8:  # bad UTF-8
            return data[:pos] + r.choice(BAD_UTF8) + data[pos:]
        if choice == 9:  # a format token
            return data[:pos] + r.choice(self.tokens) + data[pos:]
        return data[:pos] + data[pos:].upper() if r.random() < 0.5 else data[:pos] + data[pos:].lower()

    def input(self) -> bytes:
        data = self.rng.choice(self.seeds)
        for _ in range(self.rng.choice([1, 1, 2, 3, 6])):
            data = self.one(data)
        return data


def fuzz(
    target: Callable[[bytes], str],
    seeds: Sequence[bytes],
    *,
    allowed: tuple[type[BaseException], ...],
    tokens: Sequence[bytes],
    nest: tuple[bytes, bytes],
    seconds: float | None = None,
    seed: int | None = None,
) -> FuzzReport:
    """Run `target` on mutated seeds for `seconds`; it returns a label for the outcome (counted
    in the report) or raises. `allowed` errors are counted by class; any other is a crash.
    The seeds themselves run first, unmutated."""
    report = FuzzReport(seed if seed is not None else fuzz_seed())
    rng = random.Random(report.seed)
    mutator = Mutator(rng, seeds, tokens, nest)
    deadline = time.monotonic() + (fuzz_seconds() if seconds is None else seconds)
    pending = list(seeds)
    while pending or time.monotonic() < deadline:
        data = pending.pop(0) if pending else mutator.input()
        report.runs += 1
        try:
            label = target(data)
        except allowed as exc:
            label = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - the finding: anything the module does not own
            report.crashes.append(Crash(data, f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()))
            label = "CRASH"
        report.outcomes[label] = report.outcomes.get(label, 0) + 1
        if len(report.crashes) >= 5:
            break
    return report
