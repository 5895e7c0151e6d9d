"""Filters: the `query` XML filter grammar and a subset of readByQuery's SQL-like grammar.

Both compile to a predicate over a getter (field name -> internal value). Values in requests are
in gateway form (mm/dd/yyyy dates); ISO dates are refused with DL02000001 as real Intacct does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.catalog import field_type
from sandbox.intacct.values import IntacctError, fail, parse_decimal, parse_us_date, parse_us_timestamp

Getter = Callable[[str], str]
Predicate = Callable[[Getter], bool]
FieldCheck = Callable[[str], str]  # validates a field name, returns its canonical spelling

SortKey = tuple[int, Decimal | str]


def sort_key(obj: str, name: str, value: str) -> SortKey:
    """Empty sorts first; numbers numerically; dates/timestamps are stored sortable."""
    if value == "":
        return (0, "")
    if field_type(obj, name) == "number":
        num = parse_decimal(value)
        if num is not None:
            return (1, num)
    return (2, value)


def filter_value(obj: str, name: str, text: str) -> str:
    """A filter literal -> internal value; bad dates (ISO included) are DL02000001."""
    kind = field_type(obj, name)
    text = text.strip()
    if kind == "date":
        parsed = parse_us_date(text)
        if parsed is None:
            ts = parse_us_timestamp(text)
            parsed = ts[:10] if ts else None
        if parsed is None:
            raise _bad_date(name, text)
        return parsed
    if kind == "timestamp":
        ts = parse_us_timestamp(text)
        if ts is None:
            raise _bad_date(name, text)
        return ts
    if kind == "number":
        if parse_decimal(text) is None:
            raise fail(
                "DL02000001", f"Invalid number value {text} for field {name}", description="Invalid number"
            )
        return text
    return text


def _bad_date(name: str, text: str) -> IntacctError:
    return fail(
        "DL02000001",
        f"Invalid date value {text} for field {name}. Dates must be in the format mm/dd/yyyy.",
        description="Invalid date",
        correction="Use the format mm/dd/yyyy",
    )


def _fold(key: SortKey, ci: bool) -> SortKey:
    """caseinsensitive: text compares lowercased (numbers and dates are unaffected)."""
    return (key[0], key[1].lower()) if ci and isinstance(key[1], str) else key


def _compare(obj: str, name: str, op: str, literal: str, ci: bool = False) -> Predicate:
    target = _fold(sort_key(obj, name, literal), ci)

    def pred(get: Getter) -> bool:
        actual = get(name)
        if actual == "":
            # SQL semantics: nothing compares to NULL except via isnull.
            return op == "!=" and literal != ""
        key = _fold(sort_key(obj, name, actual), ci)
        if op == "=":
            return key == target
        if op == "!=":
            return key != target
        if key[0] != target[0]:
            return False
        a, b = key[1], target[1]
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]

    return pred


def _like(name: str, pattern: str, negate: bool, ci: bool = False) -> Predicate:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(f"^{regex}$", re.DOTALL | (re.IGNORECASE if ci else 0))

    def pred(get: Getter) -> bool:
        actual = get(name)
        if actual == "":
            return False
        return bool(compiled.match(actual)) != negate

    return pred


def _in(obj: str, name: str, values: list[str], negate: bool, ci: bool = False) -> Predicate:
    keys = {_fold(sort_key(obj, name, v), ci) for v in values}

    def pred(get: Getter) -> bool:
        actual = get(name)
        if actual == "":
            return False
        return (_fold(sort_key(obj, name, actual), ci) in keys) != negate

    return pred


def _null(name: str, negate: bool) -> Predicate:
    return lambda get: (get(name) == "") != negate


def _all(preds: list[Predicate]) -> Predicate:
    return lambda get: all(p(get) for p in preds)


def _any(preds: list[Predicate]) -> Predicate:
    return lambda get: any(p(get) for p in preds)


# -- query <filter> ------------------------------------------------------------------------------
_COMPARISONS = {
    "equalto": "=",
    "notequalto": "!=",
    "lessthan": "<",
    "lessthanorequalto": "<=",
    "greaterthan": ">",
    "greaterthanorequalto": ">=",
}


def _schema_error(text: str) -> IntacctError:
    return fail("XL03000003", text, description="XML Parse schema error")


def compile_filter(obj: str, node: Element, check: FieldCheck, ci: bool = False) -> Predicate:
    """Compile one filter operator element (the single child of <filter>); `ci` is the
    caseinsensitive option, applied to every comparison."""
    tag = node.tag
    if tag in ("and", "or"):
        parts = [compile_filter(obj, child, check, ci) for child in node]
        if len(parts) < 2:
            raise _schema_error(
                f"Error 1871: Element '{tag}': Missing child element(s). Expected two or more."
            )
        return _all(parts) if tag == "and" else _any(parts)
    fields = [f.text or "" for f in node.findall("field")]
    values = [v.text or "" for v in node.findall("value")]
    if len(fields) != 1:
        raise _schema_error(f"Error 1871: Element '{tag}': Missing child element(s). Expected is ( field ).")
    name = check(fields[0].strip())
    if tag in _COMPARISONS:
        if len(values) != 1:
            raise _schema_error(f"Error 1871: Element '{tag}': Expected exactly one value.")
        return _compare(obj, name, _COMPARISONS[tag], filter_value(obj, name, values[0]), ci)
    if tag == "between":
        if len(values) != 2:
            raise _schema_error("Error 1871: Element 'between': Expected exactly two values.")
        low, high = (filter_value(obj, name, v) for v in values)
        return _all([_compare(obj, name, ">=", low, ci), _compare(obj, name, "<=", high, ci)])
    if tag in ("in", "notin"):
        if not values:
            raise _schema_error(
                f"Error 1871: Element '{tag}': Missing child element(s). Expected is ( value )."
            )
        return _in(obj, name, [filter_value(obj, name, v) for v in values], tag == "notin", ci)
    if tag in ("like", "notlike"):
        if len(values) != 1:
            raise _schema_error(f"Error 1871: Element '{tag}': Expected exactly one value.")
        return _like(name, values[0], tag == "notlike", ci)
    if tag in ("isnull", "isnotnull"):
        return _null(name, tag == "isnotnull")
    raise _schema_error(f"Error 1871: Element '{tag}': This element is not expected.")


# -- readByQuery query string ------------------------------------------------------------------------
# Parentheses and NOT nest at most this deep: the parser recurses (four frames per parenthesis),
# so 100k of them would end in a RecursionError and a dropped connection.
MAX_QUERY_NESTING = 50
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<num>-?[0-9]+(?:\.[0-9]+)?)|(?P<op><=|>=|<>|!=|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _unquote(body: str) -> str:
    """The documented escape is a backslash ('Jane\\'s Deli'); SQL's doubled quote is accepted too."""
    return re.sub(r"\\(.)|''", lambda m: m.group(1) if m.group(1) is not None else "'", body, flags=re.DOTALL)


class _Parser:
    def __init__(self, obj: str, text: str, check: FieldCheck) -> None:
        self.obj = obj
        self.check = check
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise self.error(text[pos:])
            pos = m.end()
            kind = m.lastgroup or ""
            value = m.group(kind)
            if kind == "str":
                value = _unquote(value[1:-1])
            self.tokens.append((kind, value))
        self.i = 0
        self.depth = 0

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_QUERY_NESTING:
            raise fail(
                "DL02000001",
                f"Invalid query: parentheses and NOT nest deeper than {MAX_QUERY_NESTING} levels",
                description="Query Failed",
                correction="Check the query string",
            )

    def error(self, near: str) -> IntacctError:
        return fail(
            "DL02000001",
            f"Invalid query: syntax error near '{near[:40]}'",
            description="Query Failed",
            correction="Check the query string",
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.error("end of query")
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].upper() in words:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise self.error(self.peek()[1])  # type: ignore[index]
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("OR"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else _any(parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.keyword("AND"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else _all(parts)

    def not_expr(self) -> Predicate:
        if self.keyword("NOT"):
            self.nest()
            inner = self.not_expr()
            self.depth -= 1
            return lambda get: not inner(get)
        return self.primary()

    def literal(self) -> str:
        kind, value = self.take()
        if kind not in ("str", "num"):
            raise self.error(value)
        return value

    def primary(self) -> Predicate:
        tok = self.peek()
        if tok == ("punct", "("):
            self.i += 1
            self.nest()
            inner = self.or_expr()
            if self.take() != ("punct", ")"):
                raise self.error("missing )")
            self.depth -= 1
            return inner
        kind, word = self.take()
        if kind != "word":
            raise self.error(word)
        name = self.check(word)
        obj = self.obj
        if self.keyword("IS"):
            negate = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise self.error("IS")
            return _null(name, negate)
        negate = self.keyword("NOT")
        if self.keyword("LIKE"):
            return _like(name, self.literal(), negate)
        if self.keyword("IN"):
            if self.take() != ("punct", "("):
                raise self.error("IN")
            values = [filter_value(obj, name, self.literal())]
            while self.peek() == ("punct", ","):
                self.i += 1
                values.append(filter_value(obj, name, self.literal()))
            if self.take() != ("punct", ")"):
                raise self.error("missing )")
            return _in(obj, name, values, negate)
        if negate:
            raise self.error("NOT")
        op_kind, op = self.take()
        if op_kind != "op":
            raise self.error(op)
        op = "!=" if op == "<>" else op
        return _compare(obj, name, op, filter_value(obj, name, self.literal()))


def compile_sql(obj: str, text: str, check: FieldCheck) -> Predicate:
    if not text.strip():
        return lambda get: True
    return _Parser(obj, text, check).parse()
