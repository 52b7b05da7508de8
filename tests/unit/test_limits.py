"""The quota merge (DESIGN §5, reference §3.3): additive over add-ons and plan, then overrides."""

from __future__ import annotations

from typing import Any

import pytest

from wpbridge.errors import InputError
from wpbridge.limits import effective_limitations, merge_additive, merge_all, merge_data, merge_override
from wpbridge.models import Limitations, Membership, Product, Site
from wpbridge.sandbox.example import example_catalog

FREE, BASIC, PREMIUM, VISITS, STORAGE, SETUP = 1, 2, 3, 4, 5, 6


def lim(data: dict[str, Any]) -> Limitations:
    return Limitations.model_validate(data)


def role(number: int, enabled: bool = True) -> dict[str, Any]:
    return {"enabled": enabled, "number": number}


def member(plan_id: int, addons: dict[int, int] | None = None, **kw: Any) -> Membership:
    return Membership.model_validate({"id": 7, "customer_id": 1, "plan_id": plan_id,
                                      "addon_products": addons or {}, **kw})


# --------------------------------------------------------------------------- additive rules, numbers written out


@pytest.mark.parametrize(
    ("values", "total"),
    [([500, 100], 600), ([1, 2], 3), ([0, 5], 0), ([5, 0], 0), ([5, 3, 2], 10), ([7], 7)],
    ids=["disk 500+100", "sites 1+2", "unlimited first", "unlimited last", "three items", "alone"],
)
def test_numbers_add_and_unlimited_wins(values: list[int], total: int) -> None:
    merged = merge_all(lim({"disk_space": {"enabled": True, "limit": v}}) for v in values)
    assert merged.disk_space is not None and merged.disk_space.limit == total


def test_nested_role_numbers_add() -> None:
    merged = merge_all([lim({"users": {"enabled": True, "limit": {"editor": role(5)}}}),
                        lim({"users": {"enabled": True, "limit": {"editor": role(3), "author": role(2)}}})])
    assert merged.users is not None
    assert {k: v.number for k, v in merged.users.limit.items()} == {"editor": 8, "author": 2}


def test_incoming_none_does_not_overwrite() -> None:
    plan = lim({"site_templates": {"enabled": True, "mode": "choose_available_templates",
                                   "limit": {"12": {"behavior": "available"}}}})
    addon = lim({"site_templates": {"enabled": True, "limit": None}})
    merged = merge_additive(plan, addon)
    assert merged.site_templates is not None and merged.site_templates.limit is not None
    assert list(merged.site_templates.limit) == ["12"]


def test_disabled_incoming_module_is_skipped() -> None:
    merged = merge_additive(lim({"disk_space": {"enabled": True, "limit": 1000}}),
                            lim({"disk_space": {"enabled": False, "limit": 5}}))
    assert merged.disk_space is not None and (merged.disk_space.enabled, merged.disk_space.limit) == (True, 1000)


def test_disabled_current_module_is_reset_then_filled() -> None:
    merged = merge_additive(lim({"disk_space": {"enabled": False, "limit": 300}}),
                            lim({"disk_space": {"enabled": True, "limit": 100}}))
    assert merged.disk_space is not None and (merged.disk_space.enabled, merged.disk_space.limit) == (True, 100)


def test_a_role_granted_by_an_addon_survives_the_plans_disabled_role() -> None:
    catalog = [*example_catalog(), Product.model_validate({
        "id": 7, "slug": "editors", "type": "package", "amount": "3",
        "limitations": {"users": {"enabled": True, "limit": {"editor": role(3)}}}})]
    alone = effective_limitations(member(FREE), catalog)
    assert alone.users is not None and (alone.users.limit["editor"].enabled, alone.users.limit["editor"].number) == (
        False, 0)
    granted = effective_limitations(member(FREE, {7: 1}), catalog)
    assert granted.users is not None
    assert (granted.users.limit["editor"].enabled, granted.users.limit["editor"].number) == (True, 3)
    assert granted.users.limit["administrator"].number == 1


@pytest.mark.parametrize(("a", "b", "result"), [(True, False, True), (False, True, True), (False, False, False)])
def test_true_is_sticky(a: bool, b: bool, result: bool) -> None:
    merged = merge_additive(lim({"hide_credits": {"enabled": True, "limit": a}}),
                            lim({"hide_credits": {"enabled": True, "limit": b}}))
    assert merged.hide_credits is not None and merged.hide_credits.limit is result


# Measured on UM 2.4.12 (Limitations::merge_recursive; tests/cartdiff/limits.py checks random catalogs): its
# priority table ranks visible (1) above hidden (0), so visible wins whatever the order.
@pytest.mark.parametrize(("a", "b", "result"), [("hidden", "visible", "visible"), ("visible", "hidden", "visible"),
                                                 ("hidden", "hidden", "hidden")])
def test_visible_beats_hidden(a: str, b: str, result: str) -> None:
    merged = merge_additive(lim({"themes": {"limit": {"astra": {"visibility": a}}}}),
                            lim({"themes": {"limit": {"astra": {"visibility": b}}}}))
    assert merged.themes is not None and merged.themes.limit["astra"].visibility == result


def test_um_main_makes_hidden_beat_visible() -> None:
    # UM 2.4.13 swapped the priorities (hidden 1, visible 0); the composite follows the network's release
    catalog = [Product.model_validate({"id": 1, "slug": "p", "limitations": {
                   "themes": {"enabled": True, "limit": {"astra": {"visibility": "visible"}}}}}),
               Product.model_validate({"id": 2, "slug": "a", "type": "package", "limitations": {
                   "themes": {"enabled": True, "limit": {"astra": {"visibility": "hidden"}}}}})]
    for version, result in ((None, "visible"), ("2.4.12", "visible"), ("2.4.13-beta.1", "hidden")):
        merged = effective_limitations(member(1, {2: 1}), catalog, um_version=version)
        assert merged.themes is not None and merged.themes.limit["astra"].visibility == result, version


# UM looks its behaviour priorities up under the module `id`, which stored data does not carry: the priority is
# never found and the behaviour merged first stays (measured on UM 2.4.12).
@pytest.mark.parametrize(
    ("module", "a", "b", "result"),
    [
        ("plugins", "default", "force_inactive_locked", "default"),
        ("plugins", "force_active_locked", "force_active", "force_active_locked"),
        ("themes", "not_available", "available", "not_available"),
        ("site_templates", "not_available", "available", "not_available"),
    ],
)
def test_the_first_behaviour_stays(module: str, a: str, b: str, result: str) -> None:
    merged = merge_additive(lim({module: {"limit": {"x": {"behavior": a}}}}),
                            lim({module: {"limit": {"x": {"behavior": b}}}}))
    assert getattr(merged, module).limit["x"].behavior == result


def test_other_strings_are_the_last_merged() -> None:
    # UM calls merge(...$items) whose first parameter is `$override`: the first item (here the only add-on) is
    # moved to the end, so its strings win over the plan's
    catalog = [
        Product.model_validate({"id": 1, "slug": "p", "limitations": {
            "customer_user_role": {"enabled": True, "limit": "administrator"},
            "site_templates": {"enabled": True, "mode": "assign_template"}}}),
        Product.model_validate({"id": 2, "slug": "a", "type": "package", "limitations": {
            "customer_user_role": {"enabled": True, "limit": "editor"},
            "site_templates": {"enabled": True, "mode": "choose_available_templates"}}}),
    ]
    merged = effective_limitations(member(1, {2: 1}), catalog)
    assert merged.customer_user_role is not None and merged.customer_user_role.limit == "editor"
    assert merged.site_templates is not None and merged.site_templates.mode == "choose_available_templates"
    # with no add-on the plan's own strings are the composite's
    alone = effective_limitations(member(1, {}), catalog)
    assert alone.customer_user_role is not None and alone.customer_user_role.limit == "administrator"


# UM's generic rules, measured on 2.4.12: counts add, True is sticky, 0 (its "unlimited" number) stays, and a
# later False replaces a count.
@pytest.mark.parametrize(
    ("a", "b", "result"),
    [(False, 2, 2), (2, False, False), (1, 2, 3), (True, 1, True), (1, True, True), (False, False, False),
     (0, 0, 0), (0, 3, 0), (None, 2, 2), (2, None, 2)],
)
def test_domain_mapping_merges_as_um_does(a: Any, b: Any, result: Any) -> None:
    merged = merge_additive(lim({"domain_mapping": {"enabled": True, "limit": a}}),
                            lim({"domain_mapping": {"enabled": True, "limit": b}}))
    assert merged.domain_mapping is not None and merged.domain_mapping.limit is not None
    assert merged.domain_mapping.limit == result and type(merged.domain_mapping.limit) is type(result)


def test_plugins_and_themes_are_always_enabled() -> None:
    merged = merge_additive(lim({}), lim({"plugins": {"enabled": False, "limit": {}},
                                          "themes": {"enabled": False, "limit": {}}}))
    assert merged.plugins is not None and merged.plugins.enabled is True
    assert merged.themes is not None and merged.themes.enabled is True


def test_merge_data_leaves_its_inputs_alone() -> None:
    a = {"users": {"enabled": True, "limit": {"editor": role(5)}}}
    b = {"users": {"enabled": True, "limit": {"editor": role(3)}}}
    merged = merge_data(a, b, additive=True)
    assert merged["users"]["limit"]["editor"]["number"] == 8
    assert a["users"]["limit"]["editor"]["number"] == 5 and b["users"]["limit"]["editor"]["number"] == 3


# --------------------------------------------------------------------------- composites


def test_addons_repeat_by_quantity_then_the_plan() -> None:
    merged = effective_limitations(member(FREE, {STORAGE: 2, VISITS: 1}), example_catalog())
    assert merged.disk_space is not None and merged.disk_space.limit == 2100  # 1000 + 1000 + 100
    assert merged.visits is not None and merged.visits.limit == 0  # unlimited visits
    assert merged.post_types is not None and merged.post_types.limit["post"].number == 10
    assert merged.domain_mapping is not None and merged.domain_mapping.limit is False


def test_plan_alone() -> None:
    merged = effective_limitations(member(PREMIUM), example_catalog())
    assert merged.disk_space is not None and merged.disk_space.limit == 5000
    assert merged.domain_mapping is not None and merged.domain_mapping.limit is True


def test_membership_override_replaces_only_what_it_names() -> None:
    m = member(BASIC, {STORAGE: 1}, limitations={"disk_space": {"limit": 7},
                                                 "users": {"limit": {"editor": {"number": 9}}}})
    merged = effective_limitations(m, example_catalog())
    assert merged.disk_space is not None and (merged.disk_space.enabled, merged.disk_space.limit) == (True, 7)
    assert merged.users is not None
    assert {k: (v.enabled, v.number) for k, v in merged.users.limit.items()} == {
        "administrator": (True, 1), "editor": (True, 9)}


def test_override_replaces_with_none_too() -> None:
    merged = merge_override(lim({"visits": {"enabled": True, "limit": 1000}}), lim({"visits": {"limit": None}}))
    assert merged.visits is not None and merged.visits.limit is None


def test_site_override_comes_last() -> None:
    m = member(BASIC, limitations={"disk_space": {"limit": 7}})
    site = Site(blog_id=3, membership_id=7, type="customer_owned", limitations={"disk_space": {"limit": 2}})
    merged = effective_limitations(m, example_catalog(), site)
    assert merged.disk_space is not None and merged.disk_space.limit == 2
    assert merged.sites is not None and merged.sites.limit == 2


def test_sites_not_owned_by_a_customer_have_no_limitations() -> None:
    merged = effective_limitations(member(BASIC), example_catalog(), Site(blog_id=1, type="main"))
    assert merged == Limitations()


def test_site_of_another_membership_is_refused() -> None:
    with pytest.raises(InputError, match="site 3 belongs to membership 8, not 7"):
        effective_limitations(member(BASIC), example_catalog(), Site(blog_id=3, membership_id=8))


def test_missing_products_are_named() -> None:
    with pytest.raises(InputError, match="membership 7: plan_id 40 is not in the catalog"):
        effective_limitations(member(40), example_catalog())
    with pytest.raises(InputError, match="membership 7: addon_products has product 41"):
        effective_limitations(member(BASIC, {41: 1}), example_catalog())
