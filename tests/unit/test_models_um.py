"""The tolerant reader against what the real Ultimate Multisite 2.4.12 returns (payloads captured from it, in
fixtures/um-2.4.12/), and the values UM stores that UM itself reads in its own way."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wpbridge.errors import DataError
from wpbridge.models import Customer, Limitations, Membership, Product, Site, parse
from wpbridge.network import SiteQuota

FIXTURES = Path(__file__).parent / "fixtures" / "um-2.4.12"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_real_um_membership_list_parses_with_string_ids_and_numbers() -> None:
    rows = load("membership-list.json")
    assert isinstance(rows[0]["id"], str) and isinstance(rows[0]["times_billed"], str)  # as UM sends them
    members = [parse(Membership, r) for r in rows]
    assert [m.id for m in members] == [1, 2, 3, 4]
    carla = members[2]
    assert carla.addon_products and all(isinstance(k, int) for k in carla.addon_products)
    assert carla.times_billed == 7 and carla.amount == Decimal(str(rows[2]["amount"]))


def test_real_um_customers_with_null_has_trialed_read_as_not_trialed() -> None:
    rows = load("customer-list.json")
    assert any(r["has_trialed"] is None for r in rows) and any(r["date_created"] == "" for r in rows)
    customers = [parse(Customer, r) for r in rows]
    nulls = [c for c, r in zip(customers, rows, strict=True) if r["has_trialed"] is None]
    assert nulls and all(c.has_trialed is False for c in nulls)
    assert all(c.billing_address == {} or isinstance(c.billing_address, dict) for c in customers)


def test_real_um_site_list_has_null_links_which_read_as_unknown_never_as_a_membership() -> None:
    rows = load("site-list.json")
    assert all(r["membership_id"] is None and r["type"] is None for r in rows)  # UM 2.4.12's REST
    sites = [parse(Site, r) for r in rows]
    assert all(s.membership_id is None and s.type is None for s in sites)
    assert not any(s.belongs_to(m) for s in sites for m in range(1, 20))


def test_companion_site_list_carries_ums_links_and_the_main_site() -> None:
    sites = [parse(Site, r) for r in load("companion-sites.json")]
    main = sites[0]
    assert main.is_main and main.type == "main" and not main.belongs_to(main.membership_id or 1)
    linked = [s for s in sites if s.membership_id is not None]
    assert linked and all(s.type == "customer_owned" and s.belongs_to(s.membership_id or 0) for s in linked)
    assert all(not s.belongs_to((s.membership_id or 0) + 1) for s in linked)


def test_real_um_products_and_computed_limits_parse() -> None:
    products = [parse(Product, r) for r in load("product-list.json")]
    assert {p.slug for p in products} >= {"free", "basic", "premium"}
    quotas = [parse(SiteQuota, r) for r in load("companion-quotas.json")]
    assert quotas[0].quota is None  # the main site: UM gives it no limits
    assert quotas[1].quota is not None and quotas[1].quota.disk_space is not None


@pytest.mark.parametrize(("raw", "expected"), [
    ("", True),  # UM's Limit_Domain_Mapping::check: not properly set -> allowed
    ("3", 3),
    (2.0, 2),
    (True, True),
    (False, False),
    ("unlimited", True),
])
def test_domain_mapping_limit_reads_as_um_reads_it(raw: Any, expected: bool | int) -> None:
    limits = Limitations.model_validate({"domain_mapping": {"enabled": True, "limit": raw}})
    assert limits.domain_mapping is not None and limits.domain_mapping.limit == expected


@pytest.mark.parametrize(("raw", "expected"), [(None, False), ("", False), ("0", False), ("1", True), (1, True)])
def test_enabled_flags_are_phps_bool_of_what_was_stored(raw: Any, expected: bool) -> None:
    limits = Limitations.model_validate({"disk_space": {"enabled": raw, "limit": "100"}})
    assert limits.disk_space is not None and limits.disk_space.enabled is expected and limits.disk_space.limit == 100


def test_blank_numbers_and_flags_take_what_um_gives_them() -> None:
    m = parse(Membership, {"id": "9", "customer_id": "2", "plan_id": "3", "times_billed": None, "billing_cycles": "",
                           "recurring": None, "auto_renew": "1", "amount": None, "addon_products": [],
                           "date_expiration": "", "limitations": [], "extra_key": {"x": 1}})
    assert (m.times_billed, m.billing_cycles, m.recurring, m.auto_renew, m.amount) == (0, 0, False, True, 0)
    assert m.date_expiration is None and m.addon_products == {}


def test_a_record_that_still_cannot_be_read_names_its_id_and_field() -> None:
    with pytest.raises(DataError) as err:
        parse(Membership, {"id": "77", "customer_id": 1, "plan_id": None, "duration_unit": "month"})
    assert err.value.record_id == "77" and err.value.field == "plan_id"
    assert str(err.value).startswith("Membership 77: field 'plan_id'")
