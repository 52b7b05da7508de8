"""Integration tests run against one real sandbox per test session (WordPress multisite + plugin-stub, example seed).

Every test collected under tests/integration/ is marked `integration` (select or deselect with `-m`); none is
skipped by default. The `sandbox` fixture fails loudly when WordPress cannot start: a missing WordPress is a
broken test run, not a reason to skip.

Developer knobs (environment): WPBRIDGE_TEST_SANDBOX=DIR reuses a sandbox already running in DIR (started with
`wpbridge sandbox up --dir DIR`; not stopped at the end; earlier runs may have changed its data);
WPBRIDGE_TEST_KEEP=1 stops the session's sandbox but keeps its directory (logs, database) for inspection.
WPBRIDGE_TEST_SUBDOMAINS=1 starts the session's sandboxes as subdomain networks (`sandbox up --subdomains`), to
run the suite's stories on one (issue 22).

The real Ultimate Multisite: `um_sandbox` (UM 2.4.12, the latest release) and `um_main_sandbox` (UM main,
2.4.13-beta.1) are the same example network in the UM flavor; `any_sandbox` runs a test on both flavors (stub
and UM 2.4.12). The UM builds are found by `wpbridge.sandbox.um_plugin_path` ($WPBRIDGE_UM_PLUGIN,
$WPBRIDGE_UM_DIR, or `../shared/ultimate-multisite/` beside the checkout). Without a build, a UM test is skipped
with the reason, except when WPBRIDGE_REQUIRE_UM=1 (set by `.ci/run`): then it fails. WPBRIDGE_TEST_UM_SANDBOX=DIR
and WPBRIDGE_TEST_UM_MAIN_SANDBOX=DIR reuse running UM sandboxes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from wpbridge.errors import WPBridgeError
from wpbridge.sandbox import SandboxInfo, down, um_plugin_path, up

HERE = Path(__file__).resolve().parent


SEED_TESTS = (HERE / "test_sandbox_seed.py", HERE / "test_sandbox_um.py")
"""Checks of the networks exactly as seeded (both flavors): run before any test writes to them."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything here `integration`; run the seed checks first, on the network exactly as seeded."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: Path(str(item.path)).resolve() not in SEED_TESTS)  # stable: other orders kept


def site_home(network_url: str, record: Mapping[str, Any]) -> str:
    """A site's home URL from its record (`domain` + `path`, as `wu/v2/site` and plugin-stub give them): on a
    subdomain network `http://alice.wpbridge.localhost:PORT/`, on a subdirectory one `http://HOST:PORT/alice/`; never
    the network's URL + the path, which on a subdomain network is the main site."""
    return f"{urlsplit(network_url).scheme}://{record['domain']}{record['path']}"


UM_LATEST = "2.4.12"
UM_MAIN = "2.4.13-beta.1"


def um_build(version: str) -> Path:
    """The UM build of `version`, or skip (fail under WPBRIDGE_REQUIRE_UM=1) naming what is missing."""
    path = um_plugin_path(version)
    if path is None:
        why = (f"no Ultimate Multisite {version} build found (set WPBRIDGE_UM_PLUGIN or WPBRIDGE_UM_DIR, or put "
               f"ultimate-multisite-{version}.tar.xz in ../shared/ultimate-multisite/)")
        if os.environ.get("WPBRIDGE_REQUIRE_UM") == "1":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return path


def _session_sandbox(reuse_env: str, **kwargs: object) -> Iterator[SandboxInfo]:
    reuse = os.environ.get(reuse_env)
    if reuse:
        yield SandboxInfo.load(reuse)
        return
    kwargs.setdefault("subdomains", os.environ.get("WPBRIDGE_TEST_SUBDOMAINS") == "1")
    try:
        info = up(seed="example", **kwargs)  # type: ignore[arg-type]
    except WPBridgeError as err:
        pytest.fail(f"the WordPress sandbox could not start: {err}", pytrace=False)
    try:
        yield info
    finally:
        down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxInfo]:
    """The session's sandbox: attributes url, api_key, api_secret, user, app_password, dir, and `info` (all of
    DIR/sandbox.json: port, sites, seeded ids by slug and username, timings)."""
    yield from _session_sandbox("WPBRIDGE_TEST_SANDBOX")


@pytest.fixture(scope="session")
def um_sandbox() -> Iterator[SandboxInfo]:
    """The example network on the real Ultimate Multisite 2.4.12 (the latest release), plugin-stub in UM mode;
    `info["um_version"]`, `info["docroot"]`, and `info["seeded"]` (UM's ids by slug and username)."""
    yield from _session_sandbox("WPBRIDGE_TEST_UM_SANDBOX", flavor="ultimate-multisite",
                                um_plugin=um_build(UM_LATEST))


@pytest.fixture(scope="session")
def um_main_sandbox() -> Iterator[SandboxInfo]:
    """The same on UM main (2.4.13-beta.1), for what differs between the builds (add-on carts, REST paging)."""
    yield from _session_sandbox("WPBRIDGE_TEST_UM_MAIN_SANDBOX", flavor="ultimate-multisite",
                                um_plugin=um_build(UM_MAIN))


@pytest.fixture(params=["stub", "ultimate-multisite"])
def any_sandbox(request: pytest.FixtureRequest) -> SandboxInfo:
    """Runs a test on both flavors: the stub's example network and the same story on the real UM 2.4.12."""
    name = "sandbox" if request.param == "stub" else "um_sandbox"
    info: SandboxInfo = request.getfixturevalue(name)
    return info
