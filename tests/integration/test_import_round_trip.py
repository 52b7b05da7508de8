"""Migrations that lose nothing (issue 21, item 4; issue 19's export/import of taxes): on every pair of flavors
(stub -> stub, stub -> UM, UM -> stub, UM -> UM; UM 2.4.12, and 2.4.13-beta.1 -> itself), a source network with
everything a migration must carry is exported, imported into a fresh network with the real command, exported again,
and the two exports are compared field by field, every field of every record, by natural keys: the only
differences allowed are the ones the import named (its report's `not_kept_fields`, also printed as `not kept`).

What each source holds besides the example seed: taxes on, prices inclusive, rates in two categories (one named
by the network); a product that is not taxable and one in the `reduced` category; customers with full billing
addresses, one tax-exempt (UM: through `wu_cart_is_tax_exempt`, as a VAT add-on makes them), one taxed by its IP
country (UM: its meta `ip_country`); a membership with gateway ids; trialed customers (the seed's trialing ones)
a customer who has not trialed beside a membership with a trial end (UM says she has), and a cancelled
membership whose gateway is `manual`. Quotas and usage are not compared (UM computes its own
limits; usage is measured), test_import.py checks them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from tests.integration.change_support import Rest
from tests.integration.conftest import UM_LATEST, UM_MAIN, um_build
from tests.integration.test_change_taxes import EXEMPT_PLUGIN, UM_SET_TAXES
from tests.integration.test_import import env_of, network_of, report, run
from tests.integration.um_support import um_php
from wpbridge.errors import WPBridgeError
from wpbridge.sandbox import SandboxInfo, down, up
from wpbridge.workflows.snapshot import export_snapshot

RATES = [
    {"category": "default", "country": "FR", "state": "", "city": "", "rate": "20", "title": "TVA"},
    {"category": "default", "country": "US", "state": "CA,NY", "city": "", "rate": "7.25", "title": "Sales tax"},
    {"category": "reduced", "country": "FR", "state": "", "city": "", "rate": "5.5", "title": "TVA reduite"},
]
ADDRESS = {"company_name": "Alice SARL", "billing_email": "billing@alice.example", "billing_address_line_1": "1 rue",
           "billing_address_line_2": "Bat. B", "billing_city": "Paris", "billing_state": "IDF",
           "billing_zip_code": "75001", "billing_country": "FR"}
REDUCED_NAME = "Reduced rate (books)"
FLAVORS = {"stub": {}, "um": {"flavor": "ultimate-multisite"}, "um13": {"flavor": "ultimate-multisite"}}
UM_BUILD = {"um": UM_LATEST, "um13": UM_MAIN}

UM_SOURCE = """
$cats = get_network_option( null, 'wp-ultimo_tax_rates' );
$cats['reduced']['name'] = $data['reduced_name'];
update_network_option( null, 'wp-ultimo_tax_rates', $cats );
foreach ( $data['flags'] as $slug => $f ) {
    $p = wu_get_product_by_slug( $slug );
    $p->update_meta( 'taxable', $f['taxable'] );
    $p->update_meta( 'tax_category', $f['tax_category'] );
}
$c = wu_get_customer( $data['alice'] );
$c->set_billing_address( $data['address'] );
$c->save();
$k = wu_get_customer( $data['karin'] );
$k->set_billing_address( array( 'billing_email' => 'karin@example.com' ) );
$k->save();
$k->update_meta( 'ip_country', 'DE' );
$g = wu_get_membership( $data['grace'] );
$g->set_date_trial_end( '2026-10-01 00:00:00' );
$g->save();
$m = wu_get_membership( $data['membership'] );
$m->set_gateway_customer_id( 'cus_rt1' );
$m->set_gateway_subscription_id( 'sub_rt1' );
$m->save();
return true;
"""


def _start(flavor: str, seed: str) -> SandboxInfo:
    kwargs: dict[str, Any] = dict(FLAVORS[flavor])
    if flavor in UM_BUILD:
        kwargs["um_plugin"] = um_build(UM_BUILD[flavor])
    try:
        return up(seed=seed, **kwargs)
    except WPBridgeError as err:
        pytest.fail(f"the {flavor} sandbox could not start: {err}", pytrace=False)


def _down(info: SandboxInfo) -> None:
    down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


def _customer(sb: SandboxInfo, username: str) -> dict[str, Any]:
    return next(c for c in sb.info["seeded"]["customers"] if c["username"] == username)


def _enrich(sb: SandboxInfo, flavor: str) -> None:
    """Everything the example seed lacks that a migration must carry (see the module's doc)."""
    products = sb.info["seeded"]["products"]
    alice, bruno, carla, grace, karin = (_customer(sb, n) for n in ("alice", "bruno", "carla", "grace", "karin"))
    flags = {"basic": {"taxable": False, "tax_category": "default"},
             "premium": {"taxable": True, "tax_category": "reduced"}}
    if flavor == "stub":
        rest = Rest(sb)
        rest.api("PUT", "/wpbridge/v1/taxes", {
            "enabled": True, "inclusive": True, "rates": RATES, "exempt_customers": [bruno["customer_id"]],
            "categories": {"reduced": REDUCED_NAME},
            "products": {str(products[s]): f for s, f in flags.items()}})
        rest.api("PUT", f"/wu/v2/customer/{alice['customer_id']}", {"billing_address": ADDRESS})
        rest.api("PUT", f"/wu/v2/membership/{grace['membership_id']}", {"date_trial_end": "2026-10-01 00:00:00"})
        rest.api("PUT", f"/wu/v2/customer/{karin['customer_id']}",
                 {"billing_address": {"billing_email": "karin@example.com", "ip_country": "DE"}})
        rest.api("PUT", f"/wu/v2/membership/{carla['membership_id']}",
                 {"gateway_customer_id": "cus_rt1", "gateway_subscription_id": "sub_rt1"})
        return
    plugin = Path(sb.info["docroot"]) / "wp-content" / "mu-plugins" / "wpb-test-tax-exempt.php"
    plugin.parent.mkdir(parents=True, exist_ok=True)
    plugin.write_text(EXEMPT_PLUGIN)
    um_php(sb, UM_SET_TAXES, {"enable": True, "inclusive": True, "rates": RATES,
                              "exempt": [bruno["customer_id"]]})
    um_php(sb, UM_SOURCE, {"flags": flags, "alice": alice["customer_id"], "address": ADDRESS,
                           "reduced_name": REDUCED_NAME, "membership": carla["membership_id"],
                           "karin": karin["customer_id"], "grace": grace["membership_id"]})


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Each source flavor's export, made once (the source networks are stopped after it)."""
    out: dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("round-trip")

    def source(flavor: str) -> Path:
        if flavor not in out:
            sb = _start(flavor, "example")
            try:
                _enrich(sb, flavor)
                out[flavor] = folder / f"{flavor}.json"
                with network_of(sb) as net:
                    export_snapshot(net, out[flavor], now=datetime.now(UTC), source_url=sb.url)
            finally:
                _down(sb)
        return out[flavor]

    yield source  # type: ignore[misc]
    shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- the comparison


def _value(v: Any) -> Any:
    """A value as compared: amounts as numbers (UM answers "15", the stub "15.0000"), maps and lists inside."""
    if isinstance(v, str):
        try:
            return f"{Decimal(v).normalize():f}" if v.strip() and v.strip()[0].isdigit() else v
        except InvalidOperation:
            return v
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def member_keys(export: dict[str, Any]) -> dict[int, str]:
    """Each membership's natural key: its customer's email and its rank among that customer's memberships."""
    email = {c["id"]: c["user_email"] for c in export["customers"]}
    ids = sorted(m["id"] for m in export["memberships"])
    owner = {m["id"]: m["customer_id"] for m in export["memberships"]}
    return {mid: f"{email[owner[mid]]}#{[x for x in ids if owner[x] == owner[mid]].index(mid)}" for mid in ids}


def flat(export: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """Every field of an export by (section, natural key, field): ids become the keys they stand for."""
    slug = {p["id"]: p["slug"] for p in export["catalog"]}
    email = {c["id"]: c["user_email"] for c in export["customers"]}
    member_key = member_keys(export).__getitem__

    out: dict[tuple[str, str, str], Any] = {}

    def put(section: str, key: str, record: dict[str, Any], drop: tuple[str, ...]) -> None:
        for name, value in record.items():
            if name not in drop:
                out[(section, key, name)] = _value(value)

    for p in export["catalog"]:
        put("catalog", p["slug"], {**p, "available_addons": sorted(slug[a] for a in p["available_addons"])}, ("id",))
    for c in export["customers"]:
        put("customers", c["user_email"], c, ("id", "user_id"))
    for m in export["memberships"]:
        put("memberships", member_key(m["id"]), {**m, "plan_id": slug[m["plan_id"]], "addon_products": {
            slug[int(p)]: q for p, q in m["addon_products"].items()}}, ("id", "customer_id"))
    for s in export["sites"]:
        if s.get("membership_id"):
            put("sites", s["path"], {**s, "membership_id": member_key(s["membership_id"]),
                                     "is_main": bool(s.get("is_main")), "suspended": bool(s.get("suspended"))},
                ("blog_id", "customer_id", "domain"))
    for c in export["scheduled_changes"]:
        put("scheduled_changes", member_key(c["membership_id"]), c, ("membership_id",))
    taxes = export.get("taxes")
    if taxes is not None:
        put("taxes", "network", {**taxes, "exempt_customers": sorted(email[i] for i in taxes["exempt_customers"])},
            ())
    return out


def differences(want: dict[tuple[str, str, str], Any], have: dict[tuple[str, str, str], Any]
                ) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    return {k: (want.get(k), have.get(k)) for k in set(want) | set(have) if want.get(k) != have.get(k)}


def named(rep: dict[str, Any], source: dict[str, Any]) -> set[tuple[str, str, str]]:
    """What the import said it could not keep, as (section, natural key, field) of the comparison (a membership's
    source key `{source_url}/membership/{id}` as its natural key)."""
    section = {"product": "catalog", "customer": "customers", "membership": "memberships", "taxes": "taxes"}
    by_source = {f"{source['source_url'].rstrip('/')}/membership/{mid}": key
                 for mid, key in member_keys(source).items()}
    return {(section[x["kind"]], by_source.get(x["key"], x["key"]), x["field"])
            for x in rep.get("not_kept_fields", [])}


PAIRS = [("stub", "stub"), ("stub", "um"), ("um", "stub"), ("um", "um"), ("um13", "um13")]


@pytest.mark.parametrize(("source_flavor", "target_flavor"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_export_import_export_loses_nothing_the_import_did_not_name(
        sources: Any, source_flavor: str, target_flavor: str, tmp_path: Path) -> None:
    source_file: Path = sources(source_flavor)
    target = _start(target_flavor, "none")
    try:
        env = env_of(target, tmp_path)
        done = run(env, str(source_file), "--yes", "--report", str(tmp_path / "r.json"))
        assert done.returncode == 0, done.stderr + done.stdout
        rep = report(tmp_path / "r.json")
        with network_of(target) as net:
            export_snapshot(net, tmp_path / "again.json", now=datetime.now(UTC), source_url=target.url)
        source = json.loads(source_file.read_text())
        want = flat(source)
        have = flat(json.loads((tmp_path / "again.json").read_text()))
        lost = named(rep, source)
        for key in lost:  # each named loss is printed too
            assert f"not kept: {key[2]}" in done.stderr, key
        unnamed = {k: v for k, v in differences(want, have).items() if (k[0], k[1], k[2]) not in lost}
        assert unnamed == {}
        assert want[("taxes", "network", "categories")] == {"default": "Default", "reduced": REDUCED_NAME}
        if source_flavor != "stub":  # UM's own answer: a trial membership is a trial (its REST gives the column)
            assert want[("customers", "grace@example.com", "has_trialed")] is True
        assert want[("customers", "karin@example.com", "billing_address")] == {
            "billing_email": "karin@example.com", "ip_country": "DE"}  # UM: its meta ip_country
        assert ("taxes", "network", "rates") in want and ("customers", "alice@example.com", "billing_address") in want
        again = run(env, str(source_file), "--yes", "--report", str(tmp_path / "again-r.json"))
        assert again.returncode == 0, again.stderr + again.stdout
        assert report(tmp_path / "again-r.json")["summary"]["writes"] == 0
        assert again.stderr == ""  # nothing written, nothing lost: nothing to name
    finally:
        _down(target)


def test_what_a_ultimate_multisite_target_cannot_hold_is_named(sources: Any, tmp_path: Path) -> None:
    """Stub -> UM: UM keeps no tax exemption (its filter decides) and clears a cancelled membership's gateway on
    every save; the plan says so, per record and in the summary."""
    target = _start("um", "none")
    try:
        dry = run(env_of(target, tmp_path), str(sources("stub")), "--dry-run", "--output", "json")
        assert dry.returncode == 0, dry.stderr
        rep = json.loads(dry.stdout)
        lost = named(rep, json.loads(sources("stub").read_text()))
        assert {("taxes", "network", "exempt_customers"), ("memberships", "ines@example.com#0", "gateway")} <= lost
        addresses = lost - {("taxes", "network", "exempt_customers"), ("memberships", "ines@example.com#0", "gateway")}
        trial = ("customers", "grace@example.com", "has_trialed")  # false beside a trial membership: UM says true
        assert trial in addresses
        addresses.remove(trial)
        assert {(s, f) for s, _, f in addresses} == {("customers", "billing_address")}  # the stub's billing_name
        assert len(addresses) == 10  # every seeded customer but alice and karin (UM's own lines only)
        assert any("exempt" in line for line in rep["not_kept"]) and any("gateway" in line for line in rep["not_kept"])
    finally:
        _down(target)


def test_rows_that_surely_mean_something_else_are_refused_or_warned(sandbox: SandboxInfo, tmp_path: Path) -> None:
    """Issue 21 item 5, through the real command: a JPY row against the USD catalog is refused naming the row and
    both currencies (exit 2, nothing written) unless --allow-currency-mismatch; a recurring row without
    date_expiration is a warning on stderr and in the report, and changes no exit code."""
    csv = tmp_path / "rows.csv"
    csv.write_text("email,plan,amount,currency,date_expiration\nyen@example.net,basic,1500,JPY,2027-01-01\n"
                   "noexp@example.net,basic,15,USD,\n")
    env = env_of(sandbox, tmp_path)
    refused = run(env, str(csv), "--dry-run")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines()[0] == (
        "import: line 2: currency JPY is not the currency of plan 'basic' (USD): a later quote would compare JPY"
        " amounts with USD prices; convert the amounts, or pass --allow-currency-mismatch to import it as JPY")
    assert "import: line 3: warning: date_expiration is not given for a recurring membership" in refused.stderr
    allowed = run(env, str(csv), "--dry-run", "--allow-currency-mismatch", "--report", str(tmp_path / "r.json"))
    assert allowed.returncode == 0, allowed.stderr
    warned = report(tmp_path / "r.json")["warnings"]
    assert [(w["where"], w["field"]) for w in warned] == [("line 2", "currency"), ("line 3", "date_expiration")]
    assert "imported as JPY (--allow-currency-mismatch)" in allowed.stderr
    with network_of(sandbox) as net:
        assert not any(c["email"] in ("yen@example.net", "noexp@example.net") for c in net.imports.customers())
