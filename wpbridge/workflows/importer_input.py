"""`wpbridge import`, step 1: read the input (an export's JSON or a spreadsheet's CSV) into source records, and
check every one of them before anything is planned or written.

Pure (no network, no clock): `read_source()` turns a file into a `Source` plus the problems found in its syntax
(`importer_csv.read_csv`: each row validated by the pydantic model `CsvRow`; `importer_json.read_json`: each
record by its own model), and `check_references()` checks what needs the catalog (plan and add-on slugs, prices
for a period). Every problem is an `Issue` naming where it is (`line 14` of a CSV, `memberships[3]` of a JSON
export), the field, and what is wrong, e.g. `line 14: plan 'premuim' does not exist (plans: free, basic,
premium)`. A record with any issue is marked invalid: the import refuses to write anything while there are
invalid records, unless `--skip-invalid`, in which case they (and the records that depend on them) are left out.
The records and their natural keys: `importer_records`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..billing.periods import list_amounts, price_in_period
from ..errors import InputError
from ..models import Product
from .importer_csv import CSV_COLUMNS, CsvRow, read_csv, utf8_lines
from .importer_json import read_json
from .importer_records import (
    CUSTOMER_FIELDS,
    MEMBERSHIP_FIELDS,
    PAYMENT_FIELDS,
    Format,
    Issue,
    Source,
    SrcCustomer,
    SrcMembership,
    SrcPayment,
    SrcProduct,
    SrcScheduled,
    SrcSite,
    did_you_mean,
)

Report = Callable[[Any, str, str], None]
"""Report a problem of a record (the record, the field, the message): the record is then invalid."""


def read_source(path: str | Path, fmt: Format | None = None) -> Source:
    """Read FILE (format from `fmt`, else the extension, else sniffed) into a Source with its syntax issues.

    A file that cannot be read at all (missing, not UTF-8, not JSON, not a wpbridge export, no header row) is an
    InputError; problems in individual records are `Source.issues`. A CSV is read as a stream, a row at a time
    (its bytes and text are never held whole: a 1,000,000-row file is about 110 MB of text); a JSON export is
    parsed whole.
    """
    p = Path(path)
    if fmt is None:
        suffix = p.suffix.lower()
        fmt = "json" if suffix == ".json" else "csv" if suffix == ".csv" else (
            "json" if _first_text(p).lstrip().startswith("{") else "csv")
    if fmt == "json":
        return read_json(_whole_text(p), name=str(p))
    try:
        with p.open("rb") as stream:
            return read_csv(utf8_lines(stream, str(p)), name=str(p))
    except OSError as exc:
        raise InputError(f"import {p}: cannot read it ({exc.strerror or exc})") from None


def _whole_text(p: Path) -> str:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"import {p}: cannot read it ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"import {p}: not UTF-8 text (byte {exc.start})") from None


def _first_text(p: Path, size: int = 4096) -> str:
    """The file's first characters (to tell a JSON export from a CSV without reading it all)."""
    try:
        with p.open("rb") as stream:
            head = stream.read(size)
    except OSError as exc:
        raise InputError(f"import {p}: cannot read it ({exc.strerror or exc})") from None
    return head.decode("utf-8-sig", errors="ignore")


# --------------------------------------------------------------------------- references (need the catalog)


def check_references(src: Source, catalog: Sequence[Product], *, allow_currency_mismatch: bool = False) -> None:
    """Check plan and add-on slugs against the catalog the import will have (the file's own products plus the
    target's), and fill in what a CSV row leaves to the catalog: the period (the plan's own), the amount (the
    plan's price for the period plus the recurring add-ons times their quantity) and the currency.

    Then what a membership surely does not mean (issue 21, item 5): a currency that is not its plan's (the
    target's plan where it has one) is an issue unless `allow_currency_mismatch` (then a warning); a recurring
    membership without `date_expiration` is a warning (the network would make it expire at once).
    """
    by_slug, plans, addon_list = _catalog_of(src, catalog)
    target_plans = {p.slug: p for p in catalog}

    def issue(record: Any, field_name: str, message: str) -> None:
        src.issues.append(Issue(record.where, field_name, message))
        record.valid = False

    for m in src.memberships:
        if not m.plan:
            continue
        plan = _plan(m, by_slug, plans, issue)
        addons_ok = _addons(m, by_slug, addon_list, issue)
        if src.format == "csv" and plan is not None and addons_ok and m.valid:
            _fill_from_catalog(m, plan, by_slug, issue)
        if plan is not None and m.valid:
            _meaning(src, m, target_plans.get(m.plan, plan), allow_currency_mismatch, issue)
    for s in src.sites:
        if s.path == "/" and s.domain is None:
            issue(s, "site_path", "a site needs site_path or site_domain")
    src.issues[:] = in_line_order(src.issues)


def in_line_order(issues: Sequence[Issue]) -> list[Issue]:
    """A CSV's problems in the order of its lines (found in several passes: cells, then the catalog, then the
    target's addresses); the JSON paths keep their order, after them."""
    def line(issue: Issue) -> float:
        found = re.match(r"line (\d+)", issue.where)
        return int(found.group(1)) if found else math.inf

    return sorted(issues, key=line)


def _meaning(src: Source, m: SrcMembership, plan: Product, allow_currency_mismatch: bool, issue: Report) -> None:
    """A currency other than the plan's (refused, or a warning with the flag); a recurring membership without an
    expiration (a warning)."""
    currency = m.fields.get("currency")
    if currency and plan.currency and str(currency).upper() != plan.currency.upper():
        if allow_currency_mismatch:
            src.warnings.append(Issue(m.where, "currency", f"warning: currency {currency} is not the currency of"
                                      f" plan {m.plan!r} ({plan.currency}); imported as {currency}"
                                      " (--allow-currency-mismatch)"))
        else:
            issue(m, "currency", f"currency {currency} is not the currency of plan {m.plan!r} ({plan.currency}):"
                  f" a later quote would compare {currency} amounts with {plan.currency} prices; convert the"
                  f" amounts, or pass --allow-currency-mismatch to import it as {currency}")
            return
    if m.fields.get("recurring") and m.fields.get("date_expiration") is None:
        period = f"{m.fields.get('duration', plan.duration)}:{m.fields.get('duration_unit', plan.duration_unit)}"
        src.warnings.append(Issue(m.where, "date_expiration", "warning: date_expiration is not given for a recurring"
                                  f" membership ({m.plan}, {period}): the network sets it to the time of the import"
                                  " (Ultimate Multisite's default), so it expires at once; give the date its paid"
                                  " period ends"))


def _catalog_of(src: Source, catalog: Sequence[Product]) -> tuple[dict[str, Product], list[str], list[str]]:
    """The catalog the import will have (the target's, with the file's products over it) by slug, and its plans'
    and add-ons' slugs in their list order."""
    by_slug: dict[str, Product] = {p.slug: p for p in catalog} | {sp.slug: sp.product for sp in src.products}
    ordered = sorted(by_slug.values(), key=lambda p: (p.list_order, p.slug))
    return by_slug, [p.slug for p in ordered if p.is_plan], [p.slug for p in ordered if not p.is_plan]


def _plan(m: SrcMembership, by_slug: Mapping[str, Product], plans: Sequence[str], issue: Report) -> Product | None:
    """The membership's plan (None, and an issue, when the catalog has no such plan)."""
    plan = by_slug.get(m.plan)
    if plan is None:
        hint = did_you_mean(m.plan, plans)
        issue(m, "plan", f"plan {m.plan!r} does not exist{hint} (plans: {', '.join(plans) or 'none'})")
        return None
    if not plan.is_plan:
        issue(m, "plan", f"plan {m.plan!r} is a {plan.type}, not a plan (plans: {', '.join(plans)})")
        return None
    return plan


def _addons(m: SrcMembership, by_slug: Mapping[str, Product], addon_list: Sequence[str], issue: Report) -> bool:
    """True when every add-on of the membership is one of the catalog's (each one that is not is an issue)."""
    ok = True
    for slug in m.addons:
        addon = by_slug.get(slug)
        if addon is None:
            hint = did_you_mean(slug, addon_list)
            issue(m, "addons", f"add-on {slug!r} does not exist{hint} (add-ons: {', '.join(addon_list) or 'none'})")
            ok = False
        elif addon.is_plan:
            issue(m, "addons", f"add-on {slug!r} is a plan, not an add-on")
            ok = False
    return ok


_AMOUNTS: dict[str, Decimal] = {}
AMOUNTS_MAX = 10_000


def _held(amount: Decimal) -> Decimal:
    """The one copy of an amount (equal and spelled the same) computed for an earlier row: a million rows of a few
    plans hold a few Decimals, not two per row (at most AMOUNTS_MAX kept; Decimals never change)."""
    key = str(amount)
    held = _AMOUNTS.get(key)
    if held is None and len(_AMOUNTS) < AMOUNTS_MAX:
        _AMOUNTS[key] = held = amount
    return amount if held is None else held


def _fill_from_catalog(m: SrcMembership, plan: Product, by_slug: Mapping[str, Product], issue: Report) -> None:
    """What a CSV row leaves to the catalog: the plan's period, its price for the period plus the add-ons, the
    currency; a period the plan has no price for is an issue unless the row gives its own amount."""
    if not m.period_given:
        m.fields["duration"], m.fields["duration_unit"] = plan.duration, plan.duration_unit
    duration, unit = m.fields.get("duration", plan.duration), m.fields.get("duration_unit", plan.duration_unit)
    price = price_in_period(plan, duration, unit)
    if price is None and not m.amount_given:  # with its own amount, a membership may have any period
        periods = [f"{plan.duration}:{plan.duration_unit}"] + [
            f"{v.duration}:{v.duration_unit}" for v in plan.price_variations]
        issue(m, "period", f"plan {m.plan!r} has no price for {duration}:{unit} (it has: {', '.join(periods)})")
        return
    recurring, one_time = list_amounts(price if price is not None else Decimal(0),
                                       ((by_slug[slug], qty) for slug, qty in m.addons.items()))
    m.fields.setdefault("currency", plan.currency)
    if not m.amount_given:
        m.fields["amount"] = _held(recurring)
    amount = m.fields["amount"]
    m.fields.setdefault("initial_amount", _held(amount + one_time))
    m.fields.setdefault("recurring", amount > 0)
    if not m.fields["recurring"]:
        m.fields.setdefault("date_expiration", None)  # free / one-time: lifetime, not "expires at import time"


__all__ = [
    "CSV_COLUMNS",
    "CUSTOMER_FIELDS",
    "MEMBERSHIP_FIELDS",
    "PAYMENT_FIELDS",
    "CsvRow",
    "Format",
    "Issue",
    "Source",
    "SrcCustomer",
    "SrcMembership",
    "SrcPayment",
    "SrcProduct",
    "SrcScheduled",
    "SrcSite",
    "check_references",
    "read_csv",
    "read_json",
    "read_source",
]
