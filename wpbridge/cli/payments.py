"""`wpbridge payments list|show|settle|cancel`: the network's payments, and the money of plan changes.

Thin over `workflows/payments.py`. Exit codes: 0 done (or already done), 2 bad input (nothing written), 1 a
refusal (a payment that is not pending) or a declined confirmation.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click

from ..money import round_money
from ..payment_models import Payment, PaymentLine
from ..workflows import payments as flow
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    at_option,
    emit,
    handle_errors,
    model_fields,
    network_options,
    open_network,
    output_fields,
)
from .output import fmt_date, fmt_money, render_pairs, render_table

STATUSES = ["pending", "completed", "refunded", "partially-refunded", "partially-paid", "failed", "cancelled"]
COLUMNS = ["id", "membership", "customer", "status", "total", "currency", "gateway", "invoice", "created", "change"]
PAYMENT_KEYS = model_fields(Payment)
LINE_COLUMNS = ("payment", *model_fields(PaymentLine))
SETTLE_KEYS = ("settled", "message", "membership", "payment")
CANCEL_KEYS = ("cancelled", "message", "payment")
"""The fields of each output (table/csv rows, json/yaml keys): --fields is checked before anything is read."""


def payment_row(p: Payment) -> dict[str, Any]:
    return {"id": p.id, "membership": p.membership_id or None, "customer": p.customer_id, "status": p.status,
            "total": p.total, "currency": p.currency, "gateway": p.gateway or "", "invoice": p.invoice_number or "",
            "created": p.date_created,
            "change": "wpbridge" if p.wpbridge is not None else ""}


def payment_text(p: Payment) -> str:
    cur = p.currency
    pairs: list[tuple[str, Any]] = [
        ("payment", f"#{p.id} ({p.status})"), ("membership", p.membership_id or "-"), ("customer", p.customer_id),
        ("subtotal", fmt_money(p.subtotal, cur)), ("discount", fmt_money(p.discount_total, cur)),
        ("tax", fmt_money(p.tax_total, cur)), ("total", fmt_money(p.total, cur)),
        ("gateway", p.gateway or "-"), ("gateway payment id", p.gateway_payment_id or "-"),
        ("reference", p.reference or "-"), ("invoice number", p.invoice_number or "-"),
        ("pay link", p.url or "-"), ("created", fmt_date(p.date_created) if p.date_created else "-"),
    ]
    if p.wpbridge is not None:
        change = p.wpbridge
        pairs += [("made for", f"a plan change by wpbridge (collect {change.collect}; membership was "
                               f"{change.status_before or '?'} when ordered)"),
                  ("settled", fmt_date(change.settled_at) if change.settled_at else "-")]
    rows = [{"type": li.type, "item": li.title, "qty": li.quantity, "unit price": _shown(li.unit_price, cur),
             "tax": _shown(li.tax_total, cur), "total": _shown(li.total, cur)} for li in p.line_items]
    return render_pairs(pairs) + "\n\n" + (render_table(rows) if rows else "(no line items)")


def _shown(amount: Decimal, currency: str) -> Decimal:
    """A line's amount for a person: the currency's decimals, unless UM keeps more (an unrounded credit)."""
    rounded = round_money(amount, currency)
    return rounded if rounded == amount else amount.normalize()


def register(main: click.Group) -> None:
    @main.group("payments")
    def payments() -> None:
        """The network's payments: what plan changes cost, and settling them."""

    @payments.command("list")
    @click.option("--membership", "membership_id", type=int, default=None, help="Only this membership's payments.")
    @click.option("--customer", "customer_id", type=int, default=None, help="Only this customer's payments.")
    @click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
    @network_options
    @handle_errors
    @output_fields(COLUMNS, PAYMENT_KEYS)
    def payments_list(membership_id: int | None, customer_id: int | None, status: str | None,
                      network_name: str | None, config_path: str | None, output: str) -> None:
        """List payments (oldest first)."""
        net = open_network(network_name, config_path)
        items = list(net.payments.list(membership_id=membership_id, customer_id=customer_id, status=status))
        emit(output, rows=[payment_row(p) for p in items], data=[p.model_dump(mode="json") for p in items],
             columns=COLUMNS)

    @payments.command("show")
    @click.argument("payment_id", type=int, metavar="ID")
    @network_options
    @handle_errors
    @output_fields(LINE_COLUMNS, PAYMENT_KEYS)
    def payments_show(payment_id: int, network_name: str | None, config_path: str | None, output: str) -> None:
        """One payment: lines, totals, taxes, discount, gateway, reference, invoice number, pay link."""
        p = flow.get_payment(open_network(network_name, config_path), payment_id)
        rows = [{"payment": p.id, **li.model_dump(mode="json")} for li in p.line_items]
        emit(output, rows=rows, data=p.model_dump(mode="json"), text=payment_text(p))

    @payments.command("settle")
    @click.argument("payment_id", type=int, metavar="ID")
    @click.option("--reference", default="", metavar="TEXT", help="What the money came with (transfer, receipt).")
    @click.option("--dry-run", is_flag=True, help="Say what settling would write; write nothing.")
    @click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask for confirmation.")
    @at_option("The moment of the settlement (ISO 8601, default now): a new period starts there.")
    @network_options
    @handle_errors
    @output_fields(COLUMNS, SETTLE_KEYS)
    def payments_settle(payment_id: int, reference: str, dry_run: bool, yes: bool, at: datetime | None,
                        network_name: str | None, config_path: str | None, output: str) -> None:
        """Mark a change's pending payment paid: completed (invoice number, reference), the membership active, and
        a new period from now when it was expired, cancelled or on-hold. Settling twice changes nothing."""
        net = open_network(network_name, config_path)
        now = at if at is not None else datetime.now(UTC)
        preview = flow.settle(net, payment_id, now=now, reference=reference, dry_run=True)
        if not dry_run and preview.payment.status == "pending" and not yes:
            click.echo(preview.message, err=True)
            try:
                if not click.confirm("Settle this payment?", default=False, err=True):
                    click.echo("Declined: nothing written")
                    sys.exit(EXIT_FAILED)
            except click.Abort:
                click.echo("Declined: nothing written")
                sys.exit(EXIT_FAILED)
        result = preview if dry_run else flow.settle(net, payment_id, now=now, reference=reference)
        emit(output, rows=[payment_row(result.payment)], data=result.as_dict(), text=result.message)
        sys.exit(EXIT_OK)

    @payments.command("cancel")
    @click.argument("payment_id", type=int, metavar="ID")
    @click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask for confirmation.")
    @network_options
    @handle_errors
    @output_fields(COLUMNS, CANCEL_KEYS)
    def payments_cancel(payment_id: int, yes: bool, network_name: str | None, config_path: str | None,
                        output: str) -> None:
        """Cancel a pending payment; a change it was made for is undone first (no change stays unpaid)."""
        net = open_network(network_name, config_path)
        if not yes:
            try:
                if not click.confirm(f"Cancel payment #{payment_id} (and undo the change it pays for)?",
                                     default=False, err=True):
                    click.echo("Declined: nothing written")
                    sys.exit(EXIT_FAILED)
            except click.Abort:
                click.echo("Declined: nothing written")
                sys.exit(EXIT_FAILED)
        payment, changed, message = flow.cancel(net, payment_id)
        emit(output, rows=[payment_row(payment)], data={"cancelled": changed, "message": message,
                                                        "payment": payment.model_dump(mode="json")}, text=message)
