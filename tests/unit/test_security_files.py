"""Issue 20, item 15: the files wpbridge writes (`import --report`, `sync --report`, `export --out`) never follow a
symlink planted next to them, are created 0600, and an output that is an input of the run is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, FakeNetwork
from wpbridge.cli import main
from wpbridge.workflows.importer import write_report
from wpbridge.workflows.snapshot import export_snapshot
from wpbridge.workflows.sync.report import ReportHeader, ReportSpool, Summary

CONFIG = """default = "t"
[networks.t]
url = "http://127.0.0.1:9"
api_key = "k"
api_secret = "secret-for-tests"
"""


def cli(*args: str) -> Result:
    env: dict[str, str | None] = {"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None, "WPBRIDGE_API_KEY": None,
                                  "WPBRIDGE_API_SECRET": None}
    return CliRunner().invoke(main, list(args), env=env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def planted(tmp_path: Path, target: Path) -> list[Path]:
    """A victim file and symlinks to it at every name a writer could use for its temporary file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    links = [target.with_name(target.name + ".partial"), target.with_name(target.name + ".tmp"),
             target.with_name(f".{target.name}.partial")]
    for link in links:
        link.symlink_to(victim)
    return [victim, *links]


def sync_write(path: Path) -> None:
    header = ReportHeader(network="t", dry_run=False, now="2026-01-01T00:00:00Z", started_at="2026-01-01T00:00:00Z",
                          inactive_policy="keep")
    spool = ReportSpool()
    try:
        spool.write(path, header, Summary(), "2026-01-01T00:00:01Z")
    finally:
        spool.close()


WRITERS = {
    "import report": lambda p: write_report(p, {"a": 1}),
    "export": lambda p: export_snapshot(FakeNetwork(), p, now=NOW),
    "sync report": sync_write,
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_planted_symlink_is_never_followed(tmp_path: Path, name: str) -> None:
    target = tmp_path / "out.json"
    victim, *links = planted(tmp_path, target)
    WRITERS[name](target)
    assert victim.read_text() == "precious\n"
    assert all(link.is_symlink() for link in links)
    assert target.is_file() and not target.is_symlink()


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_symlink_at_the_target_is_replaced_not_written_through(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "out.json"
    target.symlink_to(victim)
    WRITERS[name](target)
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink()


@pytest.mark.parametrize("name", list(WRITERS))
def test_files_are_created_0600(tmp_path: Path, name: str) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "out.json"
        WRITERS[name](target)
    finally:
        os.umask(old)
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary file left


def test_import_report_cannot_overwrite_the_input_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    csv = tmp_path / "in.csv"
    csv.write_text("email,username\nx@example.com,x\n")
    for report in (csv, tmp_path / "." / "in.csv", config):
        res = cli("import", str(csv), "--dry-run", "--report", str(report), "--config", str(config))
        assert res.exit_code == 2, res.output
        assert "is an input of this run" in res.stderr, res.stderr
    assert csv.read_text() == "email,username\nx@example.com,x\n"
    assert config.read_text() == CONFIG


def test_import_report_through_a_symlink_to_the_input_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    csv = tmp_path / "in.csv"
    csv.write_text("email,username\n")
    alias = tmp_path / "alias.json"
    alias.symlink_to(csv)
    res = cli("import", str(csv), "--dry-run", "--report", str(alias), "--config", str(config))
    assert res.exit_code == 2 and "is an input of this run" in res.stderr, res.output


def test_sync_report_cannot_remove_or_overwrite_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    res = cli("sync", "--dry-run", "--report", str(config), "--config", str(config))
    assert res.exit_code == 2 and "is an input of this run" in res.stderr, res.output
    assert config.read_text() == CONFIG


def test_export_out_cannot_overwrite_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    res = cli("export", "--out", str(config), "--config", str(config))
    assert res.exit_code == 2 and "is an input of this run" in res.stderr, res.output
    assert config.read_text() == CONFIG
