"""Compare `quote_change` with the real Cart, field by field, allowing only the differences a deviation declares.

Fields: kind, error (first refusal code), credit, due_now, recurring_total, next_charge_at. When either side
refuses, only kind and error are compared (a refused cart has no price). A difference is declared when the quote
carries a deviation for that field whose `ultimate_multisite` is UM's value and `wpbridge` the quote's (each line's
tax has no deviation of its own: it differs declared when the quote declares another kind or tax total, i.e. it
priced another cart than UM's); a deviation that does not match a real difference is itself an error.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from wpbridge.billing import Quote, quote_change

from .oracle import convert

FIELDS = ("kind", "error", "credit", "due_now", "recurring_total", "next_charge_at", "tax_total", "line_taxes")
MONEY = ("credit", "due_now", "recurring_total", "tax_total")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line_taxes(rows: list[tuple[str, str | None, Any, Any]]) -> list[tuple[str, str | None, str, str]]:
    """(type, product key, tax rate, tax) of the lines that carry a tax rate, in one order."""
    out = []
    for kind, product, rate, tax in rows:
        rate_d, tax_d = Decimal(repr(float(rate or 0))), Decimal(repr(float(tax or 0)))
        if rate_d or tax_d:
            out.append((kind, product, format(rate_d.normalize(), "f"), str(tax_d.quantize(Decimal("0.01")))))
    return sorted(out, key=str)


def um_values(scenario: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """The real Cart's values (money as Decimal strings, dates ISO 8601 UTC; taxes: the total rounded to cents,
    and each line's rate and tax)."""
    errors = r["errors"]
    if errors:
        first = errors[0]
        kind = "no_change" if first["code"] == "no_changes" and first["message"].startswith("This cart") else "blocked"
        return {"kind": kind, "error": first["code"]}
    nxt = r["billing_next_charge_date_pinned"]
    m = scenario["membership"]
    if (r["cart_type"] == "downgrade" and m.get("date_expiration") is None
            and m.get("status", "active") in ("active", "on-hold", "trialing")):
        nxt = r["now"]  # strtotime(NULL): UM's real clock, i.e. the scenario's now
    return {
        "kind": r["cart_type"], "error": None,
        "credit": str(Decimal(repr(float(r["credit"])))), "due_now": str(Decimal(repr(float(r["total"])))),
        "recurring_total": str(Decimal(repr(float(r["recurring_total"])))),
        "next_charge_at": None if nxt in (None, "never") else nxt.replace(" ", "T") + "Z",
        "tax_total": str(Decimal(repr(float(r.get("total_taxes") or 0))).quantize(Decimal("0.01"))),
        "line_taxes": _line_taxes([(li["type"], li.get("product"), li.get("tax_rate"), li.get("tax_total"))
                                   for li in r["line_items"]]),
    }


def quote_values(q: Quote, key_of: Any = str) -> dict[str, Any]:
    if q.kind in ("no_change", "blocked"):
        return {"kind": q.kind, "error": q.errors[0].code if q.errors else None}
    return {"kind": q.kind, "error": None, "credit": str(q.credit), "due_now": str(q.due_now),
            "recurring_total": str(q.recurring_total), "next_charge_at": _iso(q.next_charge_at),
            "tax_total": str(q.tax_total),
            "line_taxes": _line_taxes([(ln.type, None if ln.product_id is None else key_of(ln.product_id),
                                        ln.tax_rate, ln.tax_total) for ln in q.lines if ln.type != "discount"])}


def _same(name: str, a: Any, b: Any) -> bool:
    if name in MONEY and a is not None and b is not None:
        return Decimal(a) == Decimal(b)
    return bool(a == b)


@dataclass
class Outcome:
    scenario: dict[str, Any]
    um: dict[str, Any]
    ours: dict[str, Any]
    undeclared: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def report(self) -> str:
        return (f"scenario {json.dumps(self.scenario, sort_keys=True)}\n  UM:       {self.um}\n"
                f"  wpbridge: {self.ours}\n  " + "\n  ".join(self.problems))


def compare_one(scenario: dict[str, Any], result: dict[str, Any], version: str) -> Outcome:
    if not result.get("ok"):
        raise AssertionError(f"cart_batch failed on {scenario.get('id')}: {result.get('error')} "
                             f"{json.dumps(scenario)}")
    c = convert(scenario)
    # force: wpbridge's offered-set check is a refusal beyond UM's Cart (UM's server does not enforce groups), so
    # the prices are compared forced; the refusal itself (force off) is compared below: it must declare UM's answer
    q = quote_change(c.membership, c.catalog, c.cart, now=c.now, um_version=version, force=True, taxes=c.taxes,
                     location=c.location, tax_exempt=c.tax_exempt)
    um, ours = um_values(scenario, result), quote_values(q, c.key_of)
    out = Outcome(scenario, um, ours)
    if q.warnings:
        unforced = quote_change(c.membership, c.catalog, c.cart, now=c.now, um_version=version, taxes=c.taxes,
                                location=c.location, tax_exempt=c.tax_exempt)
        _check_fields(out, ("kind", "error"), um, quote_values(unforced, c.key_of), unforced, "without force: ")
    compared = FIELDS if ("credit" in um and "credit" in ours) else ("kind", "error")
    devs = _check_fields(out, compared, um, ours, q)
    for name, dev in devs.items():
        if name in compared:
            continue
        if "credit" in um and "credit" in ours:
            out.problems.append(f"{name}: deviation on a field not compared ({dev})")
    return out


def _check_fields(out: Outcome, compared: tuple[str, ...], um: dict[str, Any], ours: dict[str, Any], q: Quote,
                  prefix: str = "") -> dict[str, Any]:
    """Each field of `compared`: the same, or different with a deviation of `q` declaring both values (recorded in
    `out`; a `prefix` marks the unforced check, whose fields are not counted). Returns the deviations left."""
    devs = {d.field: d for d in q.deviations}
    for name in compared:
        a, b = um.get(name), ours.get(name)
        dev = devs.pop(name, None)
        if _same(name, a, b):
            if dev is not None:
                out.problems.append(f"{prefix}{name}: deviation declared but no difference ({dev})")
            continue
        if dev is not None and _same(name, dev.ultimate_multisite, a) and _same(name, dev.wpbridge, b):
            if not prefix:
                out.declared.append(name)
            continue
        if name == "line_taxes" and any(d.field in ("kind", "tax_total") for d in q.deviations):
            if not prefix:  # another cart than UM's (declared by its kind or tax total): other lines, other taxes
                out.declared.append(name)
            continue
        if not prefix:
            out.undeclared.append(name)
        out.problems.append(f"{prefix}{name}: UM {a!r} vs wpbridge {b!r} (deviation: {dev})")
    return devs


@dataclass
class Summary:
    version: str
    total: int = 0
    agree: Counter[str] = field(default_factory=Counter)
    declared: Counter[str] = field(default_factory=Counter)
    compared: Counter[str] = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)

    def add(self, o: Outcome) -> None:
        self.total += 1
        names = FIELDS if "credit" in o.um and "credit" in o.ours else ("kind", "error")
        for name in names:
            self.compared[name] += 1
            if name in o.declared:
                self.declared[name] += 1
            elif name not in o.undeclared:
                self.agree[name] += 1
        if o.problems:
            self.failures.append(o)

    def minimal(self) -> Outcome | None:
        return min(self.failures, key=lambda o: len(json.dumps(o.scenario)), default=None)

    def table(self) -> str:
        rows = [f"UM {self.version}: {self.total} scenarios, {self.total - len(self.failures)} fully agreeing"]
        for name in FIELDS:
            n = self.compared[name]
            if n:
                rows.append(f"  {name:16} identical {self.agree[name]:5}/{n:<5} declared deviation "
                            f"{self.declared[name]:4}  undeclared {n - self.agree[name] - self.declared[name]}")
        return "\n".join(rows)


def compare_all(scenarios: list[dict[str, Any]], results: list[dict[str, Any]], version: str) -> Summary:
    summary = Summary(version)
    for s, r in zip(scenarios, results, strict=True):
        summary.add(compare_one(s, r, version))
    return summary
