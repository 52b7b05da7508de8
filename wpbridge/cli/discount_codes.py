"""`wpbridge discount-codes list|show CODE|ID`: the network's discount codes, every field read right (through
plugin-stub: UM's REST reads a code's `allowed_products` as null)."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import click

from ..errors import InputError
from ..managers.discount_codes import get_code
from ..models import DiscountCode
from ..workflows import DiscountCodesReadAPI, NetworkReader
from .common import (
    EXIT_OK,
    emit,
    handle_errors,
    model_fields,
    network_options,
    open_source,
    output_fields,
    snapshot_option,
)
from .output import fmt_date, render_pairs
from .read import report_unreadable


def _codes(source: NetworkReader) -> DiscountCodesReadAPI:
    api = source.discount_codes
    if api is None:
        raise InputError("discount codes: this source holds none (an offline snapshot): read them on the network")
    return api


def _off(kind: str, value: Decimal) -> str:
    return f"{value.normalize():f}%" if kind == "percentage" else f"{value.normalize():f}"


def _uses(c: DiscountCode) -> str:
    return f"{c.uses} of {c.max_uses}" if c.max_uses > 0 else f"{c.uses} (no limit)"


def code_row(c: DiscountCode) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "name": c.name, "active": c.active, "off": _off(c.type, c.value),
            "setup_fee_off": _off(c.setup_fee_type, c.setup_fee_value), "renewals": c.apply_to_renewals,
            "uses": _uses(c), "starts": c.date_start, "expires": c.date_expiration,
            "products": ", ".join(str(p) for p in c.allowed_products) if c.limit_products else "all"}


CODE_COLUMNS = ("id", "code", "name", "active", "off", "setup_fee_off", "renewals", "uses", "starts", "expires",
                "products")


def code_text(c: DiscountCode) -> str:
    return render_pairs([
        ("code", f"{c.code} (id {c.id})"), ("name", c.name or "-"), ("active", "yes" if c.active else "NO"),
        ("value", f"{_off(c.type, c.value)} off ({c.type})"),
        ("setup fee", f"{_off(c.setup_fee_type, c.setup_fee_value)} off ({c.setup_fee_type})"
         if c.setup_fee_value > 0 else "not discounted"),
        ("renewals", "discounted too" if c.apply_to_renewals else "first payment only"),
        ("uses", _uses(c)), ("starts", fmt_date(c.date_start)), ("expires", fmt_date(c.date_expiration)),
        ("products", ", ".join(str(p) for p in c.allowed_products) if c.limit_products else "all"),
        ("billing periods", ", ".join(c.allowed_billing_periods) if c.limit_billing_periods else "all"),
        ("description", c.description or "-"),
    ])


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""

    @main.group("discount-codes")
    def discount_codes() -> None:
        """The network's discount codes: value, setup fee, uses, dates, products."""

    @discount_codes.command("list")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(CODE_COLUMNS, model_fields(DiscountCode))
    def codes_list(snapshot: str | None, network_name: str | None, config_path: str | None, output: str) -> None:
        """Every code, by id."""
        source = open_source(network_name, config_path, snapshot)
        items = _codes(source).all()
        emit(output, rows=[code_row(c) for c in items], data=[c.model_dump(mode="json") for c in items],
             columns=CODE_COLUMNS)
        sys.exit(report_unreadable(source))

    @discount_codes.command("show")
    @click.argument("ref", metavar="CODE|ID")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(CODE_COLUMNS, model_fields(DiscountCode))
    def codes_show(ref: str, snapshot: str | None, network_name: str | None, config_path: str | None,
                   output: str) -> None:
        """One code, by its code (without case) or its id; exit 1 when there is none."""
        c = get_code(_codes(open_source(network_name, config_path, snapshot)).all(), ref)
        emit(output, rows=[code_row(c)], data=c.model_dump(mode="json"), text=code_text(c))
        sys.exit(EXIT_OK)
