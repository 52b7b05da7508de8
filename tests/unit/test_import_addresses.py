"""`wpbridge import`: a site's address translated between network layouts (issue 22). A site is named by its own
label: `/alice/` on a subdirectory network, `alice.` (a host under the source network's) on a subdomain one; the
main site and a site on a host of its own keep their place. What cannot be translated is an address problem."""

from __future__ import annotations

from wpbridge.managers.flavor import STUB
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_records import SrcSite
from wpbridge.workflows.importer_target import TargetState


def net(subdomain: bool, path: str = "/") -> TargetState:
    return TargetState(flavor=STUB, domain="net.example", path=path, subdomain=subdomain, catalog=example_catalog(),
                       customers=[], memberships={}, keys={}, sites={}, scheduled={})


def site(path: str = "/", domain: str | None = None) -> SrcSite:
    return SrcSite(membership="m", path=path, domain=domain, title="T", type="customer_owned", where="sites[0]")


def test_a_subdomain_site_becomes_a_path_on_a_subdirectory_network() -> None:
    sub = net(subdomain=False)
    alice = site(domain="alice.")  # an export of alice.wpbridge.localhost:PORT from wpbridge.localhost:PORT
    assert sub.address_problem(alice) is None
    assert sub.site_address(alice) == ("net.example", "/alice/")
    assert net(subdomain=False, path="/wp/").site_address(alice) == ("net.example", "/wp/alice/")
    assert sub.site_address(site()) == ("net.example", "/")  # the main site stays the main site
    assert sub.site_address(site("/bob/")) == ("net.example", "/bob/")


def test_a_path_becomes_a_subdomain_and_back() -> None:
    dom = net(subdomain=True)
    assert dom.site_address(site("/alice/")) == ("alice.net.example", "/")
    assert dom.site_address(site(domain="alice.")) == ("alice.net.example", "/")
    assert dom.site_address(site()) == ("net.example", "/")
    assert dom.site_address(site(domain="shop.example.org")) == ("shop.example.org", "/")


def test_what_cannot_be_translated_is_named() -> None:
    sub = net(subdomain=False)
    nested = sub.address_problem(site(domain="shop.alice."))
    assert nested is not None and "'shop.alice.'" in nested and "one label" in nested
    reserved = sub.address_problem(site(domain="blog."))
    assert reserved is not None and "/blog/ is reserved" in reserved
    mapped = sub.address_problem(site(domain="shop.example.org"))
    assert mapped is not None and "give site_path instead" in mapped
    deep = net(subdomain=True).address_problem(site("/shop/alice/"))
    assert deep is not None and "site_path '/shop/alice/'" in deep
    assert net(subdomain=True).address_problem(site("/alice/")) is None


def test_a_path_site_created_on_a_subdomain_network_is_sent_with_its_host() -> None:
    """The create names the host (alice.net.example, path /): without it the target finds its main site at / (the
    SIGKILL and conflict import tests on subdomain sandboxes: 'the site exists already and belongs to membership
    None')."""
    from tests.unit.test_import_apply import FakeServer
    from wpbridge.workflows.importer_apply import Applier
    from wpbridge.workflows.importer_input import check_references, read_csv
    from wpbridge.workflows.importer_plan import build_plan

    src = read_csv("email,plan,site_path\nann@example.com,basic,/ann/\n")
    check_references(src, example_catalog())
    for subdomain, want in ((True, {"domain": "ann.net.example", "path": "/"}), (False, {"path": "/ann/"})):
        server = FakeServer()
        Applier(server, build_plan(src, net(subdomain))).run()  # type: ignore[arg-type]
        sites = [i.body or {} for batch in server.batches for i in batch if i.path.endswith("/sites")]
        assert [{k: b[k] for k in ("domain", "path") if k in b} for b in sites] == [want]


def test_an_untitled_site_of_a_subdomain_export_is_named_by_its_label() -> None:
    import json

    from wpbridge.workflows.importer_json import read_json

    base = "wpbridge.localhost:8080"
    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": f"http://{base}",
            "catalog": [p.model_dump(mode="json") for p in example_catalog()],
            "customers": [{"id": 1, "user_email": "ann@example.com"}],
            "memberships": [{"id": 4, "customer_id": 1, "plan_id": example_catalog()[0].id, "status": "active"}],
            "sites": [{"blog_id": 1, "domain": base, "path": "/", "type": "main", "title": "Main"},
                      {"blog_id": 2, "domain": f"ann-shop.{base}", "path": "/", "membership_id": 4, "title": ""}]}
    src = read_json(json.dumps(data))
    assert [(s.domain, s.path, s.title) for s in src.sites] == [("ann-shop.", "/", "ann-shop")]
