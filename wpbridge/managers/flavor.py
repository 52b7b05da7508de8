"""The two flavors of a network, chosen once: plugin-stub alone ("stub") or beside Ultimate Multisite ("um").

`flavor_of(info)` is the one place in wpbridge that reads plugin-stub's mode. Everything that differs between the
flavors is a method or an attribute of the `Flavor` it returns: the managers hand it their own readers (strategy
by double dispatch, so the routes stay with the manager that owns them), and the workflows ask it what the
network does for them (who computes the sites' limits, which fields a scheduled swap keeps, whether a gateway is
told of a change). Nothing else compares the mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, Protocol, TypeVar

from ..models import Customer, Membership, NetworkInfo, Site

T = TypeVar("T")


class SiteSource(Protocol):
    """The two ways `net.sites` can list sites (both its own routes)."""

    def from_um(self, filters: Mapping[str, Any]) -> Iterator[Site]:
        """`GET /wu/v2/site` with column filters (plugin-stub's own subset in stub mode)."""
        ...

    def from_companion(self, *, membership_id: int | None, customer_id: int | None,
                       filters: Mapping[str, Any]) -> Iterator[Site]:
        """`GET /wpbridge/v1/sites`: plugin-stub's listing with the links UM's REST leaves out."""
        ...


class MembershipCompletion(Protocol):
    """What `net.memberships` adds to UM's records in UM mode: each membership's own override."""

    def with_overrides(self, found: Iterable[Membership]) -> Iterator[Membership]: ...

    def with_override(self, found: Membership) -> Membership: ...


class CustomerCompletion(Protocol):
    """What `net.customers` adds to UM's records in UM mode: the WordPress user's email and login."""

    def with_users(self, found: Iterator[Customer]) -> Iterator[Customer]: ...


class Flavor:
    """What differs between the flavors. The base class is plugin-stub alone (stub mode)."""

    name: Literal["stub", "um"] = "stub"
    computes_limits = False
    """True: the network computes every site's limits from its membership (UM); wpbridge writes no site quota and
    reads the computed limits back. False: wpbridge writes each site's quota (stub)."""
    swap_keys: tuple[str, ...] | None = None
    """The membership fields a stored scheduled change is compared on when read back (None: the whole target)."""
    tells_gateways = False
    """True: saving a membership tells its payment gateway (UM's `Membership::save()`), so a quote says what the
    gateway will do and a change the gateway would refuse is blocked."""
    scheduled_label = "scheduled change"
    sites_route = "GET /wu/v2/site"
    """The listing the sites' links come from (named when they cannot be read)."""
    keeps_payment_hash = True
    """True: a payment's hash given by an import is stored as given (the stub's column holds 32 characters). False:
    the network derives a payment's hash, and its pay link, from the payment's own id (UM)."""
    numeric_invoice_numbers = True
    """True: invoice numbers are stored as numbers (the stub), so one that is not a number is not kept."""
    keeps_tax_exemption = True
    """True: a customer's tax exemption is stored (the stub's tax option). False: the network keeps none (UM: its
    filter `wu_cart_is_tax_exempt` decides), so an import names the exempt customers it cannot carry."""
    keeps_cancelled_gateway = True
    """False: saving a cancelled membership clears its gateway and gateway ids (UM's `Membership::save()`)."""
    derives_has_trialed = False
    """True: a customer with a membership that has a trial end has trialed, whatever was written (UM's
    `Customer::has_trialed()`)."""
    billing_address_keys: tuple[str, ...] | None = None
    """The lines of a customer's billing address the network keeps (None: any, the stub's JSON column)."""
    keeps_mapped_domains = False
    """True: the network keeps domains mapped to its sites (UM's Domain records, `wu/v2/domain`); an export carries
    them and an import writes them. False: it keeps none (plugin-stub alone)."""
    offers_swaps_by_group = False
    """True: a scheduled change to a plan of another plan group, an inactive plan or an add-on the new plan does not
    offer is refused unless forced (UM's swap route, as UM's Change form offers them); an import forces it, says so."""

    def pick(self, *, stub: T, um: T) -> T:
        """This flavor's one of two things (a workflow's own strategy per flavor, say), without naming the mode."""
        return stub

    def list_sites(self, source: SiteSource, *, membership_id: int | None, customer_id: int | None,
                   filters: Mapping[str, Any]) -> Iterator[Site]:
        return source.from_um({"membership_id": membership_id, "customer_id": customer_id, **filters})

    def complete_memberships(self, found: Iterator[Membership], source: MembershipCompletion) -> Iterator[Membership]:
        return found

    def complete_membership(self, found: Membership, source: MembershipCompletion) -> Membership:
        return found

    def complete_customers(self, found: Iterator[Customer], source: CustomerCompletion) -> Iterator[Customer]:
        return found

    def __repr__(self) -> str:
        return f"<flavor {self.name}>"


class UMFlavor(Flavor):
    """plugin-stub beside Ultimate Multisite: UM is the system of record and the enforcer. UM's REST leaves out the
    sites' links, the memberships' own overrides and the customers' users; plugin-stub's routes give them."""

    name: Literal["stub", "um"] = "um"
    computes_limits = True
    keeps_mapped_domains = True
    swap_keys = ("plan_id", "addon_products", "duration", "duration_unit", "amount")
    """The fields UM's `Membership::swap()` sets from a Cart the same way wpbridge's quote does (UM's swap also
    sets `initial_amount` to the swap cart's total, 0, and `recurring`)."""
    tells_gateways = True
    scheduled_label = "UM scheduled swap"
    sites_route = "GET /wpbridge/v1/sites"
    keeps_payment_hash = False
    numeric_invoice_numbers = False
    keeps_tax_exemption = False
    keeps_cancelled_gateway = False
    derives_has_trialed = True
    offers_swaps_by_group = True
    billing_address_keys = ("company_name", "billing_email", "billing_address_line_1", "billing_address_line_2",
                            "billing_country", "billing_state", "billing_city", "billing_zip_code", "ip_country")
    """UM's `Billing_Address::fields()` (inc/objects/class-billing-address.php): it drops any other key; and
    `ip_country`, which UM keeps in its own customer meta (plugin-stub reads and writes it there)."""

    def pick(self, *, stub: T, um: T) -> T:
        return um

    def list_sites(self, source: SiteSource, *, membership_id: int | None, customer_id: int | None,
                   filters: Mapping[str, Any]) -> Iterator[Site]:
        return source.from_companion(membership_id=membership_id, customer_id=customer_id, filters=filters)

    def complete_memberships(self, found: Iterator[Membership], source: MembershipCompletion) -> Iterator[Membership]:
        return source.with_overrides(found)

    def complete_membership(self, found: Membership, source: MembershipCompletion) -> Membership:
        return source.with_override(found)

    def complete_customers(self, found: Iterator[Customer], source: CustomerCompletion) -> Iterator[Customer]:
        return source.with_users(found)


STUB = Flavor()
UM = UMFlavor()


def flavor_of(info: NetworkInfo) -> Flavor:
    """The network's flavor, from what `GET /wpbridge/v1/info` (or a snapshot's info) says: THE one reading of
    plugin-stub's mode in wpbridge."""
    return UM if info.mode == "um" else STUB
