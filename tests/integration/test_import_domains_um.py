"""Mapped domains carried by `export` and `import` (issue 22, domain-mapped networks), on the real Ultimate
Multisite, 2.4.12 and main (2.4.13-beta.1), each build to itself: the subdomain sandbox maps
`elena-blog.localhost` to Elena's site through UM's own Domain record.

Its export carries the record by the source's blog id; imported into a fresh UM network (a subdomain one and a
subdirectory one) with the real command, the domain is mapped to the target's copy of Elena's site with its flags
and stage, and a second run writes nothing. A target that maps the name to another site keeps it there (an import
never moves a domain, `--update` or not); a target without UM names the domain as not kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import UM_LATEST, UM_MAIN, um_build
from tests.integration.test_import import env_of, network_of, report, run
from wpbridge.mapped_domains import MappedDomain
from wpbridge.sandbox import SandboxInfo, down, up
from wpbridge.workflows.snapshot import export_snapshot

MAPPED = "elena-blog.localhost"


def _down(info: SandboxInfo) -> None:
    down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


@pytest.fixture(scope="module", params=[UM_LATEST, UM_MAIN])
def build(request: pytest.FixtureRequest) -> str:
    """The UM release of the source and of its UM targets (2.4.12 and main: UM's Domain model differs a little)."""
    return str(request.param)


@pytest.fixture(scope="module")
def source(build: str) -> Iterator[SandboxInfo]:
    info = up(seed="example", subdomains=True, flavor="ultimate-multisite", um_plugin=um_build(build))
    try:
        yield info
    finally:
        _down(info)


@pytest.fixture(scope="module")
def exported(source: SandboxInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("domains") / "source.json"
    with network_of(source) as net:
        export_snapshot(net, path, now=datetime.now(UTC), source_url=source.url)
    return path


def _target(build: str, subdomains: bool, flavor: str = "ultimate-multisite") -> SandboxInfo:
    um: dict[str, Any] = {"flavor": flavor, "um_plugin": um_build(build)} if flavor != "stub" else {}
    return up(seed="none", subdomains=subdomains, **um)


def _domains(info: SandboxInfo) -> dict[str, MappedDomain]:
    with network_of(info) as net:
        return {d.domain: d for d in net.domains.all()}


def _site_of(info: SandboxInfo, label: str) -> int:
    """The blog id of the site named `label` (`/label/`, or `label.` on a subdomain network) on `info`."""
    with network_of(info) as net:
        for site in net.sites.list():
            if site.path.strip("/") == label or (site.path == "/" and site.domain.split(".")[0] == label):
                return site.blog_id
    raise AssertionError(f"no site {label} on {info.url}")


def _domain_steps(rep: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in rep["plan"] if s["kind"] == "domain"]


def test_the_export_carries_the_mapped_domain_by_the_sources_blog_id(source: SandboxInfo, exported: Path) -> None:
    data = json.loads(exported.read_text())
    mapped = source.info["mapped_domain"]
    [record] = [d for d in data["domains"] if d["domain"] == MAPPED]
    assert (record["blog_id"], record["active"], record["primary_domain"], record["stage"]) == (
        mapped["blog_id"], True, True, "done")
    assert any(s["blog_id"] == mapped["blog_id"] for s in data["sites"])


@pytest.mark.parametrize("subdomains", [True, False], ids=["subdomain-target", "subdirectory-target"])
def test_import_maps_it_to_the_targets_copy_of_the_site_once(build: str, exported: Path, tmp_path: Path,
                                                             subdomains: bool) -> None:
    target = _target(build, subdomains)
    try:
        env = env_of(target, tmp_path)
        first = run(env, str(exported), "--yes", "--report", str(tmp_path / "first.json"))
        assert first.returncode == 0, first.stderr
        rep = report(tmp_path / "first.json")
        assert [(s["key"], s["action"]) for s in _domain_steps(rep)] == [(MAPPED, "create")]
        assert any(w["kind"] == "domain" and w["status"] == "done" for w in rep["writes"])
        held = _domains(target)[MAPPED]
        assert held.blog_id == _site_of(target, "elena-blog")
        assert (held.active, held.primary_domain, held.secure, held.stage) == (True, True, False, "done")

        again = run(env, str(exported), "--yes", "--report", str(tmp_path / "again.json"))
        assert again.returncode == 0, again.stderr
        rep2 = report(tmp_path / "again.json")
        assert [(s["key"], s["action"]) for s in _domain_steps(rep2)] == [(MAPPED, "unchanged")]
        assert rep2["summary"]["writes"] == 0
        assert _domains(target)[MAPPED] == held
    finally:
        _down(target)


def test_a_domain_the_target_maps_to_another_site_stays_there(build: str, exported: Path, tmp_path: Path) -> None:
    target = _target(build, subdomains=True)
    try:
        with network_of(target) as net:
            net.domains.create(1, MAPPED, {"active": True, "primary_domain": False, "secure": False,
                                           "stage": "done"})
        env = env_of(target, tmp_path)
        result = run(env, str(exported), "--yes", "--update", "--report", str(tmp_path / "r.json"))
        rep = report(tmp_path / "r.json")
        [step] = _domain_steps(rep)
        assert step["action"] == "conflict" and "never moves a domain" in step["note"], step
        assert result.returncode == 1 and [c["key"] for c in rep["conflicts"]] == [MAPPED], result.stderr
        assert _domains(target)[MAPPED].blog_id == 1  # not moved to the imported Elena's site

        # a file that maps the target network's own host (or a name under it) to a customer's site is refused
        data = json.loads(exported.read_text())
        host = urlsplit(target.url).hostname or ""
        for record in data["domains"]:
            record["domain"] = f"shop.{host}"
        hostile = tmp_path / "hostile.json"
        hostile.write_text(json.dumps(data))
        refused = run(env, str(hostile), "--yes", "--update", "--report", str(tmp_path / "h.json"))
        [step] = _domain_steps(report(tmp_path / "h.json"))
        assert step["action"] == "conflict" and "never maps it to a site" in step["note"], refused.stderr
        assert f"shop.{host}" not in _domains(target)
    finally:
        _down(target)


def test_a_target_without_um_names_the_domain_as_not_kept(build: str, exported: Path, tmp_path: Path) -> None:
    target = _target(build, subdomains=True, flavor="stub")
    try:
        env = env_of(target, tmp_path)
        result = run(env, str(exported), "--dry-run", "--report", str(tmp_path / "r.json"))
        assert result.returncode == 0, result.stderr
        rep = report(tmp_path / "r.json")
        assert any(line.startswith(f"domain {MAPPED}: not kept") for line in rep["not_kept"]), rep["not_kept"]
        assert f"domain {MAPPED}" in result.stdout + result.stderr
    finally:
        _down(target)
