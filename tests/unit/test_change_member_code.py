"""Issue 19, "Discount codes": the membership's own code on a change, as each UM release treats it. The network
keeps the code a membership was bought with (stub mode: the code string; UM: the Discount_Code object, whose REST
copy lacks restrictions): `change quote` reads the code itself from `net.discount_codes`, so UM main's add-on cart
applies it (class-cart.php 2.4.13-beta.1:927-950) with every restriction, in its own line; 2.4.12 never does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.test_change_discount_codes import FakeCodes, code
from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.workflows.change_quote import quote


def network(own: Any, *codes: Any, um_version: str = "2.4.13-beta.1") -> FakeNetwork:
    data = example_data()
    data["info"]["um_version"] = um_version
    for m in data["memberships"]:
        if m["id"] == 2:
            m["discount_code"] = own
    net = FakeNetwork(data)
    net.discount_codes = FakeCodes(*codes)
    return net


RENEWALS = {"value": "20", "apply_to_renewals": True}


def test_a_code_string_is_read_from_the_network_and_applied_to_a_main_addon_cart() -> None:
    r = quote(network("save10", code(**RENEWALS)), 2, now=NOW, addons=["extra-storage"])
    assert r.quote.discount_code == "SAVE10"
    [line] = [ln for ln in r.quote.lines if ln.type == "discount"]
    assert line.title == "Discount SAVE10 (the membership's own code) on Extra storage"
    assert line.total < 0
    assert "the membership's own code SAVE10 applies to this add-on purchase (as UM 2.4.13-beta.1's Cart does): " \
           "20% off (renewals too)" in r.notes


def test_the_networks_copy_of_the_code_wins_over_the_memberships() -> None:
    """UM's REST copy of the membership's code carries no restrictions: the network's record has them."""
    stale = code(**RENEWALS).model_dump(mode="json")
    limited = code(**RENEWALS, limit_products=True, allowed_products=[999])
    r = quote(network(stale, limited), 2, now=NOW, addons=["extra-storage"])
    assert [ln for ln in r.quote.lines if ln.type == "discount"] == []


def test_2_4_12_does_not_carry_it_and_says_nothing() -> None:
    r = quote(network("SAVE10", code(**RENEWALS), um_version="2.4.12"), 2, now=NOW, addons=["extra-storage"])
    assert r.quote.discount_code is None
    assert not any("membership's own code" in n for n in r.notes)


def test_a_code_no_longer_on_the_network_is_left_out_with_a_note() -> None:
    r = quote(network("GONE"), 2, now=NOW, addons=["extra-storage"])
    plain = quote(network(None), 2, now=NOW, addons=["extra-storage"])
    assert r.quote.due_now == plain.quote.due_now
    assert "the membership's own code GONE is not on the network: priced without it" in r.notes


def test_an_upgrade_is_priced_without_it_on_both_releases() -> None:
    for version in ("2.4.12", "2.4.13-beta.1"):
        r = quote(network("SAVE10", code(**RENEWALS), um_version=version), 2, now=NOW, plan="premium")
        plain = quote(network(None, um_version=version), 2, now=NOW, plan="premium")
        assert (r.quote.due_now, r.quote.discount_code) == (plain.quote.due_now, None)
        assert r.quote.due_now > Decimal(0)


class UMCodes(FakeCodes):
    """UM's REST reads a membership's code as null: plugin-stub's companion route gives it."""

    def __init__(self, owned: dict[int, str], *codes: Any) -> None:
        super().__init__(*codes)
        self.owned, self.asked = owned, 0

    def membership_codes(self) -> dict[int, str]:
        self.asked += 1
        return dict(self.owned)


def test_on_um_the_code_comes_from_the_companion_route() -> None:
    stub = network(None)
    stub.discount_codes = UMCodes({2: "SAVE10"}, code(**RENEWALS))
    assert quote(stub, 2, now=NOW, addons=["extra-storage"]).quote.discount_code is None
    assert stub.discount_codes.asked == 0  # stub mode: the REST copy holds the code (here: none)
    data = example_data()
    data["info"].update(mode="um", um_version="2.4.13-beta.1")
    um = FakeNetwork(data)
    um.discount_codes = UMCodes({2: "SAVE10"}, code(**RENEWALS))
    r = quote(um, 2, now=NOW, addons=["extra-storage"])
    assert (r.quote.discount_code, um.discount_codes.asked) == ("SAVE10", 1)
    assert [ln.title for ln in r.quote.lines if ln.type == "discount"] == [
        "Discount SAVE10 (the membership's own code) on Extra storage"]


def test_the_payment_names_the_membership_code_only_when_it_took_something_off() -> None:
    """UM's Cart refuses a code given by name that is no longer valid (set_discount_code), while its add-on cart
    holds the membership's own code without checking it: an expired own code goes unnamed in the payment."""
    from datetime import timedelta

    from wpbridge.workflows import change as flow

    for expired, named in ((False, "SAVE10"), (True, None)):
        own = code(**RENEWALS, date_expiration=NOW - timedelta(days=1)) if expired else code(**RENEWALS)
        net = network("SAVE10", own)
        bodies: list[dict[str, Any]] = []
        create = net.payments.create_for_change

        def spy(membership_id: int, body: dict[str, Any], bodies: list[dict[str, Any]] = bodies,
                create: Any = create) -> Any:
            bodies.append(body)
            return create(membership_id, body)

        net.payments.create_for_change = spy  # type: ignore[method-assign]
        assert flow.apply(net, 2, now=NOW, addons=["extra-storage"]).ok
        assert bodies[0]["cart"]["discount_code"] == named
