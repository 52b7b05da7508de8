"""Rendering of command results as table, json, csv or yaml; one place so every command formats the same way.

The convention (README, Output): rows carry raw values (datetimes, Decimals, None); a table shows a moment as
`2026-12-20 00:00 UTC`, an empty value as `-` and a boolean as yes/no, while CSV, JSON and YAML carry the raw
value: a moment in ISO 8601 with `Z`, an empty cell (CSV) or null, true/false. Amounts are rounded to their
currency's decimals (`present_money`).

What a server sent (a site title, a product or customer name) is data, never terminal control: the human formats
(table, `key  value` pairs, a command's own text layout, error lines) show every control character escaped
(`human`: C0, DEL, C1 and the bidi overrides as `\\x1b`, `\\u202e`...; ordinary unicode is kept). JSON escapes
them itself. CSV keeps values verbatim except that a cell a spreadsheet would run as a formula gets a `'` in front
(`csv_cell`, OWASP's advice; a plain number such as `-4.93` is left alone).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..encoding import dumps, iso_utc, to_jsonable
from ..money import round_money

FORMATS = ("table", "json", "csv", "yaml")


def render_json(value: Any) -> str:
    return dumps(value, indent=2)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def human(text: str, *, keep: str = "\n") -> str:
    """`text` safe for a terminal: every control character but those in `keep` escaped (`\\x1b`, `\\r`, `\\x9b`,
    `\\u202e`); letters of any script are kept."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet cannot run: one starting with `=`, `+`, `-`, `@`, a tab or a CR gets a `'` in front
    (OWASP, CSV injection), unless it is a plain number (`-4.93`, `+12`, `-1e3`: amounts stay numbers)."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return fmt_date(value)
    if isinstance(value, bool):  # a person reads yes/no; CSV carries the raw true/false
        return "yes" if value else "no"
    return human(_cell(value), keep="")


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):  # never Python's True/False: CSV's raw value, as JSON spells it
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table; the columns are the keys of the first row unless given."""
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[_text(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    cols = [human(c, keep="") for c in cols]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .:/@-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # YAML 1.1 readers want a dot in a float with an exponent (1.0e+100)
        text = json.dumps(value)
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS and not text.endswith((" ", ":")) \
            and ": " not in text and " #" not in text:
        return text
    return _yaml_quoted(text)  # numbers as text stay text


_YAML_NAMED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar of printable ASCII: every other character escaped (`\\u00e9`, `\\U0001f600`),
    so that no control character reaches a terminal (as -o json)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _YAML_NAMED:
            out.append(_YAML_NAMED[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _yaml_lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict) and value:
        out = []
        for key, item in value.items():
            name = _yaml_scalar(str(key))  # a key over YAML's 1024-character implicit key limit is explicit
            head = f"{indent}{name}:" if len(name) < 1000 else f"{indent}? {name}\n{indent}:"
            if isinstance(item, dict | list) and item:
                out += [head, *_yaml_lines(item, indent + "  ")]
            else:
                out.append(f"{head} {_yaml_scalar(item) if not isinstance(item, dict | list) else _empty(item)}")
        return out
    if isinstance(value, list) and value:
        out = []
        for item in value:
            if isinstance(item, dict | list) and item:
                inner = _yaml_lines(item, indent + "  ")
                out += [f"{indent}- {inner[0].lstrip()}", *inner[1:]]
            else:
                out.append(f"{indent}- {_yaml_scalar(item) if not isinstance(item, dict | list) else _empty(item)}")
        return out
    return [indent + (_empty(value) if isinstance(value, dict | list) else _yaml_scalar(value))]


def _empty(value: dict[Any, Any] | list[Any]) -> str:
    return "{}" if isinstance(value, dict) else "[]"


def render_yaml(value: Any) -> str:
    """Block-style YAML of JSON-able data (the same values as `render_json`: amounts and moments stay strings,
    any string a YAML reader would take for another type is double-quoted)."""
    return "\n".join(_yaml_lines(to_jsonable(value), ""))


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """RFC 4180 rows joined by `\\n`; a cell holding a CR or LF is quoted (the writer's line terminator is
    `\\r\\n` so that a lone CR is quoted too, then each row's terminator becomes `\\n`)."""
    cols = list(columns or (rows[0].keys() if rows else []))
    table = [[csv_cell(c) for c in cols], *([csv_cell(_cell(r.get(c))) for c in cols] for r in rows)]
    lines = []
    for row in table:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(row)
        lines.append(buf.getvalue()[:-2])
    return "\n".join(lines)


def fmt_money(amount: Decimal | None, currency: str = "") -> str:
    """An amount rounded to its currency's decimals (UM stores 4), with the currency code."""
    if amount is None:
        return "-"
    if currency:
        amount = round_money(amount, currency)
    return f"{amount} {currency}".rstrip()


def fmt_period(duration: int | None, unit: str | None) -> str:
    if not duration or not unit:
        return "-"
    return f"{duration} {unit}" + ("s" if duration != 1 else "")


def fmt_billing(recurring: bool, duration: int | None, unit: str | None) -> str:
    """The billing period of a product or a membership, one way everywhere: "once" when it does not renew (a free
    plan, a one-time service), else "1 month", "12 months"."""
    return fmt_period(duration, unit) if recurring else "once"


MONEY_KEYS = frozenset({
    "amount", "initial_amount", "setup_fee", "unit_price", "total", "credit", "setup_fee_credit", "due_now",
    "unused_credit", "recurring_total", "price", "subtotal", "discount", "tax",
})
"""Keys whose values are amounts in the CLI's output: shown with the currency's number of decimals."""


def present_money(value: Any, currency: str | None = None) -> Any:
    """`value` (JSON-able data of a result or a record) with every amount under a MONEY_KEYS key rounded to its
    currency's decimals (the `currency` beside it, or inherited from an enclosing object), so that the output
    never shows "0.0000" (as UM stores it) beside "0.00". Exports and the wire keep the exact stored values."""
    if isinstance(value, Mapping):
        here = value.get("currency") if isinstance(value.get("currency"), str) else currency
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in MONEY_KEYS and here and isinstance(item, str | Decimal) and not isinstance(item, bool):
                try:
                    out[key] = str(round_money(Decimal(str(item)), here))
                    continue
                except ArithmeticError:
                    pass
            out[key] = present_money(item, here)
        return out
    if isinstance(value, list | tuple):
        return [present_money(v, currency) for v in value]
    return value


_WP_MOMENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _moment_key(key: str) -> bool:
    return key.startswith("date_") or key.endswith(("_at", "_for"))


def iso_moments(value: Any) -> Any:
    """JSON-able output with every moment in ISO 8601 `Z`: a value under a date key (`date_*`, `*_at`, `*_for`)
    still in WordPress's GMT `Y-m-d H:i:s` (a request body as sent, a record as stored) is rewritten, so that
    -o json and yaml spell every moment one way."""
    if isinstance(value, Mapping):
        return {k: (iso_utc(datetime.strptime(v, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC))
                    if isinstance(v, str) and _moment_key(str(k)) and _WP_MOMENT.fullmatch(v) else iso_moments(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [iso_moments(v) for v in value]
    return value


def fmt_date(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def render_pairs(pairs: Sequence[tuple[str, Any]], indent: str = "") -> str:
    """Aligned `key  value` lines, for one record's details."""
    if not pairs:
        return ""
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{indent}{human(k, keep='').ljust(width)}  {_text(v)}".rstrip() for k, v in pairs)
