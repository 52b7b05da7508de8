"""`wpbridge import` of the network's taxes and what a target cannot hold (issue 19, issue 21 item 4): the plan's
`taxes` step, and `not_kept_fields` naming each field an Ultimate Multisite target drops."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.unit.test_import_input import CATALOG, export
from tests.unit.test_import_plan import target
from wpbridge.billing import TaxRate, TaxSettings
from wpbridge.managers.flavor import STUB, UM
from wpbridge.workflows.importer_input import check_references, read_json
from wpbridge.workflows.importer_plan import build_plan
from wpbridge.workflows.importer_taxes import TargetTaxes, not_kept_fields

FR = {"category": "default", "country": "FR", "state": "", "city": "", "rate": "20", "title": "TVA"}
OFF = TargetTaxes(TaxSettings(False, False, ()), [])


def source(taxes: object = None, **changes: object):  # type: ignore[no-untyped-def]
    data = export(**changes)
    if taxes is not None:
        data["taxes"] = taxes
    src = read_json(json.dumps(data))
    check_references(src, CATALOG)
    assert src.issues == []
    return src


def plan_of(src, flavor=STUB, have=OFF, **kw):  # type: ignore[no-untyped-def]
    t = target(flavor=flavor, **kw)
    t.taxes = have
    return build_plan(src, t)


def test_taxes_are_read_with_the_exempt_customers_by_email() -> None:
    src = source({"enabled": True, "inclusive": True, "rates": [FR], "exempt_customers": [1]})
    assert src.taxes is not None and src.taxes.exempt == ["ann@example.com"]
    assert src.taxes.settings == TaxSettings(True, True, (TaxRate("default", "FR", "", "", Decimal("20"), "TVA"),))


def test_a_target_without_taxes_gets_the_files() -> None:
    (step,) = plan_of(source({"enabled": True, "inclusive": False, "rates": [FR], "exempt_customers": []})).of("taxes")
    assert (step.action, step.key) == ("create", "network")


def test_no_taxes_on_either_side_is_unchanged_so_a_rerun_writes_nothing() -> None:
    """Failed before: a file with taxes off and no rates planned a create on every run."""
    (step,) = plan_of(source({"enabled": False, "inclusive": False, "rates": [], "exempt_customers": []})).of("taxes")
    assert step.action == "unchanged"


def test_taxes_that_differ_are_a_conflict_naming_the_fields() -> None:
    have = TargetTaxes(TaxSettings(True, False, (TaxRate("default", "FR", "", "", Decimal("20.0"), "TVA"),)), [])
    src = source({"enabled": True, "inclusive": True, "rates": [FR], "exempt_customers": []})
    (step,) = plan_of(src, have=have).of("taxes")
    assert step.action == "conflict" and set(step.differences) == {"inclusive"}  # 20.0 is 20


def test_the_categories_names_the_file_gives_are_compared() -> None:
    have = TargetTaxes(TaxSettings(True, False, (TaxRate("default", "FR", "", "", Decimal("20"), "TVA"),)), [],
                       {"default": "Default", "reduced": "Reduced"})
    src = source({"enabled": True, "inclusive": False, "rates": [FR], "exempt_customers": [],
                  "categories": {"default": "Default", "reduced": "Reduced rate (books)"}})
    assert src.taxes is not None and src.taxes.categories["reduced"] == "Reduced rate (books)"
    (step,) = plan_of(src, have=have).of("taxes")
    assert step.action == "conflict"
    assert step.differences == {"categories": ({"reduced": "Reduced"}, {"reduced": "Reduced rate (books)"})}


def test_a_customer_with_a_trial_membership_has_trialed_on_um_whatever_the_file_says() -> None:
    src = source(customers=[{"id": 1, "user_id": 5, "user_email": "ann@example.com", "has_trialed": False}],
                 memberships=[{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {}, "amount": "49",
                               "status": "active", "date_trial_end": "2026-11-01 00:00:00",
                               "date_expiration": "2026-12-01 00:00:00"}])
    plan = plan_of(src, flavor=UM)
    assert [(x["key"], x["field"]) for x in not_kept_fields(plan)] == [("ann@example.com", "has_trialed")]
    again = plan_of(src, flavor=UM, customers=[{"id": 7, "email": "ann@example.com", "has_trialed": True}])
    assert again.of("customer")[0].action == "unchanged"  # nothing an --update could change
    assert not_kept_fields(plan_of(src, flavor=STUB)) == []


def test_the_address_lines_the_target_says_it_keeps_are_kept() -> None:
    """UM's Billing_Address::fields() is filtered (wu_billing_address_fields): a VAT add-on's vat_number line is
    kept by that network, so it is neither named nor a difference; a line it does not list is."""
    src = source(customers=[{"id": 1, "user_id": 5, "user_email": "ann@example.com",
                             "billing_address": {"billing_country": "FR", "vat_number": "FR123", "note": "x"}}])
    keys = ("billing_country", "vat_number", "ip_country")
    plan = plan_of(src, flavor=UM, billing_address_keys=keys)
    assert [x["why"].split(" of ")[0] for x in not_kept_fields(plan)] == ["billing address lines note"]
    row = {"id": 7, "email": "ann@example.com", "billing_address": {"billing_country": "FR", "vat_number": "FR123"}}
    again = plan_of(src, flavor=UM, billing_address_keys=keys, customers=[row])
    assert again.of("customer")[0].action == "unchanged"


def test_a_file_without_taxes_plans_none() -> None:
    assert plan_of(source()).of("taxes") == []


def test_what_ultimate_multisite_cannot_hold_is_named_field_by_field() -> None:
    src = source({"enabled": True, "inclusive": False, "rates": [FR], "exempt_customers": [1]},
                 customers=[{"id": 1, "user_id": 5, "user_email": "ann@example.com", "user_login": "ann1",
                             "billing_address": {"billing_country": "FR", "billing_name": "Ann"}}],
                 memberships=[{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {}, "amount": "49",
                               "status": "cancelled", "gateway": "manual", "gateway_customer_id": "cus_1",
                               "date_expiration": "2026-12-01 00:00:00"}])
    plan = plan_of(src, flavor=UM)
    assert {(x["kind"], x["key"], x["field"]) for x in not_kept_fields(plan)} == {
        ("taxes", "network", "exempt_customers"), ("customer", "ann@example.com", "billing_address"),
        ("membership", "http://old.example.com/membership/7", "gateway"),
        ("membership", "http://old.example.com/membership/7", "gateway_customer_id")}
    assert "not kept: exempt_customers ann@example.com" in plan.of("taxes")[0].note
    assert "billing_name" in plan.of("customer")[0].note and "gateway 'manual'" in plan.of("membership")[0].note
    assert not_kept_fields(plan_of(src, flavor=STUB)) == []  # the stub keeps all of it
