"""`net.discount_codes`: the network's discount codes, read and written with every field right (both flavors).

Codes are read and written through plugin-stub's `wpbridge/v1/discount-codes` routes (plugin-stub/includes/
discount-codes.php), never through UM's REST: measured on UM 2.4.12, a `POST /wu/v2/discount_code` without
`description` answers 200 with id 0 and saves nothing, one without `setup_fee_value` is a 500, `max_uses` defaults
to 1, `value` must be an integer, and a GET reads `allowed_products` null (UM keeps it in the code's meta). The
companion writes through UM's own model in UM mode and its own table in stub mode, reads every write back and
answers 500 naming the field that did not stick; this manager checks the record it gets back once more.

A code is looked up as UM's Cart looks it up (`Cart::set_discount_code`: upper-cased, then found by `code`; MySQL
compares without case). A membership's own code: `membership_code` / `set_membership_code`
(`wpbridge/v1/memberships/{id}/discount-code`; UM keeps a copy of the code object in the membership's meta).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..encoding import to_jsonable, wp_utc
from ..errors import DataError, NotFound
from ..models import DiscountCode, parse
from ..rest.transport import route
from .base import COMPANION, Context, as_dict

WRITABLE = (
    "code", "name", "description", "value", "type", "setup_fee_value", "setup_fee_type", "uses", "max_uses",
    "apply_to_renewals", "active", "limit_products", "allowed_products", "limit_billing_periods",
    "allowed_billing_periods", "date_start", "date_expiration",
)
"""Every field of a code a write sets (the companion's DISCOUNT_CODE_FIELDS)."""


class DiscountCodeManager:
    """The discount codes of one network (`Network.discount_codes`)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def all(self) -> list[DiscountCode]:
        """Every code, by id, with every field (`GET /wpbridge/v1/discount-codes`); a code that cannot be read is
        left out and remembered in `unreadable`."""
        data = self._ctx.transport.get(route(COMPANION, "discount-codes")).data
        codes = data.get("discount_codes") if isinstance(data, dict) else None
        if not isinstance(codes, list):
            codes = []
        found = (self._ctx.tolerant(DiscountCode, item) for item in codes)
        return sorted((c for c in found if c is not None), key=lambda c: c.id or 0)

    def find(self, code: str) -> DiscountCode | None:
        """The code named `code` (compared without case, as UM's lookup), or None."""
        return find_code(self.all(), code)

    def get(self, ref: str | int) -> DiscountCode:
        """A code by id (digits) or by its code; NotFound when there is none."""
        return get_code(self.all(), ref)

    def list(self, **filters: Any) -> Iterator[DiscountCode]:
        """`wu/v2/discount_code`, paged (UM's REST: `allowed_products` reads null there; prefer `all()`)."""
        return self._ctx.um_list("discount_code", DiscountCode, filters)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /wpbridge/v1/discount-codes` (fields not given take the companion's defaults: no use limit, no
        setup-fee discount, the code as the name); after a try with an unknown outcome the code is looked up by its
        code first, so it is never created twice. 409 `wpbridge_discount_code_exists` when the code exists."""
        code = str(body.get("code") or "")

        def lookup() -> dict[str, Any] | None:
            found = self.find(code)
            return found.model_dump(mode="json") if found is not None else None

        reply = self._ctx.transport.create(route(COMPANION, "discount-codes"), dict(body),
                                           lookup=lookup if code else None)
        return checked(body, as_dict(reply))

    def update(self, code_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """`PUT /wpbridge/v1/discount-codes/{id}`: the fields given, absolute (safe to resend)."""
        reply = self._ctx.transport.request("PUT", route(COMPANION, "discount-codes", code_id), json_body=dict(body),
                                            idempotent=True)
        return checked(body, as_dict(reply.data))

    def put(self, code: DiscountCode, *, code_id: int | None = None,
            fields: Iterable[str] = WRITABLE) -> DiscountCode:
        """Write `code` (its `fields`): an update of `code_id` when given, else a create; the code read back."""
        body = code_body(code, fields)
        return parse(DiscountCode, self.update(code_id, body) if code_id is not None else self.create(body))

    def membership_code(self, membership_id: int) -> str | None:
        """The membership's own code (None: it has none); NotFound when there is no such membership."""
        data = self._ctx.transport.get(route(COMPANION, "memberships", membership_id, "discount-code")).data
        value = data.get("discount_code") if isinstance(data, dict) else None
        return str(value) if value else None

    def membership_codes(self) -> dict[int, str]:
        """{membership id: code} of every membership that has a code (`GET /wpbridge/v1/memberships/discount-codes`;
        UM's REST reads a membership's code as null)."""
        data = self._ctx.transport.get(route(COMPANION, "memberships", "discount-codes")).data
        rows = data.get("memberships") if isinstance(data, dict) else None
        out: dict[int, str] = {}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and str(row.get("membership_id", "")).isdigit() and row.get("discount_code"):
                out[int(row["membership_id"])] = str(row["discount_code"])
        return out

    def set_membership_code(self, membership_id: int, code: str | None) -> str | None:
        """Set (a code of the network, found without case) or clear (None) the membership's code; the code it
        reads back (DataError when that is not what was written)."""
        where = route(COMPANION, "memberships", membership_id, "discount-code")
        data = self._ctx.transport.request("PUT", where, json_body={"discount_code": code}, idempotent=True).data
        got = data.get("discount_code") if isinstance(data, dict) else None
        if (got or "").upper() != (code or "").upper():
            raise DataError(f"membership {membership_id}: discount code reads back {got!r} after {code!r} was"
                            " written", field="discount_code", record_id=membership_id)
        return str(got) if got else None


def code_body(code: DiscountCode, fields: Iterable[str] = WRITABLE) -> dict[str, Any]:
    """The request body of a code: its `fields` in their wire form (amounts as strings, dates as WordPress's GMT)."""
    return {name: to_jsonable(getattr(code, name), moment=wp_utc) for name in fields}


def checked(body: Mapping[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """`got` (the code the network answers after a write), when every field of `body` reads back as written;
    DataError naming the first field that does not."""
    sent = parse(DiscountCode, {"code": "", **body})
    have = parse(DiscountCode, got)
    for name in body:
        if name in WRITABLE and getattr(sent, name) != getattr(have, name):
            raise DataError(f"discount code {have.code}: {name} reads back {getattr(have, name)!r} after"
                            f" {getattr(sent, name)!r} was written", field=name, record_id=have.id)
    return got


def find_code(codes: list[DiscountCode], code: str) -> DiscountCode | None:
    """The code of `codes` named `code`, compared upper-cased (UM's `strtoupper` and MySQL's collation)."""
    wanted = code.strip().upper()
    return next((c for c in codes if c.code.upper() == wanted), None)


def get_code(codes: list[DiscountCode], ref: str | int) -> DiscountCode:
    """A code of `codes` by id (an int or digits) or by its code; NotFound naming `ref` otherwise."""
    text = str(ref).strip()
    found = find_code(codes, text)
    if found is None and text.isdigit():
        found = next((c for c in codes if c.id == int(text)), None)
    if found is None:
        raise NotFound(f"discount code {text} does not exist")
    return found
