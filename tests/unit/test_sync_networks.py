"""`wpbridge sync --all-networks [--parallel N]` and `--metrics FILE` through the command (issue 22).

The networks are the fake in-memory network under two names and a profile whose server is a closed port on
127.0.0.1 (the real client, failing to connect): one failing network never stops the others.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.workflow_support import FakeNetwork
from wpbridge.cli import main
from wpbridge.cli import sync as cli_sync
from wpbridge.network import Network
from wpbridge.workflows.sync.report import validate_report

SECRET = "down-secret-9f8e7d"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("\n".join([
        "[networks.alpha]", 'url = "http://127.0.0.1:1"', 'api_key = "k"', 'api_secret = "s"', "",
        "[networks.down]", 'url = "http://127.0.0.1:9"', 'api_key = "key-of-down"', f'api_secret = "{SECRET}"',
        "max_retries = 0", "retry_deadline = 1.0", "timeout = 2", "",
        "[networks.beta]", 'url = "http://127.0.0.1:1"', 'api_key = "k"', 'api_secret = "s"', "",
        "[sync.networks.beta]", 'inactive_policy = "suspend"', ""]))
    path.chmod(0o600)
    return path


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeNetwork]:
    """alpha and beta are fakes (two stale sites each); every other profile opens for real."""
    nets = {}
    for name in ("alpha", "beta"):
        net = FakeNetwork.with_sites(12)
        net.stale([3, 4])
        net.settings = net.settings.model_copy(update={"name": name})
        nets[name] = net
    real = cli_sync.open_network

    def opener(name: str | None, path: str | None) -> Any:
        return nets[name] if name in nets else real(name, path)

    monkeypatch.setattr(cli_sync, "open_network", opener)
    monkeypatch.setattr(FakeNetwork, "close", lambda self: None, raising=False)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    return nets


def gauges(path: Path) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels["network"]): s.value
            for family in text_string_to_metric_families(path.read_text()) for s in family.samples}


@pytest.mark.parametrize("parallel", ["1", "3"])
def test_every_network_runs_and_one_failing_never_stops_the_others(fakes: dict[str, FakeNetwork],
                                                                   tmp_path: Path, parallel: str) -> None:
    cfg = config(tmp_path)
    metrics = tmp_path / "wpbridge.prom"
    report = tmp_path / "sync-{network}.json"
    result = CliRunner().invoke(main, ["sync", "--all-networks", "--parallel", parallel, "--config", str(cfg),
                                       "--report", str(report), "--metrics", str(metrics)])
    assert result.exit_code == 1, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("[alpha] sync: 2 changes;") and " 2 quotas written" in out[0]
    assert out[1].startswith("[down] sync: ")
    assert out[2].startswith("[beta] sync: 2 changes;")
    assert out[3] == "sync: 3 networks, 1 not clean (exit 1)"
    assert "[down] " in result.stderr and SECRET not in result.output
    for name in ("alpha", "beta"):
        assert sorted(fakes[name].written_sites) == [3, 4]
        assert fakes[name].lock is None  # each took and released its own lock
        written = json.loads((tmp_path / f"sync-{name}.json").read_text())
        assert validate_report(written) == [] and written["network"] == name
    assert json.loads((tmp_path / "sync-beta.json").read_text())["inactive_policy"] == "suspend"
    got = gauges(metrics)
    assert got[("wpbridge_sync_quotas_written", "alpha")] == 2
    assert got[("wpbridge_sync_quotas_written", "beta")] == 2
    assert got[("wpbridge_sync_exit_code", "down")] == 1
    assert got[("wpbridge_sync_errors", "down")] >= 1
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "down")] == 0
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "alpha")] > 0


def test_all_networks_as_json(fakes: dict[str, FakeNetwork], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "--all-networks", "-o", "json", "--config", str(config(tmp_path))])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [n["network"] for n in data["networks"]] == ["alpha", "down", "beta"]
    assert [n["exit_code"] for n in data["networks"]] == [0, 1, 0]
    assert data["networks"][0]["summary"]["quota_writes"] == 2
    assert data["networks"][1]["fatal"] and data["exit_code"] == 1


def test_the_exit_code_is_the_worst(fakes: dict[str, FakeNetwork], tmp_path: Path) -> None:
    cfg = config(tmp_path)
    cfg.write_text(cfg.read_text() + "\n[networks.broken]\nurl = \"http://127.0.0.1:1\"\napi_key = \"k\"\n"
                   "api_secret = \"s\"\ntimout = 3\n")
    result = CliRunner().invoke(main, ["sync", "--all-networks", "--config", str(cfg)])
    assert result.exit_code == 2, result.output  # a configuration mistake (2) is worse than a failed run (1)
    assert "[broken] error: config " in result.stderr and "unknown key 'timout'" in result.stderr
    assert "[broken] sync: not run: config " in result.stdout
    assert sorted(fakes["beta"].written_sites) == [3, 4]  # after the broken one in the file: still run


def test_a_failed_run_keeps_the_last_success_in_the_metrics(fakes: dict[str, FakeNetwork], tmp_path: Path) -> None:
    cfg = config(tmp_path)
    metrics = tmp_path / "alpha.prom"
    ok = CliRunner().invoke(main, ["sync", "--network", "alpha", "--config", str(cfg), "--metrics", str(metrics)])
    assert ok.exit_code == 0, ok.output
    first = gauges(metrics)[("wpbridge_sync_last_success_timestamp_seconds", "alpha")]
    assert first > 0
    fakes["alpha"].stale([5])
    fakes["alpha"].fail_quota = {5}
    failed = CliRunner().invoke(main, ["sync", "--network", "alpha", "--config", str(cfg),
                                       "--metrics", str(metrics)])
    assert failed.exit_code == 1
    got = gauges(metrics)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "alpha")] == first
    assert got[("wpbridge_sync_errors", "alpha")] == 1
    assert got[("wpbridge_sync_last_run_timestamp_seconds", "alpha")] >= first


@pytest.mark.parametrize(("args", "message"), [
    (["--all-networks", "--report", "one-file.json"], "put {network} in the path"),
    (["--all-networks", "--network", "alpha"], "exclude each other"),
    (["--parallel", "2"], "only with --all-networks"),
    (["--report", "r-{network}.json"], "needs --network NAME"),
    (["--all-networks", "--report", "r-{network}.json", "--metrics", "r-alpha.json"], "also the --report file"),
])
def test_usage_mistakes(fakes: dict[str, FakeNetwork], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sync", *args, "--config", str(config(tmp_path))])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert fakes["alpha"].written_sites == [] and not list(tmp_path.glob("*.json"))


def test_the_environment_s_network_never_applies_to_every_network(fakes: dict[str, FakeNetwork],
                                                                   tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "--all-networks", "--config", str(config(tmp_path))],
                                env={"WPBRIDGE_API_SECRET": "one-secret-for-all"})
    assert result.exit_code == 2
    assert "WPBRIDGE_API_SECRET set in the environment would apply to every network" in result.stderr
    assert "one-secret-for-all" not in result.output
    assert fakes["alpha"].written_sites == []


def test_metrics_is_never_the_config(fakes: dict[str, FakeNetwork], tmp_path: Path) -> None:
    cfg = config(tmp_path)
    before = cfg.read_text()
    result = CliRunner().invoke(main, ["sync", "--network", "alpha", "--config", str(cfg), "--metrics", str(cfg)])
    assert result.exit_code == 2 and "--metrics" in result.stderr
    assert cfg.read_text() == before


def test_a_network_that_cannot_run_still_gets_its_metrics(tmp_path: Path) -> None:
    """One network, unreachable: exit 1, and the file says so (errors, exit code, never succeeded)."""
    metrics = tmp_path / "down.prom"
    result = CliRunner().invoke(main, ["sync", "--network", "down", "--config", str(config(tmp_path)),
                                       "--metrics", str(metrics)])
    assert result.exit_code == 1
    got = gauges(metrics)
    assert got[("wpbridge_sync_exit_code", "down")] == 1
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "down")] == 0


def test_opened_networks_are_closed(fakes: dict[str, FakeNetwork], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    real_close = Network.close

    def close(self: Network) -> None:
        closed.append(self.settings.name)
        real_close(self)

    monkeypatch.setattr(Network, "close", close)
    CliRunner().invoke(main, ["sync", "--all-networks", "--config", str(config(tmp_path))])
    assert closed == ["down"]


def slow_catalog(net: FakeNetwork, seconds: float) -> None:
    real = net.products.catalog

    def catalog() -> Any:
        time.sleep(seconds)
        return real()

    net.products.catalog = catalog  # type: ignore[method-assign]


def test_sigterm_in_turn_stops_the_run_at_once_and_starts_no_other(fakes: dict[str, FakeNetwork],
                                                                   tmp_path: Path) -> None:
    slow_catalog(fakes["alpha"], 6.0)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    start = time.monotonic()
    result = CliRunner().invoke(main, ["sync", "--all-networks", "--config", str(config(tmp_path)),
                                       "--metrics", str(tmp_path / "m.prom")])
    timer.join()
    assert time.monotonic() - start < 3.0  # the read ended at once
    assert result.exit_code == 143, result.output
    assert "[down] sync: not run: not started: stopped by SIGTERM" in result.stdout
    assert "[beta] sync: not run: not started: stopped by SIGTERM" in result.stdout
    assert fakes["alpha"].written_sites == [] and fakes["beta"].written_sites == []
    assert fakes["alpha"].lock is None
    got = gauges(tmp_path / "m.prom")
    assert got[("wpbridge_sync_exit_code", "beta")] == 143


def test_sigterm_in_parallel_stops_each_run_at_its_safe_point(fakes: dict[str, FakeNetwork],
                                                               tmp_path: Path) -> None:
    slow_catalog(fakes["alpha"], 1.0)
    slow_catalog(fakes["beta"], 1.0)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    result = CliRunner().invoke(main, ["sync", "--all-networks", "--parallel", "3",
                                       "--config", str(config(tmp_path))])
    timer.join()
    assert result.exit_code == 143, result.output
    assert result.stdout.startswith("[alpha] sync (interrupted): ")
    assert "\n[beta] sync (interrupted): " in result.stdout
    assert fakes["alpha"].written_sites == [] and fakes["beta"].written_sites == []  # stopped before writing
    assert fakes["alpha"].lock is None and fakes["beta"].lock is None


def test_one_network_report_path_with_its_name(fakes: dict[str, FakeNetwork], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "--network", "alpha", "--config", str(config(tmp_path)),
                                       "--report", str(tmp_path / "sync-{network}.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "sync-alpha.json").read_text())["network"] == "alpha"
