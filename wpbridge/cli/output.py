"""Rendering of command results as table, json or csv; one place so every command formats the same way."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..encoding import dumps, to_jsonable
from ..money import round_money

FORMATS = ("table", "json", "csv")


def render_json(value: Any) -> str:
    return dumps(value, indent=2)


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):  # never Python's True/False in a table or CSV
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table; the columns are the keys of the first row unless given."""
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    buf = io.StringIO()
    cols = list(columns or (rows[0].keys() if rows else []))
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue().rstrip("\n")


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


def fmt_date(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def render_pairs(pairs: Sequence[tuple[str, Any]], indent: str = "") -> str:
    """Aligned `key  value` lines, for one record's details."""
    if not pairs:
        return ""
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{indent}{k.ljust(width)}  {_cell(v)}".rstrip() for k, v in pairs)
