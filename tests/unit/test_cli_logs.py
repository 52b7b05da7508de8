"""`--log-format json|text` (issue 22): one JSON object per event on stderr, no secret in any; text unchanged."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.unit.workflow_support import FakeNetwork
from wpbridge.cli import main
from wpbridge.cli import sync as cli_sync
from wpbridge.cli.logs import EventLog, event_json
from wpbridge.errors import SECRETS

SECRET = "hunter2-s3cret-value"


def lines(text: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_an_event_is_one_json_object_with_time_in_utc_z() -> None:
    line = event_json("warning", "sync.item_failed", "sync error (quota_write): site 5: boom", "production",
                      {"blog_id": 5, "when": datetime(2026, 5, 1, 14, 0, tzinfo=UTC)},
                      now=datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC))
    assert "\n" not in line
    assert json.loads(event_json("info", "e", "m", None, {}, now=datetime(2026, 5, 1, tzinfo=UTC)))["time"] == (
        "2026-05-01T00:00:00.000Z")  # always milliseconds: one width, sortable as text
    assert json.loads(line) == {"time": "2026-05-01T12:00:00.123Z", "level": "warning",
                                "event": "sync.item_failed", "network": "production",
                                "message": "sync error (quota_write): site 5: boom",
                                "fields": {"blog_id": 5, "when": "2026-05-01T14:00:00Z"}}


def test_no_secret_in_any_event(capsys: pytest.CaptureFixture[str]) -> None:
    SECRETS.add(SECRET)
    events = EventLog("json")
    events.event("error", "sync.error", f"error: refused with {SECRET}", network="n", detail={"k": [SECRET]},
                 other=f'quoted "{SECRET}"')
    err = capsys.readouterr().err
    assert SECRET not in err
    (event,) = lines(err)
    assert event["event"] == "sync.error" and "***" in event["message"]


def test_text_stays_the_default_and_prints_the_same_lines(capsys: pytest.CaptureFixture[str]) -> None:
    events = EventLog()
    events.event("error", "sync.item_failed", "sync error (quota_write): site 5: boom", blog_id=5)
    events.event("info", "sync.started", "sync of n started", text=False)
    assert capsys.readouterr().err == "sync error (quota_write): site 5: boom\n"
    several = EventLog("text", prefix_networks=True)
    with several.network("staging"):
        several.event("error", "sync.error", "error: boom")
    assert capsys.readouterr().err == "[staging] error: boom\n"


def test_wpbridge_log_records_become_events(capsys: pytest.CaptureFixture[str]) -> None:
    events = EventLog("json")
    logger = logging.getLogger("wpbridge")
    before = (list(logger.handlers), logger.propagate)
    with events.capture_logging(), events.network("production"):
        logging.getLogger("wpbridge.rest").warning("GET %s: page %d is empty", "/wu/v2/site", 3)
        logging.getLogger("wpbridge.rest").debug("not shown: below WARNING, as in text mode")
    (event,) = lines(capsys.readouterr().err)
    assert event["event"] == "log" and event["level"] == "warning" and event["network"] == "production"
    assert event["message"] == "GET /wu/v2/site: page 3 is empty"
    assert event["fields"] == {"logger": "wpbridge.rest"}
    assert (list(logger.handlers), logger.propagate) == before  # logging as it was after the block


# --------------------------------------------------------------------------- the command


def fake(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    net = FakeNetwork.with_sites(10)
    net.stale([4, 5])
    net.fail_quota = {5}
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: net)
    monkeypatch.setattr(FakeNetwork, "close", lambda self: None, raising=False)
    monkeypatch.setattr(FakeNetwork, "__enter__", lambda self: self, raising=False)
    monkeypatch.setattr(FakeNetwork, "__exit__", lambda self, *a: None, raising=False)
    return net


def test_sync_log_format_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake(monkeypatch)
    result = CliRunner().invoke(main, ["sync", "--log-format", "json", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1, result.output
    events = lines(result.stderr)
    assert [e["event"] for e in events] == ["sync.started", "sync.item_failed", "sync.finished"]
    assert all(e["network"] == "fake" and e["time"].endswith("Z") for e in events)
    failed = events[1]
    assert failed["level"] == "error" and failed["fields"]["blog_id"] == 5
    assert failed["fields"]["stage"] == "quota_write"
    finished = events[2]
    assert finished["fields"]["exit_code"] == 1 and finished["fields"]["summary"]["quota_writes"] == 1
    assert result.stdout.startswith("sync: 2 changes;")  # stdout is --output's, unchanged


def test_sync_log_format_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake(monkeypatch)
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "none.toml")],
                                env={"WPBRIDGE_LOG_FORMAT": "json"})
    assert {e["event"] for e in lines(result.stderr)} >= {"sync.started", "sync.finished"}


def test_sync_text_logs_are_unchanged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake(monkeypatch)
    result = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert result.stderr.startswith("sync error (quota_write): site 5: ")
    assert result.stderr.count("\n") == 1


def closed_port_config(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("\n".join([
        "[networks.down]", 'url = "http://127.0.0.1:9"', 'api_key = "key-of-down"',
        f'api_secret = "{SECRET}"', "max_retries = 0", "retry_deadline = 1.0", "timeout = 2", *extra, ""]))
    path.chmod(0o600)
    return path


def test_a_network_that_cannot_be_reached_in_json(tmp_path: Path) -> None:
    config = closed_port_config(tmp_path)
    result = CliRunner().invoke(main, ["sync", "--log-format", "json", "--config", str(config)])
    assert result.exit_code == 1, result.output
    events = lines(result.stderr)
    assert events and all(e["network"] == "down" for e in events)
    assert events[-1]["level"] == "error"
    assert SECRET not in result.output and "key-of-down" not in result.output


def test_a_config_mistake_in_json_is_one_event_exit_2(tmp_path: Path) -> None:
    config = closed_port_config(tmp_path, "timout = 3")
    result = CliRunner().invoke(main, ["sync", "--log-format", "json", "--config", str(config)])
    assert result.exit_code == 2
    (event,) = lines(result.stderr)
    assert event["event"] == "sync.error" and "unknown key 'timout'" in event["message"]
    assert event["fields"]["exit_code"] == 2
    assert SECRET not in result.output


def test_a_usage_mistake_in_json_is_one_event_exit_2(tmp_path: Path) -> None:
    config = closed_port_config(tmp_path)
    result = CliRunner().invoke(main, ["sync", "--log-format", "json", "--parallel", "2", "--config", str(config)])
    assert result.exit_code == 2
    (event,) = lines(result.stderr)
    assert "--parallel" in event["message"]


def test_the_lock_refresher_logs_as_the_run_of_its_network(capsys: pytest.CaptureFixture[str]) -> None:
    """The lock is renewed from a thread of its own: its warnings still carry the network of the run."""
    from wpbridge.errors import WPBridgeError
    from wpbridge.workflows.sync.lock import LockKeeper

    class Blips:
        calls = 0

        def acquire(self, name: str, owner: str, ttl: int) -> None:
            self.calls += 1
            if self.calls > 1:
                raise WPBridgeError("server said 503")

        def release(self, name: str, owner: str) -> None:
            pass

    events = EventLog("json")
    locks = Blips()
    with events.capture_logging(), events.network("alpha"), LockKeeper(locks, 30, refresh_every=0.01):  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while locks.calls < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    refresh = [e for e in lines(capsys.readouterr().err) if "could not refresh" in e["message"]]
    assert refresh and all(e["network"] == "alpha" for e in refresh)
