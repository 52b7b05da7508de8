"""Issue 19, "Taxes: the product", offline: where a change is taxed (UM's rule: the --country given, else the
customer's billing country, else their IP country), an exempt customer, a snapshot without taxes, and how
`change quote` shows the tax (text, JSON, CSV)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.billing import TaxLocation, TaxRate, TaxSettings
from wpbridge.cli import main
from wpbridge.cli.change import cart_location
from wpbridge.errors import InputError
from wpbridge.managers.taxes import CustomerTax, customer_tax, tax_settings
from wpbridge.workflows import change as flow
from wpbridge.workflows.change_quote import quote, quote_taxes

AT = ["--at", NOW.isoformat()]
RATES = (TaxRate("default", "FR", "", "", Decimal(20), "TVA"), TaxRate("default", "DE", "", "", Decimal(19), "MwSt"))


class FakeTaxes:
    def __init__(self, settings: TaxSettings, facts: CustomerTax) -> None:
        self._settings, self._facts = settings, facts
        self.asked: list[int] = []

    def settings(self) -> TaxSettings:
        return self._settings

    def customer(self, customer_id: int) -> CustomerTax:
        self.asked.append(customer_id)
        return self._facts


def taxed(billing: str = "FR", ip: str = "", *, enabled: bool = True, inclusive: bool = False,
          exempt: bool = False) -> FakeNetwork:
    net = FakeNetwork(example_data(posts={13: 12}))
    net.taxes = FakeTaxes(TaxSettings(enabled, inclusive, RATES),  # type: ignore[attr-defined]
                          CustomerTax(0, billing, ip, exempt))
    return net


def cli(net: FakeNetwork, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setattr("wpbridge.cli.change.open_source", lambda *_a: net)
    return CliRunner().invoke(main, ["change", "quote", "2", "--plan", "premium", *AT, *args],
                              catch_exceptions=False, env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.mark.parametrize("cart, billing, ip, expected", [
    (None, "FR", "DE", TaxLocation("FR", "", "", "billing")),
    (None, "", "DE", TaxLocation("DE", "", "", "ip")),
    (None, "0", "DE", TaxLocation("DE", "", "", "ip")),  # PHP: "0" is no country
    (TaxLocation("DE", "BY", "Munich"), "FR", "IT", TaxLocation("DE", "BY", "Munich", "cart")),
    (None, "", "", TaxLocation("", "", "", "none")),
])
def test_the_location_is_ums(cart: TaxLocation | None, billing: str, ip: str, expected: TaxLocation) -> None:
    found = quote_taxes(taxed(billing, ip), 7, cart)
    assert found is not None and found.location == expected


def test_taxes_off_or_offline_price_without_tax() -> None:
    assert quote_taxes(taxed(enabled=False), 7, None) is None
    assert quote_taxes(FakeNetwork(example_data()), 7, None) is None  # a snapshot has no taxes
    plain = quote(FakeNetwork(example_data(posts={13: 12})), 2, now=NOW, plan="premium")
    assert plain.taxes is None and plain.quote.tax_total == 0 and plain.as_dict()["taxes"] is None


def test_the_quote_carries_the_tax_and_the_customer_asked() -> None:
    net = taxed("FR")
    r = quote(net, 2, now=NOW, plan="premium")
    plain = quote(FakeNetwork(example_data(posts={13: 12})), 2, now=NOW, plan="premium")
    assert r.quote.tax_total > 0 and r.quote.due_now == plain.quote.due_now + r.quote.tax_total
    assert net.taxes.asked == [r.membership.customer_id]  # type: ignore[attr-defined]
    product = next(ln for ln in r.quote.lines if ln.type == "product")
    assert product.tax_rate == 20 and product.tax_total == Decimal("7.80")
    assert r.as_dict()["taxes"] == {"enabled": True, "inclusive": False, "exempt": False,
                                    "location": {"country": "FR", "state": "", "city": "", "source": "billing"}}
    exempt = quote(taxed("FR", exempt=True), 2, now=NOW, plan="premium")
    assert exempt.quote.tax_total == 0 and exempt.quote.due_now == plain.quote.due_now


def test_quote_text_json_csv_with_taxes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = cli(taxed("FR"), monkeypatch)
    assert text.exit_code == 0, text.output
    assert "7.80 (20%)" in text.stdout
    assert "excluded from the prices" in text.stdout and "FR (billing address)" in text.stdout
    inclusive = cli(taxed("FR", inclusive=True), monkeypatch).stdout
    assert "included in the prices" in inclusive
    data = json.loads(cli(taxed("", "DE"), monkeypatch, "-o", "json").stdout)
    assert data["taxes"]["location"]["source"] == "ip" and Decimal(data["tax_total"]) > 0
    assert all("tax_total" in ln and "tax_rate" in ln for ln in data["lines"])
    rows = cli(taxed("FR"), monkeypatch, "-o", "csv").stdout.splitlines()
    assert ",total,tax_rate,tax_total," in rows[0] and rows[0].endswith(
        ",quote_tax_total,tax_country,tax_state,tax_city,tax_source,tax_exempt,tax_inclusive")
    assert all(r.endswith(",FR,,,billing,false,false") for r in rows[1:])  # CSV booleans: raw true/false


def test_country_overrides_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads(cli(taxed("FR"), monkeypatch, "--country", "de", "-o", "json").stdout)
    assert data["taxes"]["location"] == {"country": "DE", "state": "", "city": "", "source": "cart"}
    assert "DE (given (--country))" in cli(taxed("FR"), monkeypatch, "--country", "DE").stdout
    assert cli(taxed("FR"), monkeypatch, "--state", "BY").exit_code == 2
    assert cli(taxed("FR"), monkeypatch, "--country", "Germany").exit_code == 2
    assert cart_location(None) is None
    assert cart_location("fr", "", "Paris") == TaxLocation("FR", "", "Paris", "cart")
    with pytest.raises(InputError):
        cart_location("", "BY")


def test_the_routes_are_read() -> None:
    read = tax_settings({"enabled": True, "inclusive": "1", "rates": [
        {"category": "default", "country": "US", "state": "CA,NY", "city": "", "rate": "7.25", "title": "Sales"}]})
    assert read == TaxSettings(True, True, (TaxRate("default", "US", "CA,NY", "", Decimal("7.25"), "Sales"),))
    assert tax_settings({"enabled": False}).rates == ()
    facts: dict[str, Any] = {"customer_id": 4, "billing_address": {"billing_country": "FR"},
                             "billing_country": "FR", "ip_country": "DE", "tax_exempt": True}
    assert customer_tax(facts) == CustomerTax(4, "FR", "DE", True, {"billing_country": "FR"})


def _payment_bodies(net: FakeNetwork) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    create = net.payments.create_for_change

    def spy(membership_id: int, body: dict[str, Any]) -> Any:
        bodies.append(body)
        return create(membership_id, body)

    net.payments.create_for_change = spy  # type: ignore[method-assign]
    return bodies


def test_apply_with_a_country_pays_the_quotes_tax_and_tells_the_cart() -> None:
    """`change apply --country`: priced at the location given, and the payment's cart carries it, so UM's Cart of
    the payment (um_change_cart) taxes as the quote did. Without one, the cart carries none (UM finds the
    customer's country itself)."""
    net = taxed("FR")
    bodies = _payment_bodies(net)
    where = TaxLocation("DE", "", "", "cart")
    result = flow.apply(net, 2, now=NOW, plan="premium", location=where)
    assert result.ok and result.payment is not None
    [body] = bodies
    assert {k: body["cart"].get(k) for k in ("country", "state", "city")} == {"country": "DE", "state": "",
                                                                              "city": ""}
    q = quote(taxed("FR"), 2, now=NOW, plan="premium", location=where).quote
    assert Decimal(str(body["tax_total"])) == q.tax_total > 0
    assert {Decimal(str(li["tax_rate"])) for li in body["line_items"] if Decimal(str(li["tax_total"]))} == {
        Decimal(19)}
    plain = taxed("FR")
    plain_bodies = _payment_bodies(plain)
    assert flow.apply(plain, 2, now=NOW, plan="premium").ok
    assert "country" not in plain_bodies[0]["cart"]


def test_apply_country_option_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    net = taxed("FR")
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: net)
    res = CliRunner().invoke(main, ["change", "apply", "2", "--plan", "premium", *AT, "--state", "CA", "--yes"],
                             env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})
    assert res.exit_code == 2 and "--state/--city: give --country too" in res.output
    res = CliRunner().invoke(main, ["change", "apply", "2", "--plan", "premium", *AT, "--country", "de", "--yes",
                                    "-o", "json"], env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["quote"]["taxes"]["location"]["country"] == "DE"
