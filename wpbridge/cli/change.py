"""`wpbridge change options|quote|apply MEMBERSHIP`: a customer's plan change, from the terminal.

Thin over `wpbridge.workflows.change`. The clock is read here (the imperative shell): `--at` or the current UTC
time. Exit codes: 0 a valid quote (also no_change or blocked) / a change carried out or already in place;
2 bad input (nothing written); 3 apply of a blocked change (nothing written); 1 anything else that failed
(a write refused, a read-back that differs, a declined confirmation).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar, cast

import click

from ..billing import POLICIES, CatalogIndex, TaxLocation
from ..billing.result import Policy
from ..errors import InputError
from ..models import Membership
from ..money import round_money
from ..payment_models import Collect
from ..workflows import change as flow
from ..workflows.change_view import change_title
from .common import (
    EXIT_BLOCKED,
    EXIT_FAILED,
    EXIT_OK,
    at_option,
    check_fields_first,
    emit,
    handle_errors,
    interactive,
    network_options,
    open_network,
    open_source,
    output_fields,
    snapshot_option,
)
from .output import fmt_billing, fmt_date, fmt_money, fmt_period, render_pairs, render_table
from .signals import ApplySignals, Interrupted, interrupted_by

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- rendering (also used by the demo)


def options_text(r: flow.OptionsResult) -> str:
    m, o = r.membership, r.options
    head = _membership_head(m, r.catalog, with_amount=False)
    plans = [
        {"plan": p.product.slug, "name": p.product.name, "relation": p.relation,
         "price": "free" if _is_free(p.amount, p.product.recurring) else
                  f"{fmt_money(p.amount, o.currency)} / "
                  f"{fmt_billing(p.product.recurring, p.duration, p.duration_unit)}",
         "setup fee": p.setup_fee,
         "other periods": ", ".join(f"{round_money(pr.amount, o.currency)} / "
                                    f"{fmt_period(pr.duration, pr.duration_unit)}"
                                    for pr in p.prices
                                    if (pr.duration, pr.duration_unit) != (p.duration, p.duration_unit))}
        for p in o.plans
    ]
    addons = [
        {"add-on": a.product.slug, "name": a.product.name, "type": a.product.type,
         "price": fmt_money(a.amount, o.currency) + (f" / {fmt_period(a.duration, a.duration_unit)}"
                                                     if a.recurring else " once"),
         "setup fee": a.setup_fee, "owned": a.owned}
        for a in o.addons
    ]
    return "\n".join([head, "", "Plans offered:", render_table(plans), "", "Add-ons offered:", render_table(addons)])


def options_rows(r: flow.OptionsResult) -> list[dict[str, Any]]:
    d = r.as_dict()
    recurring = {p.product.id: p.product.recurring for p in r.options.plans}
    rows = [{"kind": "plan", "id": p["id"], "slug": p["slug"], "name": p["name"], "relation": p["relation"],
             "amount": p["amount"], "period": fmt_billing(recurring[p["id"]], p["duration"], p["duration_unit"]),
             "setup_fee": p["setup_fee"], "owned": ""} for p in d["plans"]]
    rows += [{"kind": "addon", "id": a["id"], "slug": a["slug"], "name": a["name"], "relation": "",
              "amount": a["amount"], "period": fmt_period(a["duration"], a["duration_unit"]) if a["recurring"]
              else "once", "setup_fee": a["setup_fee"], "owned": a["owned"]} for a in d["addons"]]
    return rows


def quote_text(r: flow.QuoteResult) -> str:
    q, m, idx = r.quote, r.membership, r.catalog
    cur = q.currency
    lines = [
        f"{_membership_head(m, idx)}, expires {fmt_date(m.date_expiration)}",
        f"Requested: {flow.product_name(idx, q.new_plan_id)}, every {fmt_period(q.duration, q.duration_unit)}"
        + (f", add {', '.join(f'{n} x {flow.product_name(idx, p)}' for p, n in r.cart.addons.items())}"
           if r.cart.addons else "")
        + (f", {removal}" if (removal := change_title(r, q.target, "")) else "")
        + f"  (policy {q.policy}, at {fmt_date(r.now, seconds=True)})",
    ]
    lines += [f"note: {n}" for n in r.notes]
    if r.gateway is not None and r.gateway.refusal:
        lines.append(f"REFUSED by the gateway: {r.gateway.refusal}")
    if q.kind == "no_change":
        lines += ["", f"No change: {q.message}"]
        return "\n".join(lines)
    if q.kind == "blocked":
        lines += ["", "Blocked:"] + [f"  {e.message}" for e in q.errors]
        return "\n".join(lines)
    lines += ["", f"Kind: {q.kind}", ""]
    lines.append(render_table(line_rows(r)))
    pairs: list[tuple[str, Any]] = [
        ("credit", fmt_money(q.credit, cur) + (f" (setup fees {q.setup_fee_credit})" if q.setup_fee_credit else "")),
        ("due now", fmt_money(q.due_now, cur)),
        ("unused credit", fmt_money(q.unused_credit, cur)),
        ("recurring", f"{fmt_money(q.recurring_total, cur)} every {fmt_period(q.duration, q.duration_unit)}"),
        ("next charge", f"{fmt_date(q.next_charge_at)} ({fmt_money(q.recurring_total, cur)})"
         if q.next_charge_at else "-"),
    ]
    if q.scheduled_for is not None:
        pairs.append(("takes effect", f"{fmt_date(q.scheduled_for)} (scheduled; nothing changes now)"))
    pairs += tax_pairs(r)
    lines += ["", render_pairs(pairs)]
    if q.deviations:
        lines += ["", f"Differs from Ultimate Multisite {q.um_version}'s own Cart:"]
        lines += [f"  {d.field}: UM {d.ultimate_multisite}, wpbridge {d.wpbridge} ({d.reason})" for d in q.deviations]
    return "\n".join(lines)


def line_rows(r: flow.QuoteResult) -> list[dict[str, Any]]:
    """The quote's lines for a person; with each line's tax and rate when the network collects taxes."""
    cur = r.quote.currency
    return [{"type": ln.type, "item": ln.title, "qty": ln.quantity, "unit price": ln.unit_price,
             **({"tax": f"{round_money(ln.tax_total, cur)} ({ln.tax_rate.normalize():f}%)"} if r.taxes else {}),
             "total": ln.total}
            for ln in r.quote.lines]


def tax_pairs(r: flow.QuoteResult) -> list[tuple[str, Any]]:
    """When the network collects taxes: the total tax, whether prices include it, where the cart was taxed and
    why (the --country given, the customer's billing address, or their IP country), and an exemption."""
    t = r.taxes
    if t is None:
        return []
    q, loc = r.quote, t.location
    where = ", ".join(x for x in (loc.country, loc.state, loc.city) if x) or "-"
    return [
        ("tax", f"{fmt_money(q.tax_total, q.currency)} ("
                + ("included in the prices" if t.settings.inclusive else "excluded from the prices, added")
                + (", customer EXEMPT: none charged" if t.exempt else "") + ")"),
        ("taxed at", f"{where} ({t.source_words})"),
    ]


def quote_rows(r: flow.QuoteResult) -> list[dict[str, Any]]:
    """The quote as ONE table (CSV): a row per line, each carrying the quote's totals, currency, next charge and
    message (a no_change or blocked quote, which has no lines, is one row with its message)."""
    q = r.quote
    quote = {"currency": q.currency, "credit": q.credit, "due_now": q.due_now, "unused_credit": q.unused_credit,
             "recurring_total": q.recurring_total, "next_charge_at": q.next_charge_at,
             "scheduled_for": q.scheduled_for, "message": q.message or None}
    taxed = r.taxes is not None
    if taxed and r.taxes is not None:
        loc = r.taxes.location
        quote |= {"quote_tax_total": q.tax_total, "tax_country": loc.country, "tax_state": loc.state,
                  "tax_city": loc.city, "tax_source": loc.source, "tax_exempt": r.taxes.exempt,
                  "tax_inclusive": r.taxes.settings.inclusive}
    rows: list[dict[str, Any]] = []
    for ln in q.lines:
        row: dict[str, Any] = {"kind": q.kind, "type": ln.type, "product_id": ln.product_id, "title": ln.title,
                               "quantity": ln.quantity, "unit_price": ln.unit_price, "total": ln.total}
        if taxed:
            row |= {"tax_rate": ln.tax_rate, "tax_total": ln.tax_total}
        rows.append(row | quote)
    if not rows:
        empty: dict[str, Any] = {"kind": q.kind, "type": None, "product_id": None, "title": None, "quantity": None,
                                 "unit_price": None, "total": None}
        rows.append(empty | ({"tax_rate": None, "tax_total": None} if taxed else {}) | quote)
    return rows


def writes_text(writes: list[flow.Write]) -> str:
    out = [f"Writes ({len(writes)}):"]
    for w in writes:
        out.append(f"  {w.method} {w.path}")
        out += [f"      {c}" for c in w.changes]
    return "\n".join(out)


def apply_text(r: flow.ApplyResult, *, problems: bool = True, quoted: bool = False) -> str:
    """The result for a person; `problems=False` leaves out the FAILED and MISMATCH lines (see `apply_problems`);
    `quoted`: the quote was shown just before, so a blocked change's reason (in it) is not said twice."""
    lines = []
    if r.status == "dry_run":
        lines.append(writes_text(r.planned))
    head = {"applied": "Applied", "scheduled": "Scheduled", "unchanged": "Nothing to do", "blocked": "Blocked",
            "dry_run": "Dry run", "declined": "Declined", "failed": "FAILED"}[r.status]
    if r.status == "blocked" and quoted and r.quote.quote.errors:
        lines.append("Blocked (the reason is above): nothing written.")
    elif problems or r.status != "failed":
        lines.append(f"{head}: {r.message}")
    if r.performed:
        lines.append(f"{len(r.performed)} write(s) made.")
    lines += money_lines(r)
    lines += [f"  verified: {c.what}: {c.detail}" if c.ok else f"  MISMATCH: {c.what}: {c.detail}"
              for c in r.verification if problems or c.ok]
    return "\n".join(lines)


def money_lines(r: flow.ApplyResult) -> list[str]:
    """What became of the due now: the payment and its pay link, or the waiver in words."""
    money = r.money
    lines = [f"  note: {n}" for n in (money.notes if money else [])]
    if money is not None and money.waived is not None:
        lines.append(f"Payment: none. The due now of {fmt_money(money.waived, money.currency)} is WAIVED "
                     "(--collect none): the customer is not charged for this change.")
    p = r.payment
    if p is not None:
        lines.append(f"Payment #{p.id}: {fmt_money(p.total, p.currency)}, {p.status}"
                     + (f", invoice {p.invoice_number}" if p.invoice_number else "")
                     + (f", reference {p.reference}" if p.reference else ""))
        if p.is_open:
            lines.append(f"  pay link: {p.url}" if p.url else
                         "  no pay page on this network (no Ultimate Multisite checkout): collect the money, then "
                         f"run `wpbridge payments settle {p.id} --reference TEXT`")
            if p.url and not p.url.startswith(("http://", "https://")):
                lines.append("  (Ultimate Multisite has no registration page set, so its pay link is incomplete: "
                             "choose 'Default Registration Page' in UM's settings, Login & Registration)")
    return lines


def apply_problems(r: flow.ApplyResult) -> list[str]:
    """The FAILED and MISMATCH lines of a result: the CLI prints them on stderr, whatever the output format."""
    lines = [f"FAILED: {r.message}"] if r.status == "failed" else []
    return lines + [f"  MISMATCH: {c.what}: {c.detail}" for c in r.verification if not c.ok]


OPTIONS_COLUMNS = ("kind", "id", "slug", "name", "relation", "amount", "period", "setup_fee", "owned")
OPTIONS_KEYS = ("membership_id", "current_plan", "currency", "plans", "addons", "periods")
QUOTE_COLUMNS = ("kind", "type", "product_id", "title", "quantity", "unit_price", "total", "tax_rate", "tax_total",
                 "currency", "credit", "due_now", "unused_credit", "recurring_total", "next_charge_at",
                 "scheduled_for", "message", "quote_tax_total", "tax_country", "tax_state", "tax_city", "tax_source",
                 "tax_exempt", "tax_inclusive")
"""A quote's CSV columns (`quote_rows`); the tax ones only when the network collects taxes."""
QUOTE_KEYS = ("membership_id", "customer_id", "kind", "policy", "at", "message", "errors", "warnings", "notes",
              "current", "new", "currency", "lines", "credit", "setup_fee_credit", "due_now", "unused_credit",
              "recurring_total", "next_charge_at", "scheduled_for", "target", "um_version", "deviations", "gateway",
              "tax_total", "taxes", "discount_code")
APPLY_COLUMNS = ("status", "write", "record_id", "request", "changes", "result")
APPLY_KEYS = ("status", "ok", "message", "quote", "planned", "performed", "failed", "verification", "collect",
              "payment", "waived", "payment_notes")
"""The fields of `change apply`'s output (table/csv rows, json/yaml keys): --fields is checked before writing."""


def apply_rows(r: flow.ApplyResult) -> list[dict[str, Any]]:
    done = {id(w) for w in r.performed}
    failed = {id(w): err for w, err in r.failed}
    return [{"status": r.status, "write": w.kind, "record_id": w.record_id, "request": f"{w.method} {w.path}",
             "changes": "; ".join(w.changes),
             "result": "written" if id(w) in done else ("failed: " + failed[id(w)] if id(w) in failed
                                                        else "not written")}
            for w in r.planned] or [{"status": r.status, "write": "", "record_id": "", "request": "",
                                     "changes": "", "result": r.message}]


def apply_interrupted(stops: ApplySignals, stop: Interrupted) -> NoReturn:
    """A signal stopped `change apply`: which writes landed and which were not sent (a rerun writes only what is
    missing); exit 130 (Ctrl-C) or 143 (SIGTERM)."""
    if not stops.written:
        click.echo(f"change apply: interrupted ({stop.name}) before any write: nothing written", err=True)
        sys.exit(stop.exit_code)
    lines = [f"change apply: interrupted ({stop.name}) after {len(stops.written)} of"
             f" {len(stops.planned) or len(stops.written)} writes; written:"]
    lines += [f"  {w.method} {w.path}" for w in stops.written]
    missing = stops.not_sent()
    if missing:
        lines.append("not sent (the first was in flight when a second signal stopped it at once: it may have"
                     " landed):" if stops.forced else "not sent:")
        lines += [f"  {w.method} {w.path}" for w in missing]
    lines.append("run the same command again to finish: it writes only what is missing")
    click.echo("\n".join(lines), err=True)
    sys.exit(stop.exit_code)


def signal_name(signum: int | None) -> str:
    return signal.Signals(signum).name if signum is not None else "a signal"


# --------------------------------------------------------------------------- options shared by quote and apply


def request_options(func: F) -> F:
    for decorator in reversed([
        click.argument("membership_id", type=int, metavar="MEMBERSHIP"),
        click.option("--plan", default=None, metavar="SLUG|ID", help="The plan to switch to (default: keep it)."),
        click.option("--addon", "addons", multiple=True, metavar="SLUG|ID[:QTY]",
                     help="An add-on and the TOTAL quantity to hold (default 1); repeatable."),
        click.option("--period", default=None, metavar="N:UNIT",
                     help="Billing period, e.g. 1:month or 1:year (default: keep it)."),
        at_option("Price at this moment (default: now, UTC; without an offset: UTC)."),
        click.option("--policy", type=click.Choice(POLICIES), default="ultimate-multisite", show_default=True,
                     help="Proration policy."),
        click.option("--force", is_flag=True, help="Accept a plan or add-on outside the offered set."),
        click.option("--um-version", "um_version", default=None, metavar="VERSION",
                     help="Price as this Ultimate Multisite release's Cart, e.g. 2.4.12 (default: the network's)."),
        click.option("--discount-code", "discount_code", default=None, metavar="CODE",
                     help="Apply this discount code of the network, as UM's Cart applies it (refused: exit 2)."),
        click.option("--remove-now", "remove_now", is_flag=True,
                     help="With --addon SLUG:N below what is held: remove now, as UM's network-admin membership "
                          "screen (default: at the period end, as UM's account page; the amount falls either way)."),
        click.option("--keep-amount", "keep_amount", is_flag=True,
                     help="With --remove-now: keep the membership's amount (UM's 'Update Pricing' off)."),
    ]):
        func = decorator(func)
    return func


def removal_mode(remove_now: bool, keep_amount: bool) -> flow.RemovalMode:
    """How add-ons held fewer are removed: at the period end (UM's account page), now (UM's admin screen), now
    keeping the amount (its 'Update Pricing' off)."""
    if keep_amount and not remove_now:
        raise InputError("--keep-amount: only with --remove-now (a removal at the period end always lowers the "
                         "amount, as UM's account page does)", field="keep_amount")
    return "now_keep_amount" if keep_amount else "now" if remove_now else "period_end"


def location_options(func: F) -> F:
    """--country/--state/--city: where the change is taxed (quote and apply alike)."""
    for decorator in reversed([
        click.option("--country", default=None, metavar="CC",
                     help="Tax the change at this country (as UM's checkout form; default: the customer's billing "
                          "country, else their IP country)."),
        click.option("--state", default="", metavar="STATE", help="With --country: the state taxed at."),
        click.option("--city", default="", metavar="CITY", help="With --country: the city taxed at."),
    ]):
        func = decorator(func)
    return func


def cart_location(country: str | None, state: str = "", city: str = "") -> TaxLocation | None:
    """The cart's tax location from --country/--state/--city (None: none given, so the customer's); a state or
    city without a country is refused, as UM's checkout form never sends one."""
    if not country:
        if state or city:
            raise InputError("--state/--city: give --country too", field="country")
        return None
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise InputError(f"--country {country!r}: a two-letter country code, e.g. FR", field="country")
    return TaxLocation(country, state, city, "cart")


def _membership_head(m: Membership, idx: CatalogIndex, *, with_amount: bool = True) -> str:
    """'Membership 7 (customer 3, active): Basic, 15.00 USD every 1 month' ('Free, free of charge')."""
    if _is_free(m.amount, m.recurring):
        price = "free of charge"
    else:
        every = _every(m.recurring, m.duration, m.duration_unit)
        price = f"{fmt_money(m.amount, m.currency)} {every}" if with_amount else every
    return f"Membership {m.id} (customer {m.customer_id}, {m.status}): {flow.product_name(idx, m.plan_id)}, {price}"


def _is_free(amount: Any, recurring: bool) -> bool:
    """A price of nothing that never renews (a free plan): shown as "free" in the human tables (CSV/JSON keep the
    raw amount and period)."""
    return not recurring and amount is not None and amount == 0


def _every(recurring: bool, duration: int | None, unit: str | None) -> str:
    return f"every {fmt_period(duration, unit)}" if recurring else "once (not recurring)"


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


def _refuse_before_creation(result: flow.QuoteResult) -> None:
    """A change priced at a moment before the membership existed means nothing: refused (exit 2)."""
    created = result.membership.date_created
    if created is not None and result.now < created:
        raise InputError(f"--at {fmt_date(result.now, seconds=True)}: membership {result.membership.id} did not exist"
                         f" yet (created {fmt_date(created, seconds=True)})", field="at",
                         record_id=result.membership.id)


# --------------------------------------------------------------------------- registration


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""

    @main.group("change")
    def change() -> None:
        """A membership's plan change: what it is offered, what a change costs, and carrying it out."""

    @change.command("options")
    @click.argument("membership_id", type=int, metavar="MEMBERSHIP")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(OPTIONS_COLUMNS, OPTIONS_KEYS)
    def options(membership_id: int, snapshot: str | None, network_name: str | None, config_path: str | None,
                output: str) -> None:
        """The plans (current, upgrade or downgrade) and add-ons offered, as the customer's Change form shows."""
        result = flow.options(open_source(network_name, config_path, snapshot), membership_id)
        emit(output, rows=options_rows(result), data=result.as_dict(), text=options_text(result))

    @change.command("quote")
    @request_options
    @location_options
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(QUOTE_COLUMNS, QUOTE_KEYS)
    def quote(membership_id: int, plan: str | None, addons: tuple[str, ...], period: str | None, at: datetime | None,
              policy: Policy, force: bool, um_version: str | None, discount_code: str | None, remove_now: bool,
              keep_amount: bool, country: str | None, state: str, city: str, snapshot: str | None,
              network_name: str | None, config_path: str | None, output: str) -> None:
        """Price a change: lines, credit, due now, unused credit, next charge; or why it is no change / blocked.

        Exit 0 for any valid quote (including no_change and blocked), 2 for bad input.
        """
        result = flow.quote(open_source(network_name, config_path, snapshot), membership_id, now=_now(at),
                            plan=plan, addons=list(addons), period=period, policy=policy, force=force,
                            um_version=um_version, location=cart_location(country, state, city),
                            discount_code=discount_code, removal=removal_mode(remove_now, keep_amount))
        _refuse_before_creation(result)
        emit(output, rows=quote_rows(result), data=result.as_dict(), text=quote_text(result))

    @change.command("apply")
    @request_options
    @location_options
    @click.option("--dry-run", is_flag=True, help="Show the quote and the writes; write nothing.")
    @click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask for confirmation.")
    @click.option("--collect", type=click.Choice(["invoice", "paid", "none"]), default=None,
                  help="How the due now is collected: invoice (default: a pending payment the customer pays from "
                       "its link), paid (received outside; needs --reference), none (waived on purpose).")
    @click.option("--reference", default="", metavar="TEXT",
                  help="With --collect paid: the bank transfer, receipt or cash note the money came with.")
    @click.option("--replace-pending", is_flag=True,
                  help="Replace an earlier change whose payment is still pending (undone, its payment cancelled).")
    @network_options
    @handle_errors
    def apply(membership_id: int, plan: str | None, addons: tuple[str, ...], period: str | None, at: datetime | None,
              policy: Policy, force: bool, um_version: str | None, discount_code: str | None, remove_now: bool,
              keep_amount: bool, country: str | None, state: str, city: str, dry_run: bool, yes: bool,
              collect: str | None, reference: str, replace_pending: bool, network_name: str | None,
              config_path: str | None, output: str) -> None:
        """Carry out a change: upgrades and add-ons now (their payment, the membership, then each site's quota),
        downgrades scheduled for the period end. Re-running it is safe: what is already in place is not written
        again, and a change's payment is made once.

        Exit 0 done (or already in place), 3 blocked, 2 bad input, 1 failed or declined.
        """
        location = cart_location(country, state, city)  # checked before the network is opened
        check_fields_first(APPLY_KEYS if output in ("json", "yaml") else APPLY_COLUMNS)
        net = open_network(network_name, config_path)
        now = _now(at)
        human = output == "table"
        shown: list[flow.QuoteResult] = []

        def show(q: flow.QuoteResult) -> None:
            _refuse_before_creation(q)  # before anything is written (confirm calls this first)
            if human and not shown:
                click.echo(quote_text(q) + "\n")
            shown.append(q)

        def tell(q: flow.QuoteResult, writes: list[flow.Write]) -> None:
            show(q)
            click.echo(writes_text(writes), err=not human)

        def notify(q: flow.QuoteResult, writes: list[flow.Write]) -> None:
            tell(q, writes)
            stops.begin_writes(writes)

        def confirm(q: flow.QuoteResult, writes: list[flow.Write]) -> bool:
            tell(q, writes)
            if not interactive():  # nothing written yet: the question cannot be answered, so say how to go on
                raise InputError(f"change apply: {len(writes)} writes planned but not confirmed: stdin is not a"
                                 " terminal; pass --yes to apply without asking (or --dry-run to only look)")
            try:
                confirmed = click.confirm("Write these changes?", default=False, err=True)
            except click.Abort as abort:
                stop = interrupted_by(abort)
                if stop is not None:  # Ctrl-C at the question: an interruption (130), not a "no"
                    raise stop from None
                return False
            if confirmed:
                stops.begin_writes(writes)
            return confirmed

        # flow.apply quotes under the membership's lock, so a concurrent apply's write is seen (never lost)
        with ApplySignals() as stops:
            try:
                result = flow.apply(net, membership_id, now=now, plan=plan, addons=list(addons), period=period,
                                    policy=policy, force=force, um_version=um_version, dry_run=dry_run,
                                    confirm=None if yes else confirm, notify=notify if yes else None,
                                    collect=cast(Collect | None, collect), reference=reference,
                                    replace_pending=replace_pending, discount_code=discount_code,
                                    removal=removal_mode(remove_now, keep_amount), location=location,
                                    after_write=stops.after_write)
            except Interrupted as stop:
                apply_interrupted(stops, stop)
        if stops.late:
            click.echo(f"change apply: {signal_name(stops.received)} came after the last write: nothing was cut"
                       " short", err=True)
        show(result.quote)
        emit(output, rows=apply_rows(result), data=result.as_dict(),
             text=apply_text(result, problems=False, quoted=human))
        for line in apply_problems(result):
            click.echo(line, err=True)
        if result.status == "blocked":
            sys.exit(EXIT_BLOCKED)
        sys.exit(EXIT_OK if result.ok else EXIT_FAILED)
