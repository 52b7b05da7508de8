"""Ctrl-C and SIGTERM one way everywhere (issue 21 item 7): `change apply` says which writes landed, a read stops at
once with one line and 128 + the signal, an interrupt after the last write cuts nothing short (exit 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.cli import main

AT = ["--at", NOW.isoformat()]


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    fake = FakeNetwork(example_data(posts={13: 12}))
    monkeypatch.setattr("wpbridge.cli.change.open_network", lambda *_a: fake)
    monkeypatch.setattr("wpbridge.cli.read.open_source", lambda *_a: fake)
    return fake


def signal_during(obj: Any, name: str, sig: signal.Signals, *, twice: bool = False) -> None:
    """`obj.name` sends `sig` to this process while it runs (as a person pressing Ctrl-C mid-write)."""
    real = getattr(obj, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), sig)
        if twice:
            os.kill(os.getpid(), sig)
        return real(*args, **kwargs)

    setattr(obj, name, wrapped)


def test_apply_stopped_between_writes_says_which_landed(net: FakeNetwork) -> None:
    signal_during(net.payments, "create_for_change", signal.SIGTERM)  # the first of 3 writes
    res = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert res.exit_code == 143
    assert net.writes == [] and len(list(net.payments.list())) == 1  # the payment landed, nothing after it
    lines = res.stderr.splitlines()
    start = lines.index("change apply: interrupted (SIGTERM) after 1 of 3 writes; written:")
    assert lines[start + 1] == "  POST /wpbridge/v1/memberships/2/payments"
    assert lines[start + 2] == "not sent:" and lines[start + 3] == "  PUT /wu/v2/membership/2"
    assert lines[-1] == "run the same command again to finish: it writes only what is missing"
    assert "Traceback" not in res.output
    again = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert again.exit_code == 0 and net.writes == [("membership", 2), ("site_quota", 12)]
    assert len(list(net.payments.list())) == 1  # the change's payment made once


def test_apply_stopped_before_any_write(net: FakeNetwork) -> None:
    signal_during(net.products, "catalog", signal.SIGINT)
    res = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert res.exit_code == 130 and net.writes == [] and not list(net.payments.list())
    assert res.stderr.strip().splitlines()[-1] == "change apply: interrupted (SIGINT) before any write: nothing written"


def test_a_signal_after_the_last_write_cuts_nothing_short_so_exit_0(net: FakeNetwork) -> None:
    signal_during(net.quotas, "put_many", signal.SIGINT)  # the last write: the sites' quotas, in one batch
    res = cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert res.exit_code == 0 and net.writes == [("membership", 2), ("site_quota", 12)]
    assert "Applied: upgrade" in res.stdout
    assert "change apply: SIGINT came after the last write: nothing was cut short" in res.stderr


def test_any_command_interrupted_is_one_line_and_128_plus_the_signal(net: FakeNetwork) -> None:
    signal_during(net.products, "catalog", signal.SIGTERM)
    res = cli("products", "list")
    assert res.exit_code == 143 and res.stdout == ""
    assert res.stderr == "wpbridge: interrupted (SIGTERM); stopped at once\n"


def test_the_handlers_are_given_back_after_a_command(net: FakeNetwork) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    cli("products", "list")
    cli("change", "apply", "2", "--plan", "premium", "--yes", *AT)
    assert {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} == before


def test_no_traceback_when_interrupted_while_starting(tmp_path: Path) -> None:
    """Ctrl-C in the first second (Python still importing wpbridge.cli): one line, exit 130, no traceback."""
    script = tmp_path / "wpbridge"  # the program's name: as the console script runs it
    script.write_text("import time\nfrom wpbridge.cli import main\ntime.sleep(5)\n")
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err == "wpbridge: interrupted (SIGINT) while starting; nothing done\n"


def test_sync_interrupted_is_the_same_in_json_and_in_the_report(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """Issue 21 items 6 and 7: `interrupted` is the signal's name (or null) in -o json as in the report file, and
    both say the process's exit code (143), never 0."""
    from wpbridge.cli import sync as cli_sync

    fake = FakeNetwork.with_sites(30)
    fake.stale([4, 5])
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: fake)
    for name in ("close", "__enter__", "__exit__"):
        monkeypatch.setattr(FakeNetwork, name, (lambda self, *a: self) if name == "__enter__" else
                            (lambda self, *a: None), raising=False)
    signal_during(fake.quotas, "put_many", signal.SIGTERM)
    path = tmp_path / "report.json"
    res = cli("sync", "--report", str(path), "--batch-size", "1", "-o", "json", "--config", str(tmp_path / "no.toml"))
    assert res.exit_code == 143, res.output
    shown = json.loads(res.stdout)
    report = json.loads(path.read_text())
    assert shown["interrupted"] == report["interrupted"] == "SIGTERM"
    assert shown["summary"]["exit_code"] == report["summary"]["exit_code"] == 143
    quiet = cli("sync", "--dry-run", "-o", "json", "--config", str(tmp_path / "no.toml"))
    assert json.loads(quiet.stdout)["interrupted"] is None


def test_sync_json_log_events_say_interrupted_as_the_report_does(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """`--log-format json`: the events' `interrupted` (sync.fatal, sync.finished) is the signal's name or null, as
    in -o json and the report file, never true/false."""
    from wpbridge.cli import sync as cli_sync

    fake = FakeNetwork.with_sites(30)
    fake.stale([4, 5])
    monkeypatch.setattr(cli_sync, "open_network", lambda name, path: fake)
    for name in ("close", "__enter__", "__exit__"):
        monkeypatch.setattr(FakeNetwork, name, (lambda self, *a: self) if name == "__enter__" else
                            (lambda self, *a: None), raising=False)
    signal_during(fake.quotas, "put_many", signal.SIGTERM)
    path = tmp_path / "report.json"
    res = cli("sync", "--report", str(path), "--batch-size", "1", "-o", "json", "--log-format", "json",
              "--config", str(tmp_path / "no.toml"))
    assert res.exit_code == 143, res.output
    events = {e["event"]: e["fields"] for e in map(json.loads, res.stderr.splitlines()) if "fields" in e}
    said = json.loads(path.read_text())["interrupted"]
    assert said == json.loads(res.stdout)["interrupted"] == "SIGTERM"
    assert events["sync.fatal"]["interrupted"] == events["sync.finished"]["interrupted"] == said
    quiet = cli("sync", "--dry-run", "--log-format", "json", "--config", str(tmp_path / "no.toml"))
    finished = [e for e in map(json.loads, quiet.stderr.splitlines()) if e["event"] == "sync.finished"]
    assert finished[0]["fields"]["interrupted"] is None


def test_import_interrupted_at_its_question_stops_at_once_and_reports(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """Ctrl-C at `Write N records?` is an interruption (130, the report marked), not a wait for the answer."""
    import click

    cli_importer = _planned_import(monkeypatch)

    def execute(*a: Any, **k: Any) -> Any:
        raise AssertionError("nothing may be written")

    def confirm(*a: Any, **k: Any) -> bool:
        os.kill(os.getpid(), signal.SIGINT)  # a person presses Ctrl-C at the question
        time.sleep(5)
        return True

    monkeypatch.setattr(cli_importer, "execute", execute)
    monkeypatch.setattr(cli_importer, "interactive", lambda: True)
    monkeypatch.setattr(click, "confirm", confirm)
    source, report = tmp_path / "in.csv", tmp_path / "report.json"
    source.write_text("email\n")
    started = time.monotonic()
    res = cli("import", str(source), "--report", str(report))
    assert time.monotonic() - started < 3
    assert res.exit_code == 130, res.output
    assert "import: interrupted (SIGINT) before any write; nothing was written" in res.stderr
    data = json.loads(report.read_text())
    assert data["interrupted"] == "SIGINT" and data["summary"]["exit_code"] == 130


@pytest.mark.parametrize(("cut_short", "code", "interrupted"), [(False, 0, None), (True, 143, "SIGTERM")])
def test_import_interrupted_after_its_last_write_exits_0_only_when_nothing_was_cut_short(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cut_short: bool, code: int, interrupted: str | None) -> None:
    from types import SimpleNamespace

    cli_importer = _planned_import(monkeypatch)

    class Result:
        exit_code = 0
        applied = SimpleNamespace(interrupted=cut_short, writes=[])

        def report(self, **_k: Any) -> dict[str, Any]:
            return {"summary": {"writes": 3, "exit_code": 0}, "writes": []}

    def execute(*a: Any, should_stop: Any = None, **k: Any) -> Result:
        os.kill(os.getpid(), signal.SIGTERM)  # while the last batch is in flight: the run has no write left
        time.sleep(0.05)
        return Result()

    monkeypatch.setattr(cli_importer, "execute", execute)
    source, report = tmp_path / "in.csv", tmp_path / "report.json"
    source.write_text("email\n")
    res = cli("import", str(source), "--yes", "--report", str(report), "-o", "json")
    assert res.exit_code == code, res.output
    data = json.loads(report.read_text())
    assert data["interrupted"] == json.loads(res.stdout)["interrupted"] == interrupted
    assert data["summary"]["exit_code"] == code
    assert ("import: SIGTERM came after the last write: nothing was cut short" in res.stderr) is not cut_short


def _planned_import(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`wpbridge import`'s module with a network and a plan of 3 writes put in (no server, nothing read): the
    caller puts in its own `execute`."""
    from types import SimpleNamespace

    from wpbridge.cli import importer as cli_importer

    plan = SimpleNamespace(writes_planned=3, target=SimpleNamespace(flavor=SimpleNamespace(name="stub")))
    prepared = SimpleNamespace(plan=plan, refused=False, issues=[], source=SimpleNamespace(warnings=[]))

    class Net:
        settings = SimpleNamespace(url="http://127.0.0.1:1")

        def __enter__(self) -> Net:
            return self

        def __exit__(self, *a: object) -> None:
            return None

    monkeypatch.setattr(cli_importer, "open_network", lambda *_a: Net())
    monkeypatch.setattr(cli_importer, "prepare", lambda *_a: prepared)
    monkeypatch.setattr(cli_importer, "_show_plan", lambda *_a: None)
    return cli_importer
