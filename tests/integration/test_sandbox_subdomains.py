"""`wpbridge sandbox up --subdomains` (issue 22, subdomain networks): a subdomain multisite whose site hosts resolve
on this machine (`*.wpbridge.localhost`, sandbox/names.py), seeded with the example network, read and synced by
wpbridge as it is. Its own sandbox per flavor (stub, the real UM 2.4.12), started once and removed at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from wpbridge.config import NetworkSettings
from wpbridge.network import Network
from wpbridge.sandbox import SandboxInfo, down, up
from wpbridge.sandbox.names import BASE_HOST, resolves_to_loopback
from wpbridge.workflows.snapshot import export_snapshot

from .conftest import UM_LATEST, um_build

WPBRIDGE = str(Path(sys.executable).with_name("wpbridge"))


@pytest.fixture(scope="module", params=["stub", "ultimate-multisite"])
def subdomain_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxInfo]:
    um = {"flavor": "ultimate-multisite", "um_plugin": um_build(UM_LATEST)} if request.param != "stub" else {}
    info = up(seed="example", subdomains=True, **um)  # type: ignore[arg-type]
    try:
        yield info
    finally:
        down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


@pytest.fixture(scope="module")
def net(subdomain_sandbox: SandboxInfo) -> Iterator[Network]:
    settings = NetworkSettings(name="subdomains", url=subdomain_sandbox.url, api_key=subdomain_sandbox.api_key,
                               api_secret=subdomain_sandbox.api_secret)
    with Network(settings) as network:
        yield network


def home_of(host: str) -> dict[str, str]:
    """What the site at `host` says about itself (its REST index), fetched by its own host name."""
    reply = requests.get(f"http://{host}/wp-json/", timeout=30)
    reply.raise_for_status()
    data = reply.json()
    return {"name": data["name"], "home": data["home"]}


def test_the_network_is_on_its_own_host_and_every_site_on_a_subdomain(subdomain_sandbox: SandboxInfo,
                                                                       net: Network) -> None:
    base = urlsplit(subdomain_sandbox.url).netloc
    assert base == f"{BASE_HOST}:{subdomain_sandbox.info['port']}"
    assert subdomain_sandbox.info["subdomains"] is True
    sites = list(net.sites.list())
    assert len(sites) >= 3 + 12
    for site in sites:
        assert site.path == "/"
        assert site.domain == base or site.domain.endswith("." + base), site.domain
    assert {s.domain for s in sites} >= {f"site2.{base}", f"alice.{base}", f"carla-shop.{base}"}


def test_site_hosts_resolve_here_and_each_serves_its_own_site(subdomain_sandbox: SandboxInfo, net: Network) -> None:
    base = urlsplit(subdomain_sandbox.url).netloc
    assert resolves_to_loopback(f"anything-new.{BASE_HOST}")  # any slug, also one created later
    by_domain = {s.domain: s for s in net.sites.list()}
    for host in (base, f"site2.{base}", f"alice.{base}", f"carla-shop.{base}"):
        seen = home_of(host)
        assert seen["home"] == f"http://{host}"
        assert seen["name"] == by_domain[host].title


def test_sync_and_export_read_the_subdomain_network(subdomain_sandbox: SandboxInfo, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env.update(WPBRIDGE_URL=subdomain_sandbox.url, WPBRIDGE_API_KEY=subdomain_sandbox.api_key,
               WPBRIDGE_API_SECRET=subdomain_sandbox.api_secret, HOME=str(tmp_path))
    for _ in range(2):  # the seeded network is in sync: a run writes nothing, twice
        done = subprocess.run([WPBRIDGE, "sync"], capture_output=True, text=True, env=env, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("sync: 0 changes; 18 sites checked,"), done.stdout
    out = tmp_path / "export.json"
    done = subprocess.run([WPBRIDGE, "export", "--out", str(out), "-o", "json"], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text())
    base = urlsplit(subdomain_sandbox.url).netloc
    assert {(s["domain"], s["path"]) for s in exported["sites"]} >= {(f"alice.{base}", "/"), (base, "/")}


@pytest.fixture(scope="module")
def subdirectory_target(subdomain_sandbox: SandboxInfo) -> Iterator[SandboxInfo]:
    """An empty subdirectory network of the same flavor (its main site at http://127.0.0.1:PORT/)."""
    um = {"flavor": "ultimate-multisite", "um_plugin": um_build(UM_LATEST)} \
        if subdomain_sandbox.info.get("flavor", "stub") != "stub" else {}
    info = up(seed="none", subdomains=False, **um)  # type: ignore[arg-type]
    try:
        yield info
    finally:
        down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


def test_an_export_of_the_subdomain_network_imports_into_a_subdirectory_one(
        subdomain_sandbox: SandboxInfo, net: Network, subdirectory_target: SandboxInfo, tmp_path: Path) -> None:
    """alice.wpbridge.localhost:PORT/ becomes /alice/ on the subdirectory network (the site's own label as its
    path), the main site stays the main site; a second run writes nothing."""
    source = tmp_path / "subdomains.json"
    export_snapshot(net, source, now=datetime.now(UTC), source_url=subdomain_sandbox.url)
    base = urlsplit(subdomain_sandbox.url).netloc
    labels = {s.domain.removesuffix("." + base) for s in net.sites.list() if s.membership_id}
    t = subdirectory_target
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env.update(WPBRIDGE_URL=t.url, WPBRIDGE_API_KEY=t.api_key, WPBRIDGE_API_SECRET=t.api_secret, HOME=str(tmp_path))
    for writes in ("", "0 writes"):  # the second run finds every record in place
        done = subprocess.run([WPBRIDGE, "import", str(source), "--yes"], capture_output=True, text=True, env=env,
                              timeout=600, check=False, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr + done.stdout
        assert writes in done.stdout, done.stdout
    target_host = urlsplit(t.url).netloc
    settings = NetworkSettings(name="t", url=t.url, api_key=t.api_key, api_secret=t.api_secret)
    with Network(settings) as target:
        sites = {s.path: s for s in target.sites.list()}
    assert {p.strip("/") for p, s in sites.items() if s.membership_id} == labels and "alice" in labels
    assert all(s.domain == target_host for s in sites.values())
    assert home_of(f"{target_host}/alice")["home"] == f"http://{target_host}/alice"


def test_um_a_mapped_domain_serves_its_site_and_wpbridge_counts_and_enforces_it(
        subdomain_sandbox: SandboxInfo, net: Network, tmp_path: Path) -> None:
    """UM flavor: elena-blog.localhost is mapped to Elena's site by UM's own Domain record and sunrise (the front
    passes it without the port); wpbridge reads the custom domain (usage) and a quote to a plan without custom
    domains (free) is blocked with UM's own words, naming the site by its host."""
    if subdomain_sandbox.info.get("flavor", "stub") == "stub":
        # domain mapping is Ultimate Multisite's: the stub has no Domain records, and its sandbox maps none
        assert "mapped_domain" not in subdomain_sandbox.info
        assert all(s.domain == urlsplit(subdomain_sandbox.url).netloc or s.domain.endswith(
            "." + urlsplit(subdomain_sandbox.url).netloc) for s in net.sites.list())
        return
    mapped = subdomain_sandbox.info["mapped_domain"]
    assert mapped["domain"] == "elena-blog.localhost"
    site = next(s for s in net.sites.list() if s.blog_id == mapped["blog_id"])
    assert site.domain == f"elena-blog.{urlsplit(subdomain_sandbox.url).netloc}" and site.path == "/"
    port = subdomain_sandbox.info["port"]
    seen = home_of(f"elena-blog.localhost:{port}")
    assert seen["name"] == site.title and seen["home"].startswith("http://elena-blog.localhost")
    assert net.usage.get([site.blog_id])[site.blog_id].custom_domains == 1
    others = [s.blog_id for s in net.sites.list() if s.membership_id and s.blog_id != site.blog_id]
    assert all(u.custom_domains == 0 for u in net.usage.get(others).values())

    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env.update(WPBRIDGE_URL=subdomain_sandbox.url, WPBRIDGE_API_KEY=subdomain_sandbox.api_key,
               WPBRIDGE_API_SECRET=subdomain_sandbox.api_secret, HOME=str(tmp_path))
    done = subprocess.run([WPBRIDGE, "change", "quote", str(site.membership_id), "--plan", "free", "--force"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (f"Site {site.blog_id} ({site.domain}): This new plan does NOT support custom domains. You must remove all"
            " custom domains before you can downgrade your plan.") in done.stdout, done.stdout
