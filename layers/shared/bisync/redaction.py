"""Strip secrets out of text a remote server sent back before it goes into an exception.

A server's error text is not ours: a 401 may quote the credential it refused. Two passes: any
run of 6+ characters that also occurs in a known secret, and anything shaped like a key or a
token (an Authorization scheme and its value, or a long mixed run of letters and digits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_MIN_FRAGMENT = 6
_AUTH_SCHEME = re.compile(r"(?i)\b(basic|bearer|token|apikey|api[-_ ]?key)\b([\s:=\"']+)([^\s,;\"']+)")
# 16+ characters of the base64/url-safe alphabet holding a digit: keys, tokens, hashes.
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/=_-]*\d)[A-Za-z0-9+/=_-]{16,}")


def _fragments(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of `text` of at least _MIN_FRAGMENT characters that occur inside `secret`."""
    if len(secret) < _MIN_FRAGMENT:
        return [(m.start(), m.end()) for m in re.finditer(re.escape(secret), text)] if secret else []
    grams = {secret[i : i + _MIN_FRAGMENT] for i in range(len(secret) - _MIN_FRAGMENT + 1)}
    spans: list[tuple[int, int]] = []
    i = 0
    while i <= len(text) - _MIN_FRAGMENT:
        if text[i : i + _MIN_FRAGMENT] in grams:
            end = i + _MIN_FRAGMENT
            while end < len(text) and text[i : end + 1] in secret:
                end += 1
            spans.append((i, end))
            i = end
        else:
            i += 1
    return spans


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        spans.extend(_fragments(text, secret))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REDACTED + text[end:]
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _TOKEN.sub(REDACTED, text)
