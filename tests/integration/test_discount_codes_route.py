"""Issue 19, "Discount codes": codes written through plugin-stub's `wpbridge/v1/discount-codes` route
(`net.discount_codes.create/update/put`) read back with every field as written, on the stub, UM 2.4.12 and UM
2.4.13-beta.1 (UM's own REST gets them wrong: docs/ultimate-multisite.md, "Discount codes over REST"); a
membership's own code is set and cleared through `wpbridge/v1/memberships/{id}/discount-code`. Each test makes its
own codes (unique names) and deletes them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.integration.change_support import network
from tests.integration.test_any_flavor import fresh
from tests.integration.um_support import um_php
from wpbridge.errors import WPBridgeError as APIError
from wpbridge.managers.discount_codes import WRITABLE
from wpbridge.models import DiscountCode
from wpbridge.network import Network
from wpbridge.rest.transport import route
from wpbridge.sandbox import SandboxInfo

UM_DROP = "global $wpdb; return $wpdb->delete( $wpdb->base_prefix . 'wu_discount_codes', array( 'id' => $data ) );"


@pytest.fixture(params=["stub", "um-2.4.12", "um-2.4.13"])
def every_sandbox(request: pytest.FixtureRequest) -> SandboxInfo:
    name = {"stub": "sandbox", "um-2.4.12": "um_sandbox", "um-2.4.13": "um_main_sandbox"}[request.param]
    info: SandboxInfo = request.getfixturevalue(name)
    return info


def is_um(sb: SandboxInfo) -> bool:
    return sb.info.get("flavor") == "ultimate-multisite"


def drop(sb: SandboxInfo, net: Network, code_id: int) -> None:
    if is_um(sb):
        um_php(sb, UM_DROP, code_id)
    else:
        net.transport.request("DELETE", route("wu/v2", "discount_code", code_id))


@pytest.fixture
def net(every_sandbox: SandboxInfo) -> Iterator[Network]:
    with network(every_sandbox) as n:
        yield n


def a_name() -> str:
    return "WPB" + secrets.token_hex(4).upper()


def every_field(net: Network, name: str) -> DiscountCode:
    """A code whose every field differs from its default."""
    ids = {p.slug: p.id for p in net.products.catalog()}
    return DiscountCode(
        code=name, name=f"{name} launch offer", description="Half off the first month, <b>new</b> customers only",
        type="absolute", value=Decimal("12.5"), setup_fee_type="percentage", setup_fee_value=Decimal("50"),
        uses=3, max_uses=7, apply_to_renewals=True, active=False, limit_products=True,
        allowed_products=[ids["premium"], ids["basic"]], limit_billing_periods=True,
        allowed_billing_periods=["1-month", "1-year"],
        date_start=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), date_expiration=datetime(2027, 6, 30, 23, 59, 59,
                                                                                          tzinfo=UTC),
    )


def fields(code: DiscountCode) -> dict[str, object]:
    return {name: getattr(code, name) for name in WRITABLE}


def test_every_field_is_written_and_read_back(every_sandbox: SandboxInfo, net: Network) -> None:
    name = a_name()
    want = every_field(net, name)
    made = net.discount_codes.put(want)
    assert made.id
    try:
        assert fields(made) == fields(want)
        assert fields(net.discount_codes.get(made.id)) == fields(want)  # the listing reads the same
        again = want.model_copy(update={
            "name": "Plain", "description": "", "type": "percentage", "value": Decimal("10"),
            "setup_fee_type": "absolute", "setup_fee_value": Decimal("0"), "uses": 0, "max_uses": 0,
            "apply_to_renewals": False, "active": True, "limit_products": False, "allowed_products": [],
            "limit_billing_periods": False, "allowed_billing_periods": [], "date_start": None,
            "date_expiration": None,
        })
        updated = net.discount_codes.put(again, code_id=made.id)
        assert fields(updated) == fields(again)
        assert fields(net.discount_codes.get(name.lower())) == fields(again)
    finally:
        drop(every_sandbox, net, made.id)


def test_a_create_gets_no_hidden_defaults(every_sandbox: SandboxInfo, net: Network) -> None:
    """UM's REST and wu_create_discount_code() give a code max_uses 1; the route gives what was asked (0: none)."""
    name = a_name()
    made = net.discount_codes.create({"code": name, "value": "7.25"})
    try:
        code = net.discount_codes.get(name)
        assert (code.max_uses, code.value, code.setup_fee_value, code.description, code.name) == (
            0, Decimal("7.25"), 0, "", name)
        with pytest.raises(APIError) as exc:  # the same code in another case: UM would find either
            net.discount_codes.create({"code": name.lower(), "value": "1"})
        assert exc.value.status == 409
    finally:
        drop(every_sandbox, net, int(made["id"]))


def test_bad_fields_are_named(every_sandbox: SandboxInfo, net: Network) -> None:
    with pytest.raises(APIError) as exc:
        net.discount_codes.create({"code": a_name(), "allowed_products": [987654]})
    assert exc.value.status == 400 and "allowed_products" in str(exc.value)
    with pytest.raises(APIError) as exc:
        net.discount_codes.create({"code": a_name(), "type": "half"})
    assert exc.value.status == 400 and "type" in str(exc.value)
    if is_um(every_sandbox):  # UM's own rules: a code of 2..20 characters, a name of 2+
        with pytest.raises(APIError) as exc:
            net.discount_codes.create({"code": "X" + a_name() * 3})
        assert exc.value.status == 400 and "code" in str(exc.value)
        with pytest.raises(APIError) as exc:
            net.discount_codes.create({"code": a_name(), "name": "x"})
        assert exc.value.status == 400 and "name" in str(exc.value)
    assert not [c for c in net.discount_codes.all() if c.code.startswith("XWPB")]


def test_a_memberships_code_is_set_and_cleared(every_sandbox: SandboxInfo, net: Network) -> None:
    mid, _ = fresh(every_sandbox, "basic")
    name = a_name()
    made = net.discount_codes.create({"code": name, "value": "10"})
    try:
        assert net.discount_codes.membership_code(mid) is None
        assert net.discount_codes.set_membership_code(mid, name.lower()) == name
        assert net.discount_codes.membership_code(mid) == name
        assert net.discount_codes.membership_codes()[mid] == name
        if not is_um(every_sandbox):  # UM's REST reads a membership's code null (it lives in the meta)
            code = net.memberships.get(mid).discount_code
            assert (code.code if isinstance(code, DiscountCode) else code) == name
        assert net.discount_codes.set_membership_code(mid, None) is None
        assert net.discount_codes.membership_code(mid) is None
        assert mid not in net.discount_codes.membership_codes()
        with pytest.raises(APIError) as exc:
            net.discount_codes.set_membership_code(mid, "NOSUCH" + name)
        assert exc.value.status == 400
    finally:
        drop(every_sandbox, net, int(made["id"]))
