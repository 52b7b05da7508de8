"""What UM's Membership::save() does to a membership's gateway for a change (wpbridge.billing.gateways; the facts
are docs/ultimate-multisite.md §10.4, measured on both UM builds by tests/integration/test_um_gateway.py)."""

from __future__ import annotations

from typing import Any

import pytest

from wpbridge.billing.gateways import (
    UM_NO_SUBSCRIPTION_ID,
    UM_PAYPAL_NO_DURATION_CHANGE,
    UM_PAYPAL_REST_NO_SUBSCRIPTION,
    GatewayEffect,
    gateway_effect,
    save_push,
)
from wpbridge.models import Membership

BASIC, PREMIUM, STORAGE, VISITS = 2, 3, 5, 4


def member(gateway: str | None = "manual", sub: str | None = None, **kw: Any) -> Membership:
    data: dict[str, Any] = {"id": 7, "customer_id": 3, "plan_id": BASIC, "amount": "15", "initial_amount": "15",
                            "duration": 1, "duration_unit": "month", "status": "active", "gateway": gateway,
                            "gateway_customer_id": "cus_1" if sub else None, "gateway_subscription_id": sub,
                            "addon_products": {STORAGE: 1}}
    data.update(kw)
    return Membership.model_validate(data)


UPGRADE = {"plan_id": PREMIUM, "addon_products": {STORAGE: 1}, "amount": "44.00", "initial_amount": "30.62",
           "duration": 1, "duration_unit": "month", "recurring": True}
"""A change of plan and amount, as Quote.target writes it."""
YEARLY = {**UPGRADE, "duration": 1, "duration_unit": "year", "amount": "440.00"}


# ------------------------------------------------------------------ what UM pushes


def test_ums_triggers_are_amount_products_and_period_only() -> None:
    m = member()
    assert save_push(m, UPGRADE).any
    assert save_push(m, {"amount": "15.00"}).any is False  # the same amount written differently
    assert save_push(m, {"amount": "16"}).amount
    assert save_push(m, {"addon_products": {STORAGE: 2}}).products
    assert save_push(m, {"addon_products": {str(STORAGE): 1}}).any is False  # JSON keys are strings
    assert save_push(m, {"addon_products": {STORAGE: 1, VISITS: 0}}).any is False  # a 0 quantity is not held
    assert save_push(m, {"addon_products": {}}).products
    assert save_push(m, {"duration": 3}).duration and save_push(m, {"duration_unit": "year"}).duration
    not_pushed = {"initial_amount": "99", "recurring": False, "date_expiration": "2030-01-01 00:00:00",
                  "date_renewed": "2026-12-03 00:00:00", "status": "on-hold"}
    assert not save_push(m, not_pushed).any
    assert not save_push(m, {}).any


def test_a_change_that_pushes_nothing_leaves_every_gateway_alone_but_names_the_billing_gateway() -> None:
    dates = {"date_expiration": "2030-01-01 00:00:00", "initial_amount": "1"}
    assert gateway_effect(member("stripe", "sub_1"), dates) == GatewayEffect("stripe", "sub_1", "", None)
    assert gateway_effect(member("paypal", "I-1"), {"amount": "15"}) == GatewayEffect("paypal", "I-1", "", None)
    assert gateway_effect(member("stripe", None), dates) == GatewayEffect(None, None, "", None)


@pytest.mark.parametrize("gateway", [None, "", "manual"])
def test_no_gateway_and_the_manual_gateway_are_not_gateway_billed(gateway: str | None) -> None:
    for target in (UPGRADE, YEARLY):
        assert gateway_effect(member(gateway), target) == GatewayEffect(None, None, "", None)
    assert gateway_effect(member(gateway, "leftover"), UPGRADE) == GatewayEffect(None, "leftover", "", None)


# ------------------------------------------------------------------ Stripe


@pytest.mark.parametrize("gateway", ["stripe", "stripe-checkout"])
def test_stripe_replaces_the_subscription_items_without_proration(gateway: str) -> None:
    effect = gateway_effect(member(gateway, "sub_9"), UPGRADE)
    assert (effect.gateway, effect.subscription_id, effect.refusal) == (gateway, "sub_9", None)
    assert "replaces the items of Stripe subscription sub_9" in effect.action and "without proration" in effect.action
    yearly = gateway_effect(member(gateway, "sub_9"), YEARLY)
    assert yearly.refusal is None and yearly.action == effect.action  # Stripe takes a period change too
    addon_only = gateway_effect(member(gateway, "sub_9"), {"addon_products": {STORAGE: 3}})
    assert addon_only.refusal is None and addon_only.action == effect.action  # products alone are pushed


@pytest.mark.parametrize("gateway", ["stripe", "stripe-checkout"])
def test_stripe_without_a_subscription_id_refuses_the_write_with_ums_words(gateway: str) -> None:
    effect = gateway_effect(member(gateway, None), UPGRADE)
    assert (effect.gateway, effect.subscription_id, effect.action) == (gateway, None, "")
    assert effect.refusal is not None and UM_NO_SUBSCRIPTION_ID in effect.refusal
    assert UM_NO_SUBSCRIPTION_ID == "Error: No gateway subscription ID found for this membership."


# ------------------------------------------------------------------ PayPal


def test_paypal_updates_the_profile_amount_and_refuses_a_period_change_with_ums_words() -> None:
    effect = gateway_effect(member("paypal", "I-77"), UPGRADE)
    assert effect == GatewayEffect("paypal", "I-77", effect.action, None)
    assert "updates PayPal recurring profile I-77" in effect.action
    for target in (YEARLY, {"duration": 3}, {"duration_unit": "week"}):
        refused = gateway_effect(member("paypal", "I-77"), target)
        assert refused.gateway == "paypal" and refused.action == ""
        assert refused.refusal is not None and UM_PAYPAL_NO_DURATION_CHANGE in refused.refusal
        assert "billing period" in refused.refusal
    assert UM_PAYPAL_NO_DURATION_CHANGE == "Error: PayPal does not support changing the duration of a subscription."
    no_sub = gateway_effect(member("paypal", None), YEARLY)  # UM checks the subscription id first
    assert no_sub.refusal is not None and UM_NO_SUBSCRIPTION_ID in no_sub.refusal


def test_paypal_rest_leaves_the_subscription_as_it_was() -> None:
    effect = gateway_effect(member("paypal-rest", "I-8"), YEARLY)
    assert (effect.gateway, effect.refusal) == ("paypal-rest", None)
    assert "does not change PayPal subscription I-8" in effect.action and "old amount" in effect.action
    no_sub = gateway_effect(member("paypal-rest", None), UPGRADE)
    assert no_sub.refusal is not None and UM_PAYPAL_REST_NO_SUBSCRIPTION in no_sub.refusal


# ------------------------------------------------------------------ UM's base gateway (add-ons, free)


def test_another_gateway_gets_ums_base_update_cancel_and_clear_on_amount_or_period() -> None:
    effect = gateway_effect(member("gocardless", "GC-1"), UPGRADE)
    assert (effect.gateway, effect.subscription_id, effect.refusal) == ("gocardless", "GC-1", None)
    assert "cancel subscription GC-1" in effect.action and "auto-renew off" in effect.action
    assert gateway_effect(member("gocardless", "GC-1"), {"duration": 2}).action == effect.action
    products_only = gateway_effect(member("gocardless", "GC-1"), {"plan_id": PREMIUM})
    assert products_only == GatewayEffect("gocardless", "GC-1", "", None)  # the base ignores products alone
    no_sub = gateway_effect(member("gocardless", None), {"amount": "20"})
    assert no_sub.gateway == "gocardless" and "none recorded" in no_sub.action


def test_the_free_gateway_is_not_billed_but_ums_save_clears_it_on_an_amount_change() -> None:
    effect = gateway_effect(member("free", None, amount="0", initial_amount="0"), UPGRADE)
    assert (effect.gateway, effect.refusal) == (None, None)
    assert "clears the membership's gateway" in effect.action
    assert gateway_effect(member("free", None), {"plan_id": PREMIUM}) == GatewayEffect(None, None, "", None)


# ------------------------------------------------------------------ the gateway itself changes


def test_a_write_that_changes_the_gateway_cancels_the_old_subscription_instead_of_updating_it() -> None:
    effect = gateway_effect(member("stripe", "sub_1"), {**YEARLY, "gateway": "manual"})
    assert effect.refusal is None and "cancel subscription sub_1" in effect.action
    cancelled = gateway_effect(member("paypal", "I-1"), {**YEARLY, "status": "cancelled"})
    assert cancelled.refusal is None and "cancel subscription I-1" in cancelled.action  # no duration refusal
    same = gateway_effect(member("paypal", "I-1"), {**YEARLY, "gateway": "paypal", "gateway_subscription_id": "I-1"})
    assert same.refusal is not None  # the same gateway fields are no change
    assert gateway_effect(member("manual"), {**UPGRADE, "gateway": "stripe"}) == GatewayEffect(None, None, "", None)
