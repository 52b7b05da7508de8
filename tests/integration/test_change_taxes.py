"""Issue 19, "Taxes: the product", on both flavors: the network's tax settings, rates, product flags and the
customer's billing country are read through the companion (`GET /wpbridge/v1/taxes`, the catalog,
`GET /wpbridge/v1/customers/{id}/tax`), priced into `change quote` and carried by the change's payment. UM's own
Cart is the judge in UM mode: it makes the payment, and refuses (409 `wpbridge_payment_total_mismatch`) a total
that differs from the quote by a cent. Every setting a test changes is put back (the session's sandbox is shared)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.change_support import Rest, run, run_json
from tests.integration.test_any_flavor import fresh
from tests.integration.um_support import um_php
from wpbridge.sandbox import SandboxInfo

FR = {"category": "default", "country": "FR", "state": "", "city": "", "rate": "20", "title": "TVA"}
DE = {"category": "default", "country": "DE", "state": "", "city": "", "rate": "19", "title": "MwSt"}
CENT = Decimal("0.01")

UM_SET_TAXES = """
$prev = array( 'enable' => (bool) wu_get_setting( 'enable_taxes', false ),
    'inclusive' => (bool) wu_get_setting( 'inclusive_tax', false ),
    'rates' => get_network_option( null, 'wp-ultimo_tax_rates', null ),
    'exempt' => get_network_option( null, 'wpb_test_tax_exempt', null ) );
wu_save_setting( 'enable_taxes', (bool) $data['enable'] );
wu_save_setting( 'inclusive_tax', (bool) $data['inclusive'] );
if ( array_key_exists( 'raw_rates', $data ) ) {
    null === $data['raw_rates'] ? delete_network_option( null, 'wp-ultimo_tax_rates' )
        : update_network_option( null, 'wp-ultimo_tax_rates', $data['raw_rates'] );
} else {
    $cats = array( 'default' => array( 'name' => 'Default', 'rates' => array() ) ); // as UM's tax editor saves them
    foreach ( $data['rates'] as $i => $r ) {
        $cat = $r['category'];
        if ( ! isset( $cats[ $cat ] ) ) { $cats[ $cat ] = array( 'name' => ucfirst( $cat ), 'rates' => array() ); }
        $cats[ $cat ]['rates'][] = array( 'id' => 'wpb-' . $i, 'title' => $r['title'], 'country' => $r['country'],
            'state' => $r['state'], 'city' => $r['city'], 'tax_rate' => $r['rate'], 'priority' => 10,
            'compound' => false, 'type' => 'regular', 'tax_type' => 'percentage', 'tax_amount' => 0 );
    }
    update_network_option( null, 'wp-ultimo_tax_rates', $cats );
}
if ( array_key_exists( 'exempt', $data ) ) {
    null === $data['exempt'] ? delete_network_option( null, 'wpb_test_tax_exempt' )
        : update_network_option( null, 'wpb_test_tax_exempt', $data['exempt'] );
}
return $prev;
"""

EXEMPT_PLUGIN = """<?php
// wpbridge tests: the customers listed in the network option wpb_test_tax_exempt are tax exempt (as a VAT add-on
// would make them, through UM's filter wu_cart_is_tax_exempt).
add_filter( 'wu_cart_is_tax_exempt', function ( $exempt, $cart ) {
    $c = $cart->get_customer();
    return $c && in_array( (int) $c->get_id(), array_map( 'intval', (array) get_network_option( null,
        'wpb_test_tax_exempt', array() ) ), true ) ? true : $exempt;
}, 10, 2 );
"""


def is_um(sb: SandboxInfo) -> bool:
    return sb.info.get("flavor") == "ultimate-multisite"


@contextmanager
def taxes(sb: SandboxInfo, *, enable: bool = True, inclusive: bool = False,
          rates: Sequence[Mapping[str, str]] = (FR, DE), exempt: Sequence[int] = ()) -> Iterator[None]:
    """The network's taxes switched on as given for the block (UM: its settings and `wp-ultimo_tax_rates` as its
    editor saves them, an exemption through `wu_cart_is_tax_exempt`; stub: `PUT /wpbridge/v1/taxes`), then put
    back as they were."""
    rest = Rest(sb)
    if is_um(sb):
        plugin = _mu_plugin(sb)
        plugin.parent.mkdir(parents=True, exist_ok=True)
        plugin.write_text(EXEMPT_PLUGIN)
        prev = um_php(sb, UM_SET_TAXES, {"enable": enable, "inclusive": inclusive, "rates": list(rates),
                                          "exempt": list(exempt)})
        try:
            yield
        finally:
            um_php(sb, UM_SET_TAXES, {"enable": prev["enable"], "inclusive": prev["inclusive"],
                                      "raw_rates": prev["rates"], "exempt": prev["exempt"]})
            plugin.unlink(missing_ok=True)
        return
    prev = rest.api("GET", "/wpbridge/v1/taxes")
    rest.api("PUT", "/wpbridge/v1/taxes", {"enabled": enable, "inclusive": inclusive, "rates": list(rates),
                                           "exempt_customers": list(exempt)})
    try:
        yield
    finally:
        rest.api("PUT", "/wpbridge/v1/taxes", prev)


def _mu_plugin(sb: SandboxInfo) -> Path:
    return Path(sb.info["docroot"]) / "wp-content" / "mu-plugins" / "wpb-test-tax-exempt.php"


def set_billing_country(sb: SandboxInfo, customer_id: int, country: str, ip_country: str = "") -> None:
    if is_um(sb):
        um_php(sb, """
$c = wu_get_customer( $data['id'] );
$c->set_billing_address( array( 'billing_country' => $data['country'] ) );
$c->save();
if ( $data['ip'] ) { $c->update_meta( 'ip_country', $data['ip'] ); }
return true;
""", {"id": customer_id, "country": country, "ip": ip_country})
        return
    address = {"billing_country": country} if country else {}
    if ip_country:
        address["ip_country"] = ip_country
    Rest(sb).api("PUT", f"/wu/v2/customer/{customer_id}", {"billing_address": address})


def customer_of(sb: SandboxInfo, mid: int) -> int:
    return int(run_json(sb, "memberships", "show", str(mid))["membership"]["customer_id"])


def quote(sb: SandboxInfo, mid: int, *args: str) -> dict[str, Any]:
    return dict(run_json(sb, "change", "quote", str(mid), "--plan", "premium", *args))


def apply(sb: SandboxInfo, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(sb, "change", "apply", *args, "--yes", "--output", "json")
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


def test_um_change_apply_with_taxes_on_makes_the_payment_with_the_tax(um_sandbox: SandboxInfo) -> None:
    """Failed before: UM's Cart added 20 % and wpbridge's quote had none, so UM refused the payment (409
    wpbridge_payment_total_mismatch) and every paid change on a taxed UM network failed."""
    mid, _ = fresh(um_sandbox, "basic", renewed=10)
    set_billing_country(um_sandbox, customer_of(um_sandbox, mid), "FR")
    with taxes(um_sandbox):
        code, out = apply(um_sandbox, str(mid), "--plan", "premium")
        assert code == 0 and out["ok"], out["message"]
        q = out["quote"]
        assert Decimal(q["tax_total"]) > 0
        held = um_php(um_sandbox, """
$p = wu_get_payment( $data );
return array( 'total' => (string) $p->get_total(), 'tax_total' => (string) $p->get_tax_total() );
""", out["payment"]["id"])
        assert Decimal(held["total"]).quantize(CENT) == Decimal(q["due_now"]).quantize(CENT)
        assert Decimal(held["tax_total"]).quantize(CENT) == Decimal(q["tax_total"]).quantize(CENT)
        shown = run_json(um_sandbox, "payments", "show", str(out["payment"]["id"]))
        assert Decimal(shown["tax_total"]) == Decimal(held["tax_total"])


def test_change_apply_with_country_charges_the_quotes_tax(any_sandbox: SandboxInfo) -> None:
    """`change apply --country` (as `quote`): the payment carries the tax of the location given, not the billing
    country's. Failed before: no such option on apply (exit 2); UM's Cart of the payment taxed the billing country."""
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    set_billing_country(any_sandbox, customer_of(any_sandbox, mid), "FR")
    with taxes(any_sandbox):
        q = quote(any_sandbox, mid, "--country", "de")
        assert q["taxes"]["location"] == {"country": "DE", "state": "", "city": "", "source": "cart"}
        code, out = apply(any_sandbox, str(mid), "--plan", "premium", "--country", "de", "--at", q["at"])
        assert code == 0 and out["ok"], out["message"]
        assert out["quote"]["taxes"]["location"]["country"] == "DE"
        assert (out["quote"]["tax_total"], out["quote"]["due_now"]) == (q["tax_total"], q["due_now"])
        rates = {Decimal(ln["tax_rate"]) for ln in out["quote"]["lines"] if Decimal(ln["tax_total"])}
        assert rates == {Decimal(19)}
        shown = run_json(any_sandbox, "payments", "show", str(out["payment"]["id"]))
        assert Decimal(shown["tax_total"]).quantize(CENT) == Decimal(q["tax_total"]).quantize(CENT)
        assert Decimal(shown["total"]).quantize(CENT) == Decimal(q["due_now"]).quantize(CENT)
        if is_um(any_sandbox):
            held = um_php(any_sandbox, "return (string) wu_get_payment( $data )->get_tax_total();",
                          out["payment"]["id"])
            assert Decimal(held).quantize(CENT) == Decimal(q["tax_total"]).quantize(CENT)
    bad = run(any_sandbox, "change", "apply", str(mid), "--plan", "premium", "--state", "CA", "--yes")
    assert bad.exit_code == 2 and "--state/--city: give --country too" in bad.output


def test_the_network_taxes_are_read(any_sandbox: SandboxInfo) -> None:
    with taxes(any_sandbox, inclusive=True):
        read = Rest(any_sandbox).api("GET", "/wpbridge/v1/taxes")
        assert read["enabled"] is True and read["inclusive"] is True
        assert [(r["category"], r["country"], Decimal(str(r["rate"])), r["title"]) for r in read["rates"]] == [
            ("default", "FR", Decimal(20), "TVA"), ("default", "DE", Decimal(19), "MwSt")]
    products = Rest(any_sandbox).api("GET", "/wpbridge/v1/catalog")["products"]
    assert all(p["taxable"] is True and p["tax_category"] == "default" for p in products)


def test_the_quote_with_taxes_is_the_same_on_both(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    before = quote(any_sandbox, mid)
    assert Decimal(before["tax_total"]) == 0 and before["taxes"] is None
    set_billing_country(any_sandbox, customer_of(any_sandbox, mid), "FR")
    with taxes(any_sandbox):
        q = quote(any_sandbox, mid, "--at", before["at"])
        assert q["taxes"]["location"] == {"country": "FR", "state": "", "city": "", "source": "billing"}
        assert q["taxes"]["inclusive"] is False
        assert Decimal(q["tax_total"]) == sum(Decimal(ln["tax_total"]) for ln in q["lines"])
        product = next(ln for ln in q["lines"] if ln["type"] == "product")
        assert Decimal(product["tax_rate"]) == 20 and Decimal(product["tax_total"]) == Decimal("7.80")
        assert Decimal(q["due_now"]) == Decimal(before["due_now"]) + Decimal(q["tax_total"])
        over = quote(any_sandbox, mid, "--at", before["at"], "--country", "DE")
        assert over["taxes"]["location"]["source"] == "cart" and over["taxes"]["location"]["country"] == "DE"
        assert Decimal(next(ln for ln in over["lines"] if ln["type"] == "product")["tax_rate"]) == 19
        text = run(any_sandbox, "change", "quote", str(mid), "--plan", "premium", "--at", before["at"]).stdout
        assert "tax" in text and "FR (billing address)" in text and "excluded" in text


def test_an_exempt_customer_pays_no_tax(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    cid = customer_of(any_sandbox, mid)
    set_billing_country(any_sandbox, cid, "FR")
    with taxes(any_sandbox, exempt=[cid]):
        facts = Rest(any_sandbox).api("GET", f"/wpbridge/v1/customers/{cid}/tax")
        assert facts["tax_exempt"] is True and facts["billing_country"] == "FR"
        q = quote(any_sandbox, mid)
        assert q["taxes"]["exempt"] is True and Decimal(q["tax_total"]) == 0
        code, out = apply(any_sandbox, str(mid), "--plan", "premium")
        assert code == 0 and out["ok"], out["message"]
        assert Decimal(out["payment"]["total"]) == Decimal(out["quote"]["due_now"])
        assert Decimal(run_json(any_sandbox, "payments", "show", str(out["payment"]["id"]))["tax_total"]) == 0


def test_the_ip_country_when_there_is_no_billing_country(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    set_billing_country(any_sandbox, customer_of(any_sandbox, mid), "", ip_country="DE")
    with taxes(any_sandbox):
        q = quote(any_sandbox, mid)
        assert q["taxes"]["location"]["source"] == "ip" and q["taxes"]["location"]["country"] == "DE"


@pytest.mark.parametrize("body, field", [({"enabled": "maybe"}, "enabled"),
                                         ({"rates": [{"country": "FR", "rate": "-1"}]}, "rates.0.rate"),
                                         ({"rates": [{"country": "FR", "rate": "5", "colour": 1}]}, "rates.0.colour")])
def test_stub_tax_settings_are_checked(sandbox: SandboxInfo, body: dict[str, Any], field: str) -> None:
    rest = Rest(sandbox)
    resp = rest.http.put(f"{sandbox.url}/wp-json/wpbridge/v1/taxes", json=body,
                         auth=(sandbox.api_key, sandbox.api_secret), timeout=60)
    assert resp.status_code == 400 and field in resp.text, resp.text[:300]
