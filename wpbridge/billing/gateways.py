"""What Ultimate Multisite's `Membership::save()` does to a membership's payment gateway for a change.

wpbridge writes a change as the membership's absolute new state (`PUT /wu/v2/membership/{id}`); UM's save then
hands the change to the membership's gateway (reference docs/ultimate-multisite.md §10.4, identical in UM 2.4.12
and 2.4.13-beta.1):
- UM calls the gateway's `process_membership_update` only when the **amount**, the **products** (plan + add-ons
  with quantities) or the **period** (duration, unit) change, and only when the same write does not also change
  the gateway fields (then UM asks the old gateway to cancel its subscription instead). Dates, status,
  `initial_amount`, `recurring` alone are never pushed.
- **Stripe** (`stripe`, `stripe-checkout`): the subscription's items are replaced by the membership's new recurring
  lines, `proration_behavior` none (Stripe charges no difference; the new price applies from the next invoice).
  No subscription id: the save fails.
- **PayPal** (`paypal`, the legacy NVP gateway): the recurring profile's amount is updated
  (`UpdateRecurringPaymentsProfile`); a change of period, or no subscription id, fails the save.
- **PayPal REST** (`paypal-rest`, UM 2.4.13-beta.1 only; not registered in 2.4.12): the request is only logged;
  PayPal keeps billing the old amount. No subscription id: the save fails (UM main).
- **manual**: nothing. No gateway (''): nothing.
- **Any other gateway** (add-ons, `free`): UM's base gateway, unless the add-on overrides it: on a change of amount
  or period (not of products alone) it cancels the subscription at the gateway and clears the membership's gateway,
  gateway customer id, subscription id and auto-renew.
- A failed gateway call fails the save: UM answers the PUT with HTTP 500 and the gateway's own code and message,
  and nothing of the membership is written.

Pure: no I/O. `target` is the state a change writes (`Quote.target`: UM field names, wire-ready values); a key it
leaves out keeps the membership's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..models import Membership

NOT_BILLED = frozenset({"", "manual", "free"})
"""Gateways that never bill a membership by subscription: none, UM's manual gateway (invoices paid by hand) and
UM's free gateway."""
STRIPE = frozenset({"stripe", "stripe-checkout"})
PAYPAL = "paypal"
PAYPAL_REST = "paypal-rest"

UM_NO_SUBSCRIPTION_ID = "Error: No gateway subscription ID found for this membership."
"""UM's own refusal (Stripe `wu_stripe_no_subscription_id`, PayPal `wu_paypal_no_subscription_id`)."""
UM_PAYPAL_REST_NO_SUBSCRIPTION = "No subscription ID found for this membership."
"""UM main's PayPal REST refusal (`wu_paypal_no_subscription`)."""
UM_PAYPAL_NO_DURATION_CHANGE = "Error: PayPal does not support changing the duration of a subscription."
"""UM's PayPal refusal of a period change (`wu_paypal_no_duration_change`)."""

GATEWAY_FIELDS = ("gateway", "gateway_customer_id", "gateway_subscription_id")


@dataclass(frozen=True)
class SavePush:
    """What in a change makes UM's save call the gateway's `process_membership_update`."""

    amount: bool
    products: bool
    duration: bool

    @property
    def any(self) -> bool:
        return self.amount or self.products or self.duration


@dataclass(frozen=True)
class GatewayEffect:
    gateway: str | None
    """The gateway that bills the membership, or that UM's save hands this change to; None when neither (no gateway,
    `manual`, `free`, or another gateway without a subscription id that this change is not handed to)."""
    subscription_id: str | None
    """The membership's `gateway_subscription_id` at that gateway (None: none)."""
    action: str
    """Plain words: what UM's save will do to the subscription ('' when nothing)."""
    refusal: str | None
    """Why this change cannot be made for this gateway: UM's save would fail with the gateway's message (None: it
    can). Check it before any write."""


def save_push(membership: Membership, target: Mapping[str, Any]) -> SavePush:
    """UM's triggers (`Membership::save`): amount as floats, the product lists as `id|quantity` entries (count, then
    both set differences), duration and unit exactly."""
    amount = "amount" in target and _decimal(target["amount"]) != membership.amount
    old_products = _product_entries(membership.plan_id, membership.addon_products)
    new_products = _product_entries(target.get("plan_id", membership.plan_id),
                                    target.get("addon_products", membership.addon_products))
    products = len(old_products) != len(new_products) or set(old_products) != set(new_products)
    duration = (_int(target.get("duration", membership.duration)) != membership.duration
                or str(target.get("duration_unit", membership.duration_unit)) != membership.duration_unit)
    return SavePush(amount=amount, products=products, duration=duration)


def gateway_effect(membership: Membership, target: Mapping[str, Any]) -> GatewayEffect:
    """What UM's save of `target` will do to the membership's gateway subscription, and whether it will refuse."""
    gateway = membership.gateway or ""
    sub = membership.gateway_subscription_id or None
    shown = gateway if gateway not in NOT_BILLED and sub is not None else None
    if _gateway_changes(membership, target):
        return _cancelled(gateway, sub, shown)
    push = save_push(membership, target)
    if not push.any or gateway in ("", "manual"):
        return GatewayEffect(shown, sub, "", None)
    if gateway in STRIPE:
        return _stripe(gateway, sub)
    if gateway == PAYPAL:
        return _paypal(gateway, sub, push)
    if gateway == PAYPAL_REST:
        return _paypal_rest(gateway, sub)
    return _base_gateway(gateway, sub, shown, push)


def _cancelled(gateway: str, sub: str | None, shown: str | None) -> GatewayEffect:
    """The write changes the gateway fields: UM asks the old gateway to cancel instead of updating."""
    if gateway in NOT_BILLED or gateway == PAYPAL_REST:
        return GatewayEffect(shown, sub, "", None)  # their cancellation does nothing
    what = f"subscription {sub}" if sub else "its subscription"
    return GatewayEffect(gateway, sub, f"UM's save asks {_name(gateway)} to cancel {what} (the gateway of the "
                                       f"membership changes).", None)


def _stripe(gateway: str, sub: str | None) -> GatewayEffect:
    if sub is None:
        return GatewayEffect(gateway, None, "", _no_subscription(gateway, UM_NO_SUBSCRIPTION_ID))
    return GatewayEffect(gateway, sub, f"UM's save replaces the items of Stripe subscription {sub} with the "
                                       f"membership's new recurring lines, without proration (Stripe charges "
                                       f"no difference now; the new price applies from the next invoice).", None)


def _paypal(gateway: str, sub: str | None, push: SavePush) -> GatewayEffect:
    if sub is None:
        return GatewayEffect(gateway, None, "", _no_subscription(gateway, UM_NO_SUBSCRIPTION_ID))
    if push.duration:
        return GatewayEffect(gateway, sub, "", f"PayPal cannot change the billing period of recurring profile "
                                               f"{sub}: UM's save refuses it (\"{UM_PAYPAL_NO_DURATION_CHANGE}\"). "
                                               f"Keep the period, or cancel the PayPal profile and bill the "
                                               f"membership another way.")
    return GatewayEffect(gateway, sub, f"UM's save updates PayPal recurring profile {sub} to the new recurring "
                                       f"amount.", None)


def _paypal_rest(gateway: str, sub: str | None) -> GatewayEffect:
    if sub is None:
        return GatewayEffect(gateway, None, "", _no_subscription(gateway, UM_PAYPAL_REST_NO_SUBSCRIPTION))
    return GatewayEffect(gateway, sub, f"UM's save does not change PayPal subscription {sub} (UM only logs the "
                                       f"request): PayPal keeps billing the old amount and period until the "
                                       f"subscription is changed at PayPal.", None)


def _base_gateway(gateway: str, sub: str | None, shown: str | None, push: SavePush) -> GatewayEffect:
    """UM's base gateway (free, and add-on gateways that do not override process_membership_update)."""
    if not (push.amount or push.duration):
        return GatewayEffect(shown, sub, "", None)  # the base gateway ignores a change of products alone
    cleared = "clears the membership's gateway, gateway customer and subscription ids and turns auto-renew off"
    if gateway == "free":
        return GatewayEffect(None, sub, f"UM's save {cleared} (UM's free gateway has no subscription).", None)
    what = f"subscription {sub}" if sub else "its subscription (none recorded)"
    return GatewayEffect(gateway, sub, f"UM's save asks {_name(gateway)} to cancel {what} and {cleared} (UM's base "
                                       f"gateway update; a gateway add-on may do otherwise).", None)


def _no_subscription(gateway: str, um_message: str) -> str:
    return (f"the membership is billed through {_name(gateway)} but has no subscription id: UM's save refuses any "
            f"change of amount, products or period (\"{um_message}\").")


def _name(gateway: str) -> str:
    return {"stripe": "Stripe", "stripe-checkout": "Stripe Checkout", PAYPAL: "PayPal",
            PAYPAL_REST: "PayPal"}.get(gateway, f"the gateway '{gateway}'")


def _gateway_changes(membership: Membership, target: Mapping[str, Any]) -> bool:
    """UM's `has_gateway_changes` (a cancelled status clears the gateway fields on save)."""
    if target.get("status") == "cancelled" and membership.status != "cancelled":
        return any(getattr(membership, key) for key in GATEWAY_FIELDS)
    return any(key in target and (target[key] or "") != (getattr(membership, key) or "") for key in GATEWAY_FIELDS)


def _product_entries(plan_id: Any, addons: Any) -> list[str]:
    """UM's `get_all_products()` as `id|quantity` entries: the plan (quantity 1), then the add-ons held."""
    entries = [f"{_int(plan_id)}|1"] if _int(plan_id) else []
    if isinstance(addons, Mapping):
        entries += [f"{_int(pid)}|{_int(qty)}" for pid, qty in addons.items() if _int(qty) > 0]
    return entries


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None  # unreadable: counts as a change (UM would push whatever it stores)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
