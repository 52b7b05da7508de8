"""`wpbridge sandbox up` options as the command line passes them to `sandbox.runner.up` (offline: `up` is replaced
by a recorder). `--no-plugin` (issue 21 item 1): WordPress, or UM, without plugin-stub, for installing the release
zip as a network owner does; it seeds nothing unless told, and an example seed without the plugin is refused."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner, Result

from wpbridge.cli import main
from wpbridge.sandbox import runner
from wpbridge.sandbox.errors import SandboxUsageError


class _Info:
    def public(self) -> dict[str, Any]:
        return {"url": "http://127.0.0.1:1"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def record(dir_: str | None, **kwargs: Any) -> _Info:
        seen.append(kwargs)
        if not kwargs.get("plugin", True) and kwargs.get("seed") != "none":
            raise SandboxUsageError("a sandbox without plugin-stub can only be seeded 'none'")
        return _Info()

    monkeypatch.setattr(runner, "up", record)
    return seen


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["sandbox", "up", *args], catch_exceptions=False)


def test_no_plugin_starts_without_plugin_stub_and_seeds_nothing(calls: list[dict[str, Any]]) -> None:
    res = cli("--no-plugin", "-q")
    assert res.exit_code == 0, res.stderr
    assert calls[-1]["plugin"] is False and calls[-1]["seed"] == "none"
    ok = cli("--no-plugin", "--flavor", "ultimate-multisite", "--um-plugin", "um.zip", "--seed", "none", "-q")
    assert ok.exit_code == 0 and calls[-1]["plugin"] is False and calls[-1]["flavor"] == "ultimate-multisite"


def test_plugin_is_the_default_with_the_example_seed(calls: list[dict[str, Any]]) -> None:
    assert cli("-q").exit_code == 0
    assert calls[-1]["plugin"] is True and calls[-1]["seed"] == "example"


def test_no_plugin_with_the_example_seed_is_refused(calls: list[dict[str, Any]]) -> None:
    res = cli("--no-plugin", "--seed", "example", "-q")
    assert res.exit_code == 2 and res.stdout == "" and res.stderr.count("\n") == 1
    assert "seeded 'none'" in res.stderr
