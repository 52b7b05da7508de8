"""Issue 19, "Discount codes", offline: `change quote|apply --discount-code CODE` looks the code up on the network
(`net.discount_codes`) and applies it as UM's Cart does: found without case, refused as UM refuses it (exit 2
naming the code, UM's message), shown in its own line, carried by the change's payment (its cart's
`discount_code` and the discount line)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.cli import main
from wpbridge.errors import InputError
from wpbridge.managers.discount_codes import find_code, get_code
from wpbridge.managers.payments import PaymentWrite
from wpbridge.models import DiscountCode
from wpbridge.workflows import change as flow
from wpbridge.workflows.change_quote import quote

AT = ["--at", NOW.isoformat()]


class FakeCodes:
    def __init__(self, *codes: DiscountCode) -> None:
        self.codes = list(codes)

    def all(self) -> list[DiscountCode]:
        return list(self.codes)

    def find(self, code: str) -> DiscountCode | None:
        return find_code(self.codes, code)


def code(name: str = "SAVE10", **kw: Any) -> DiscountCode:
    return DiscountCode.model_validate({"id": 5, "code": name, "type": "percentage", "value": "10", **kw})


def with_codes(*codes: DiscountCode) -> FakeNetwork:
    net = FakeNetwork(example_data())
    net.discount_codes = FakeCodes(*codes)
    return net


def cli(net: FakeNetwork, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setattr("wpbridge.cli.change.open_source", lambda *_a: net)
    return CliRunner().invoke(main, ["change", "quote", "2", "--plan", "premium", *AT, *args],
                              catch_exceptions=False, env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


def test_a_code_takes_its_share_off_in_its_own_line() -> None:
    plain = quote(with_codes(), 2, now=NOW, plan="premium")
    r = quote(with_codes(code()), 2, now=NOW, plan="premium", discount_code="save10")  # UM upper-cases it
    assert r.discount_code is not None and r.quote.discount_code == "SAVE10"
    [disc] = [ln for ln in r.quote.lines if ln.type == "discount"]
    product = next(ln for ln in plain.quote.lines if ln.type == "product")
    assert disc.total == -(product.total * Decimal("0.1")).quantize(Decimal("0.01"))
    assert r.quote.due_now == plain.quote.due_now + disc.total
    assert "discount code SAVE10: 10% off (first payment)" in r.notes
    assert r.as_dict()["discount_code"]["code"] == "SAVE10"


@pytest.mark.parametrize("fields, words", [
    ({"active": False}, "This coupon code is not valid. (it is not active)"),
    ({"uses": 3, "max_uses": 3},
     "This discount code was already redeemed the maximum amount of times allowed. (used 3 of 3)"),
    ({"date_start": NOW + timedelta(days=1)}, "This coupon code is not valid. (it starts on"),
    ({"date_expiration": NOW - timedelta(seconds=1)}, "This coupon code is not valid. (it expired on"),
])
def test_refused_as_ums_cart_refuses_it(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as err:
        quote(with_codes(code(**fields)), 2, now=NOW, plan="premium", discount_code="SAVE10")
    assert err.value.message.startswith(f"discount code SAVE10: {words}")
    assert err.value.field == "discount_code"


def test_uses_left_dates_inside_and_unlimited_codes_are_taken() -> None:
    ok = code(uses=2, max_uses=3, date_start=NOW - timedelta(days=1), date_expiration=NOW + timedelta(days=1))
    assert quote(with_codes(ok), 2, now=NOW, plan="premium", discount_code="SAVE10").quote.discount_code == "SAVE10"
    free = code(uses=50, max_uses=0)
    assert quote(with_codes(free), 2, now=NOW, plan="premium", discount_code="SAVE10").quote.discount_code


def test_an_unknown_code_is_exit_2_with_ums_message(monkeypatch: pytest.MonkeyPatch) -> None:
    res = cli(with_codes(code()), monkeypatch, "--discount-code", "nope")
    assert res.exit_code == 2
    assert "discount code NOPE: The code NOPE does not exist or is no longer valid." in res.output


def test_a_code_for_other_products_takes_nothing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    other = code(limit_products=True, allowed_products=[999])
    r = quote(with_codes(other), 2, now=NOW, plan="premium", discount_code="SAVE10")
    assert not [ln for ln in r.quote.lines if ln.type == "discount"]
    assert any("takes nothing off this change" in n for n in r.notes)
    res = cli(with_codes(other), monkeypatch, "--discount-code", "SAVE10", "--output", "json")
    assert res.exit_code == 0 and json.loads(res.output)["discount_code"]["allowed_products"] == [999]


def test_a_snapshot_holds_no_codes() -> None:
    with pytest.raises(InputError, match="holds no discount codes"):
        quote(FakeNetwork(example_data()), 2, now=NOW, plan="premium", discount_code="SAVE10")


def test_the_quote_text_shows_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    res = cli(with_codes(code()), monkeypatch, "--discount-code", "SAVE10")
    assert res.exit_code == 0, res.output
    assert "note: discount code SAVE10: 10% off (first payment)" in res.output
    assert "Discount SAVE10" in res.output


def test_the_payment_carries_the_code() -> None:
    net = with_codes(code())
    bodies: list[Mapping[str, Any]] = []
    create = net.payments.create_for_change

    def spy(membership_id: int, body: Mapping[str, Any]) -> PaymentWrite:
        bodies.append(body)
        return create(membership_id, body)

    net.payments.create_for_change = spy  # type: ignore[method-assign]
    result = flow.apply(net, 2, now=NOW, plan="premium", discount_code="save10")
    assert result.ok and result.payment is not None
    [body] = bodies
    assert body["cart"]["discount_code"] == "SAVE10"
    assert any(li["type"] == "discount" and Decimal(str(li["total"])) < 0 for li in body["line_items"])
    assert Decimal(str(body["discount_total"])) > 0


def test_get_code_by_id_or_code() -> None:
    codes = [code(), code("OTHER", id=9)]
    assert get_code(codes, "9").code == "OTHER" and get_code(codes, "other").id == 9
    with pytest.raises(Exception, match="discount code X does not exist"):
        get_code(codes, "X")


def codes_cli(net: FakeNetwork | None, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setattr("wpbridge.cli.discount_codes.open_source", lambda *_a: net)
    return CliRunner().invoke(main, ["discount-codes", *args], catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


def test_discount_codes_list_and_show(monkeypatch: pytest.MonkeyPatch) -> None:
    net = with_codes(code(max_uses=5, uses=2, setup_fee_value="50"),
                     code("BASIC", id=9, type="absolute", value="5", limit_products=True, allowed_products=[2]))
    listed = codes_cli(net, monkeypatch, "list", "--output", "json")
    assert listed.exit_code == 0 and [c["code"] for c in json.loads(listed.output)] == ["SAVE10", "BASIC"]
    table = codes_cli(net, monkeypatch, "list").output
    assert "SAVE10" in table and "2 of 5" in table and "BASIC" in table
    shown = codes_cli(net, monkeypatch, "show", "basic")
    assert shown.exit_code == 0 and "5 off (absolute)" in shown.output and "products" in shown.output
    by_id = json.loads(codes_cli(net, monkeypatch, "show", "9", "--output", "json").output)
    assert by_id["code"] == "BASIC" and by_id["allowed_products"] == [2]
    missing = codes_cli(net, monkeypatch, "show", "NOPE")
    assert missing.exit_code != 0 and "discount code NOPE does not exist" in missing.output
    offline = codes_cli(FakeNetwork(example_data()), monkeypatch, "list")
    assert offline.exit_code == 2 and "holds none" in offline.output
