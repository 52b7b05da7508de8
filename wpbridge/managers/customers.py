"""`net.customers`: the network's customers (`wu/v2/customer`) with their WordPress user's email and login."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..models import Customer
from .base import Context
from .flavor import Flavor


class CustomerManager:
    """The customers of one network. UM's REST leaves the user's email and login out (its `_user` is null), so in
    UM mode they come from plugin-stub's customer list (`users`: `net.imports.customers`, one paged read, joined
    by id): an export of a UM network must name its customers to be importable anywhere."""

    def __init__(self, ctx: Context, flavor: Callable[[], Flavor],
                 users: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._ctx = ctx
        self._flavor = flavor
        self._users = users

    def list(self, **filters: Any) -> Iterator[Customer]:
        return self._flavor().complete_customers(self._ctx.um_list("customer", Customer, filters), self)


    def get(self, customer_id: int) -> Customer:
        return self._ctx.um_one("customer", customer_id, Customer)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /wu/v2/customer (UM's own create, never sent twice blindly; an import creates through
        `net.imports` instead)."""
        return self._ctx.create("customer", body)

    # -- what the UM flavor adds (`Flavor.complete_customers`)

    def with_users(self, found: Iterator[Customer]) -> Iterator[Customer]:
        users = {int(row["id"]): row for row in self._users() if str(row.get("id", "")).isdigit()}
        for customer in found:
            yield with_user(customer, users.get(customer.id))


def with_user(customer: Customer, row: Mapping[str, Any] | None) -> Customer:
    """The customer with its WordPress user's email, login and name from plugin-stub's row (when UM's record has
    none and the row is this customer's: same id and user)."""
    if row is None or customer.user_email or (customer.user_id and row.get("user_id") != customer.user_id):
        return customer
    return customer.model_copy(update={
        "user_email": row.get("email") or None, "user_login": row.get("username") or None,
        "display_name": customer.display_name or row.get("display_name") or None,
    })
