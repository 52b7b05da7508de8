"""`net.customers`: the network's customers (`wu/v2/customer`) with their WordPress user's email and login."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from difflib import get_close_matches
from typing import Any

from ..errors import InputError
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
    """The customer with its WordPress user's email, login and name, and its billing address, from plugin-stub's
    row (what UM's record lacks, when the row is this customer's: same id and user)."""
    if row is None or (customer.user_id and row.get("user_id") != customer.user_id):
        return customer
    update: dict[str, Any] = {}
    if not customer.user_email:
        update.update(user_email=row.get("email") or None, user_login=row.get("username") or None,
                      display_name=customer.display_name or row.get("display_name") or None)
    address = row.get("billing_address")
    if not customer.billing_address and isinstance(address, Mapping) and address:
        update["billing_address"] = dict(address)
    if row.get("has_trialed") and not customer.has_trialed:  # UM's has_trialed(): its REST gives the column only
        update["has_trialed"] = True
    return customer.model_copy(update=update) if update else customer


# -- who a customer is (the `customers` commands and `--customer ID|EMAIL`)


def customer_email(customer: Customer) -> str | None:
    """The customer's email: their WordPress user's, else the billing address's."""
    billing = customer.billing_address.get("billing_email")
    return customer.user_email or (str(billing) if billing else None)


def customer_name(customer: Customer) -> str | None:
    """The customer's name: their WordPress display name, else the billing address's name."""
    billing = customer.billing_address.get("billing_name")
    return customer.display_name or (str(billing) if billing else None)


def billing_country(customer: Customer) -> str | None:
    country = customer.billing_address.get("billing_country")
    return str(country) if country else None


def is_customer_id(key: str) -> bool:
    """`--customer 7` is an id; anything else an email (or a login)."""
    return key.strip().isdigit()


def find_customer(customers: Iterable[Customer], key: str) -> Customer:
    """The customer `key` names: an id, an email (any letter case) or a login. Unknown: an InputError (exit 2)
    naming the key, with the closest email when one is close ("did you mean")."""
    wanted = key.strip()
    found = list(customers)
    if is_customer_id(wanted):
        for customer in found:
            if customer.id == int(wanted):
                return customer
        raise InputError(f"customer {int(wanted)} does not exist", field="customer", record_id=int(wanted))
    lowered = wanted.lower()
    by_email = [c for c in found if (customer_email(c) or "").lower() == lowered]
    by_login = [c for c in found if (c.user_login or "").lower() == lowered]
    if by_email or by_login:
        return (by_email or by_login)[0]
    what = "email" if "@" in wanted else "email or login"
    raise InputError(f"no customer with {what} {wanted!r}{_closest_email(lowered, found)}", field="customer")


def _closest_email(wanted: str, customers: Iterable[Customer]) -> str:
    """` (did you mean 'x'?)` for the email closest to `wanted`, '' when none is close."""
    emails = [e.lower() for e in (customer_email(c) for c in customers) if e]
    close = get_close_matches(wanted, emails, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def customer_id_of(key: str, customers: Callable[[], Iterable[Customer]]) -> int:
    """The customer id `--customer ID|EMAIL` names: an id as is (an unknown one simply matches nothing), an email
    or login looked up in `customers()` (read only then); unknown: an InputError naming `--customer`."""
    if is_customer_id(key):
        return int(key.strip())
    try:
        return find_customer(customers(), key).id
    except InputError as err:
        raise InputError(f"Invalid value for '--customer': {err}", field="customer") from None
