"""`wpbridge customers list|show ID|EMAIL`: who a customer is (email, name, login, billing country) and their
memberships. (`--customer ID|EMAIL` of `memberships list` and `sites list` is read.py's `customer_filter`.)"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import click

from ..billing import CatalogIndex
from ..managers.customers import billing_country, customer_email, customer_name, find_customer
from ..models import Customer, Membership
from ..money import round_money
from ..workflows import NetworkReader
from .common import emit, handle_errors, model_fields, network_options, open_source, output_fields, snapshot_option
from .output import fmt_billing, fmt_date, render_pairs, render_table
from .read import report_unreadable

LIST_COLUMNS = ["id", "email", "name", "login", "country", "memberships"]
RECORD_KEYS = ("id", "email", "name", "login", "billing_country", "memberships",
               *model_fields(Customer, without=("id",)))
"""The keys of a customer in `-o json` (`customer_record`)."""


def _membership_entry(m: Membership, idx: CatalogIndex) -> dict[str, Any]:
    plan = idx.get(m.plan_id)
    return {"id": m.id, "plan": plan.slug if plan else m.plan_id, "status": m.status,
            "amount": round_money(m.amount, m.currency), "currency": m.currency,
            "period": fmt_billing(m.recurring, m.duration, m.duration_unit), "expires": m.date_expiration}


def customer_record(c: Customer, memberships: Iterable[Membership], idx: CatalogIndex) -> dict[str, Any]:
    """The customer as `-o json` gives it: UM's record plus who they are and their memberships."""
    return {
        "id": c.id, "email": customer_email(c), "name": customer_name(c), "login": c.user_login,
        "billing_country": billing_country(c), "memberships": [_membership_entry(m, idx) for m in memberships],
        **{k: v for k, v in c.model_dump().items() if k != "id"},
    }


def _memberships_text(record: dict[str, Any]) -> str | None:
    return "; ".join(f"{m['id']} {m['plan']} {m['status']}" for m in record["memberships"]) or None


def customer_row(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "email": record["email"], "name": record["name"], "login": record["login"],
            "country": record["billing_country"], "memberships": _memberships_text(record)}


def customer_text(record: dict[str, Any]) -> str:
    address = ", ".join(f"{k.removeprefix('billing_')} {v}" for k, v in (record.get("billing_address") or {}).items()
                        if v not in (None, ""))
    pairs = [("customer", record["id"]), ("email", record["email"] or "-"), ("name", record["name"] or "-"),
             ("login", record["login"] or "-"), ("user id", record.get("user_id") or "-"),
             ("billing country", record["billing_country"] or "-"), ("billing address", address or "-"),
             ("registered", fmt_date(record.get("date_registered"))),
             ("has trialed", "yes" if record.get("has_trialed") else "no"),
             ("vip", "yes" if record.get("vip") else "no")]
    rows = [{"id": m["id"], "plan": m["plan"], "status": m["status"], "amount": m["amount"],
             "currency": m["currency"], "period": m["period"], "expires": fmt_date(m["expires"])}
            for m in record["memberships"]]
    lines = [render_pairs(pairs), "", f"memberships ({len(rows)}):"]
    if rows:
        lines.append(render_table(rows, ["id", "plan", "status", "amount", "currency", "period", "expires"]))
    return "\n".join(lines)


def _records(source: NetworkReader, customers: Iterable[Customer]) -> list[dict[str, Any]]:
    idx = CatalogIndex(source.products.catalog())
    by_customer: dict[int, list[Membership]] = {}
    for m in source.memberships.list():
        by_customer.setdefault(m.customer_id, []).append(m)
    return [customer_record(c, by_customer.get(c.id, []), idx) for c in customers]


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""

    @main.group("customers")
    def customers() -> None:
        """The network's customers: email, name, login, billing country and memberships."""

    @customers.command("list")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(LIST_COLUMNS, RECORD_KEYS)
    def customers_list(snapshot: str | None, network_name: str | None, config_path: str | None,
                       output: str) -> None:
        """List customers with their email, name, login, billing country and memberships."""
        source = open_source(network_name, config_path, snapshot)
        records = _records(source, sorted(source.customers.list(), key=lambda c: c.id))
        emit(output, rows=[customer_row(r) for r in records], data=records, columns=LIST_COLUMNS)
        sys.exit(report_unreadable(source))

    @customers.command("show")
    @click.argument("key", metavar="ID|EMAIL")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(LIST_COLUMNS, RECORD_KEYS)
    def customers_show(key: str, snapshot: str | None, network_name: str | None, config_path: str | None,
                       output: str) -> None:
        """One customer, by id or email (any letter case): who they are, their billing address, their
        memberships."""
        source = open_source(network_name, config_path, snapshot)
        record = _records(source, [find_customer(source.customers.list(), key)])[0]
        emit(output, rows=[customer_row(record)], data=record, columns=LIST_COLUMNS, text=customer_text(record))
