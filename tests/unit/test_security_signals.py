"""Issue 20, item 17: SIGTERM / SIGINT stop a run within a second at a safe point (a read in progress is given up:
nothing is half written), the report is written and marked interrupted with the exit code 143 / 130, and a report
left by an earlier (killed) run never passes for this one's."""

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

from tests.unit.workflow_support import FakeNetwork
from wpbridge.cli import importer as cli_importer
from wpbridge.cli import main
from wpbridge.cli import sync as cli_sync

SLOW = 6.0  # seconds a read takes: a run that waits for it instead of stopping fails the test


def kill_soon(sig: signal.Signals, after: float = 0.3) -> threading.Timer:
    timer = threading.Timer(after, os.kill, (os.getpid(), sig))
    timer.start()
    return timer


def fake(monkeypatch: pytest.MonkeyPatch, module: Any) -> FakeNetwork:
    net = FakeNetwork.with_sites(30)
    net.stale([4, 5])
    monkeypatch.setattr(module, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "close", lambda self: None, raising=False)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    return net


def slow_catalog(net: FakeNetwork) -> None:
    real = net.products.catalog

    def catalog() -> Any:
        time.sleep(SLOW)
        return real()

    net.products.catalog = catalog  # type: ignore[method-assign]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sync_stopped_before_the_first_write_stops_at_once_and_reports(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path, sig: signal.Signals,
                                                                       code: int) -> None:
    net = fake(monkeypatch, cli_sync)
    slow_catalog(net)
    path = tmp_path / "report.json"
    timer = kill_soon(sig)
    start = time.monotonic()
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--config", str(tmp_path / "none.toml")])
    timer.join()
    assert time.monotonic() - start < 2.0
    assert result.exit_code == code, result.output
    report = json.loads(path.read_text())
    assert report["interrupted"] == sig.name
    assert report["summary"]["exit_code"] == code
    assert net.written_sites == [] and net.lock is None


def test_an_interrupted_sync_report_never_says_exit_code_0(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    net = fake(monkeypatch, cli_sync)
    path = tmp_path / "report.json"
    monkeypatch.setenv("WPBRIDGE_SYNC_STEP_DELAY", "0.2")
    real = net.quotas.put_many

    def put_many(*a: Any, **k: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)  # during the first write: it completes, the run stops after it
        return real(*a, **k)

    net.quotas.put_many = put_many  # type: ignore[method-assign]
    result = CliRunner().invoke(main, ["sync", "--report", str(path), "--batch-size", "1",
                                       "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 143, result.output
    report = json.loads(path.read_text())
    assert report["interrupted"] == "SIGTERM" and report["summary"]["exit_code"] == 143
    assert report["summary"]["writes"] == 1


def test_import_removes_a_stale_report_before_it_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake(monkeypatch, cli_importer)
    path = tmp_path / "report.json"
    path.write_text('{"exit_code": 0, "summary": "from a killed run"}\n')
    bad = tmp_path / "missing.csv"  # the run fails before it could write a report of its own
    result = CliRunner().invoke(main, ["import", str(bad), "--dry-run", "--report", str(path),
                                       "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2, result.output
    assert not path.exists()
