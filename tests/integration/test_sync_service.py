"""`wpbridge sync` as a service runs it (issue 22), against the real sandbox, as a subprocess as cron and systemd run
it: `--all-networks [--parallel N]` with one profile on the sandbox and one on a closed port of 127.0.0.1,
`--metrics FILE`, `--log-format json`.

The runs are full-network runs that only bring quotas to what the memberships say (the state the seed leaves), as
test_sync.py's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from wpbridge.workflows.sync.report import validate_report

WPBRIDGE = str(Path(sys.executable).with_name("wpbridge"))
DOWN_SECRET = "secret-of-the-down-network-4c1d"


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config(sandbox: Any, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("\n".join([
        "[networks.sandbox]", f'url = "{sandbox.url}"', f'api_key = "{sandbox.api_key}"',
        f'api_secret = "{sandbox.api_secret}"', "",
        "[networks.down]", f'url = "http://127.0.0.1:{closed_port()}"', 'api_key = "key-of-down"',
        f'api_secret = "{DOWN_SECRET}"', "max_retries = 0", "retry_deadline = 2.0", ""]))
    path.chmod(0o600)
    return path


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env["HOME"] = str(tmp_path)
    return subprocess.run([WPBRIDGE, "sync", *args], capture_output=True, text=True, timeout=300, env=env,
                          check=False)


def gauges(path: Path) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels["network"]): s.value
            for family in text_string_to_metric_families(path.read_text()) for s in family.samples}


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_all_networks_one_down_never_stops_the_other(sandbox: Any, config: Path, tmp_path: Path,
                                                      parallel: str) -> None:
    metrics = tmp_path / "wpbridge.prom"
    done = run(["--all-networks", "--parallel", parallel, "--config", str(config), "--log-format", "json",
                "--report", str(tmp_path / "sync-{network}.json"), "--metrics", str(metrics)], tmp_path)
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith("[sandbox] sync: ") and out[0].endswith(" s)") and " 0 errors " in out[0]
    assert out[1].startswith("[down] sync: not run: ") and "127.0.0.1:" in out[1]
    assert out[2] == "sync: 2 networks, 1 not clean (exit 1)"
    report = json.loads((tmp_path / "sync-sandbox.json").read_text())
    assert validate_report(report) == [] and report["network"] == "sandbox" and report["summary"]["exit_code"] == 0
    assert report["summary"]["sites_checked"] > 0
    assert not (tmp_path / "sync-down.json").exists()
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert {(e["network"], e["event"]) for e in events} >= {("sandbox", "sync.started"), ("sandbox", "sync.finished"),
                                                            ("down", "sync.error")}
    finished = next(e for e in events if e["event"] == "sync.finished")
    assert finished["fields"]["summary"]["sites_checked"] == report["summary"]["sites_checked"]
    assert all(e["time"].endswith("Z") for e in events)
    for secret in (sandbox.api_secret, DOWN_SECRET):
        assert secret not in done.stdout + done.stderr + metrics.read_text()
    got = gauges(metrics)
    assert got[("wpbridge_sync_sites_checked", "sandbox")] == report["summary"]["sites_checked"]
    assert got[("wpbridge_sync_errors", "sandbox")] == 0
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "sandbox")] > 0
    assert got[("wpbridge_sync_exit_code", "down")] == 1
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "down")] == 0


def test_a_network_that_goes_down_keeps_its_last_success(sandbox: Any, config: Path, tmp_path: Path) -> None:
    """The same profile name, first on the sandbox, then on a closed port: the metrics keep the success."""
    metrics = tmp_path / "sandbox.prom"
    first = run(["--network", "sandbox", "--config", str(config), "--metrics", str(metrics)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("sync: 0 changes; ") or first.stdout.startswith("sync: ")
    success = gauges(metrics)[("wpbridge_sync_last_success_timestamp_seconds", "sandbox")]
    assert success > 0
    config.write_text(config.read_text().replace('[networks.sandbox]\nurl = "', '[networks.sandbox]\nurl = "'
                                                 f'http://127.0.0.1:{closed_port()}" # was "'))
    down = run(["--network", "sandbox", "--config", str(config), "--metrics", str(metrics), "-o", "json"],
               tmp_path)
    assert down.returncode == 1, down.stderr
    assert down.stderr.startswith("error: ") and "127.0.0.1:" in down.stderr and down.stderr.count("\n") == 1
    got = gauges(metrics)
    assert got[("wpbridge_sync_last_success_timestamp_seconds", "sandbox")] == success
    assert got[("wpbridge_sync_exit_code", "sandbox")] == 1
    assert got[("wpbridge_sync_last_run_timestamp_seconds", "sandbox")] > success
