"""Integration tests run against one real sandbox per test session (WordPress multisite + plugin-stub, example seed).

Every test collected under tests/integration/ is marked `integration` (select or deselect with `-m`); none is
skipped by default. The `sandbox` fixture fails loudly when WordPress cannot start: a missing WordPress is a
broken test run, not a reason to skip.

Developer knobs (environment): WPBRIDGE_TEST_SANDBOX=DIR reuses a sandbox already running in DIR (started with
`wpbridge sandbox up --dir DIR`; not stopped at the end; earlier runs may have changed its data);
WPBRIDGE_TEST_KEEP=1 stops the session's sandbox but keeps its directory (logs, database) for inspection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wpbridge.errors import WPBridgeError
from wpbridge.sandbox import SandboxInfo, down, up

HERE = Path(__file__).resolve().parent


SEED_TESTS = HERE / "test_sandbox_seed.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything here `integration`; run the seed checks first, on the network exactly as seeded."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: Path(str(item.path)).resolve() != SEED_TESTS)  # stable: other orders are kept


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxInfo]:
    """The session's sandbox: attributes url, api_key, api_secret, user, app_password, dir, and `info` (all of
    DIR/sandbox.json: port, sites, seeded ids by slug and username, timings)."""
    reuse = os.environ.get("WPBRIDGE_TEST_SANDBOX")
    if reuse:
        yield SandboxInfo.load(reuse)
        return
    try:
        info = up(seed="example")
    except WPBridgeError as err:
        pytest.fail(f"the WordPress sandbox could not start: {err}", pytrace=False)
    try:
        yield info
    finally:
        down(info.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")
