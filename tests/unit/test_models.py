from datetime import UTC, datetime
from decimal import Decimal

import pytest

from wpbridge.errors import DataError
from wpbridge.models import Membership, Product, SiteUsage, parse


def test_membership_parses_um_wire_quirks() -> None:
    m = parse(
        Membership,
        {
            "id": "5", "customer_id": 1, "plan_id": "2", "amount": 19.99, "addon_products": [],
            "date_expiration": "2026-12-01 10:00:00", "date_renewed": "0000-00-00 00:00:00",
            "discount_code": False, "status": "active", "duration": "1",
        },
    )
    assert m.id == 5 and m.plan_id == 2 and m.duration == 1
    assert m.amount == Decimal("19.99") and m.addon_products == {}
    assert m.date_expiration == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert m.date_renewed is None and m.discount_code is None


def test_bad_payload_names_model_record_and_field() -> None:
    with pytest.raises(DataError) as err:
        parse(Membership, {"id": 7, "customer_id": 1, "plan_id": 2, "duration_unit": "fortnight"})
    assert "Membership 7" in str(err.value) and "duration_unit" in str(err.value)
    assert err.value.record_id == 7 and err.value.field == "duration_unit"


def test_negative_amount_refused() -> None:
    with pytest.raises(DataError, match="Product 3: field 'amount'"):
        parse(Product, {"id": 3, "slug": "x", "amount": "-1"})


def test_limitations_empty_string_means_unlimited() -> None:
    p = parse(Product, {"id": 1, "slug": "p", "limitations": {"disk_space": {"enabled": True, "limit": ""}}})
    assert p.limitations.disk_space is not None and p.limitations.disk_space.limit == 0


def test_site_usage_only_blog_id_required() -> None:
    u = SiteUsage(blog_id=3)
    assert u.post_types is None and u.disk_used_mb is None
