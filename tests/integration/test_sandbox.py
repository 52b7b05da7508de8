"""The sandbox itself: what `up` prints, credentials, the info file, refusals, and that `down` (or a failed start)
leaves no process behind while leaving every other process alone."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.names import BASE_HOST
from wpbridge.sandbox.runner import PINNED_KEYS

CLI = [sys.executable, "-c", "from wpbridge.cli import main; main()", "sandbox"]


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, check=False)


def processes_mentioning(text: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains `text`."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state not in "ZX":
            out.append(int(entry.name))
    return out


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def new_dir() -> Iterator[Path]:
    """A short, not-yet-existing directory (its processes are stopped if a test fails half-way)."""
    parent = Path(tempfile.mkdtemp(prefix="wpb-t-", dir="/tmp"))
    target = parent / "sb"
    try:
        yield target
    finally:
        if (target / "sandbox.json").exists():
            run_cli("down", "--dir", str(target))
        subprocess.run(["rm", "-rf", str(parent)], check=False)


# --------------------------------------------------------------------------- the session's sandbox


def test_info_has_the_pinned_keys(sandbox: SandboxInfo) -> None:
    public = sandbox.public()
    assert list(public)[: len(PINNED_KEYS)] == list(PINNED_KEYS)
    host = BASE_HOST if sandbox.info.get("subdomains") else "127.0.0.1"
    assert public["url"] == f"http://{host}:{sandbox.info['port']}"
    assert public["dir"] == str(sandbox.dir)
    assert public["user"] == "admin"
    assert len(sandbox.api_key) >= 24 and len(sandbox.api_secret) >= 24 and sandbox.api_key != sandbox.api_secret
    assert sandbox.app_password
    assert "api_secret" not in repr(sandbox) and sandbox.api_secret not in repr(sandbox)


def test_api_credentials_work_and_a_wrong_secret_is_401(sandbox: SandboxInfo) -> None:
    url = f"{sandbox.url}/wp-json/wu/v2/auth"
    assert http().get(url, auth=(sandbox.api_key, sandbox.api_secret), timeout=30).status_code == 200
    wrong = http().get(url, auth=(sandbox.api_key, sandbox.api_secret + "x"), timeout=30)
    assert wrong.status_code == 401
    assert sandbox.api_secret not in wrong.text
    assert http().get(url, timeout=30).status_code == 401


def test_application_password_works(sandbox: SandboxInfo) -> None:
    resp = http().get(f"{sandbox.url}/wp-json/wp/v2/users/me", auth=(sandbox.user, sandbox.app_password), timeout=30)
    assert resp.status_code == 200
    assert resp.json()["slug"] == sandbox.user


def test_plugin_stub_is_network_active_in_stub_mode(sandbox: SandboxInfo) -> None:
    plugins = http().get(f"{sandbox.url}/wp-json/wp/v2/plugins", auth=(sandbox.user, sandbox.app_password),
                         timeout=30).json()
    ours = [p for p in plugins if p["plugin"].startswith(sandbox.info["plugin"].removesuffix(".php"))]
    assert [p["status"] for p in ours] == ["network-active"]
    info = http().get(f"{sandbox.url}/wp-json/wpbridge/v1/info", auth=(sandbox.api_key, sandbox.api_secret),
                      timeout=30).json()
    assert info["mode"] == "stub" and info["multisite"] is True
    config = (sandbox.dir / "wordpress" / "wp-config.php").read_text()
    assert "define( 'WPBRIDGE_TEST_MODE', true );" in config


def test_every_site_is_served_by_its_own_blog(sandbox: SandboxInfo) -> None:
    """The port-in-domain trap: /site2/ must not silently be served by blog 1."""
    for site in sandbox.info["sites"]:
        resp = http().get(f"{site['url'].rstrip('/')}/wp-json/", timeout=30)
        assert resp.status_code == 200
        assert resp.json()["home"].rstrip("/") == site["url"].rstrip("/")


def test_sandbox_json_describes_the_running_sandbox_and_is_private(sandbox: SandboxInfo) -> None:
    path = sandbox.dir / "sandbox.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = SandboxInfo.load(sandbox.dir)
    assert loaded == sandbox
    assert loaded.info["state"] == "running"


def test_a_second_up_into_a_used_dir_is_refused(sandbox: SandboxInfo) -> None:
    before = (sandbox.dir / "sandbox.json").read_bytes()
    res = run_cli("up", "--dir", str(sandbox.dir), "--seed", "none")
    assert res.returncode == 2
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
    assert "already holds a sandbox" in res.stderr and str(sandbox.dir) in res.stderr
    assert (sandbox.dir / "sandbox.json").read_bytes() == before
    assert http().get(f"{sandbox.url}/wp-json/wu/v2/auth", auth=(sandbox.api_key, sandbox.api_secret),
                      timeout=30).status_code == 200


def test_a_busy_port_is_a_usage_error_and_creates_nothing(sandbox: SandboxInfo, new_dir: Path) -> None:
    res = run_cli("up", "--dir", str(new_dir), "--port", str(sandbox.info["port"]))
    assert res.returncode == 2
    assert "already in use" in res.stderr
    assert not new_dir.exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--port", "http"], "--port"),
    (["--seed", "demo"], "--seed"),
    (["--sites", "0"], "--sites"),
])
def test_bad_options_are_usage_errors(args: list[str], needle: str, new_dir: Path) -> None:
    res = run_cli("up", "--dir", str(new_dir), *args)
    assert res.returncode == 2
    assert needle in res.stderr
    assert not new_dir.exists()


def test_down_of_a_dir_without_a_sandbox_is_a_usage_error(new_dir: Path) -> None:
    new_dir.mkdir()
    res = run_cli("down", "--dir", str(new_dir))
    assert res.returncode == 2
    assert "not a sandbox dir" in res.stderr


# --------------------------------------------------------------------------- a sandbox of its own


def test_up_then_down_leaves_no_process_and_spares_others(new_dir: Path) -> None:
    res = run_cli("up", "--dir", str(new_dir), "--seed", "none", "--sites", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)
    assert set(PINNED_KEYS) <= set(printed)
    assert printed["dir"] == str(new_dir)
    assert res.stderr == ""  # --quiet
    port = int(printed["port"])
    assert http().get(f"{printed['url']}/wp-json/wu/v2/auth", auth=(printed["api_key"], printed["api_secret"]),
                      timeout=30).status_code == 200
    ours = processes_mentioning(f"{new_dir}/")
    assert len(ours) >= 6  # mariadbd, the php -S master and its 4 workers
    # A process that merely mentions the dir was not started by the sandbox: down must leave it alone.
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"{new_dir}/decoy"])
    try:
        down = run_cli("down", "--dir", str(new_dir))
        assert down.returncode == 0, down.stderr
        stopped = json.loads(down.stdout)["stopped"]
        assert sorted(pid for pids in stopped.values() for pid in pids) == sorted(ours)
        assert processes_mentioning(f"{new_dir}/") == [decoy.pid]
        assert decoy.poll() is None
        assert not port_open(port)
        assert json.loads((new_dir / "sandbox.json").read_text())["state"] == "stopped"
        again = run_cli("down", "--dir", str(new_dir))  # idempotent
        assert again.returncode == 0 and json.loads(again.stdout)["stopped"] == {}
    finally:
        decoy.kill()
        decoy.wait()


def test_a_failed_start_leaves_nothing_running(new_dir: Path, tmp_path: Path) -> None:
    """The failure comes late (plugin activation, after MariaDB and php -S are up): both must be stopped."""
    broken = tmp_path / "broken-plugin"
    broken.mkdir()
    (broken / "broken-plugin.php").write_text(
        "<?php\n/**\n * Plugin Name: broken on purpose\n */\n"
        "register_activation_hook( __FILE__, function () { throw new RuntimeException( 'refusing to activate' ); } );\n"
    )
    res = run_cli("up", "--dir", str(new_dir), "--seed", "none", "--quiet",
                  env={"WPBRIDGE_SANDBOX_PLUGIN": str(broken)})
    assert res.returncode == 1
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
    assert "refusing to activate" in res.stderr or "wp-network.php failed" in res.stderr
    assert processes_mentioning(f"{new_dir}/") == []
    assert list((new_dir / "run").glob("*.json")) == []
    info = json.loads((new_dir / "sandbox.json").read_text())
    assert info["state"] == "failed" and not port_open(int(info["port"]))


def test_missing_packages_without_root_name_them_and_the_command(monkeypatch: pytest.MonkeyPatch,
                                                                  new_dir: Path) -> None:
    from wpbridge.sandbox import SandboxError, packages, up

    monkeypatch.setattr(packages, "missing_packages", lambda: ["wordpress", "mariadb-server-core"])
    monkeypatch.setattr(packages.os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError) as caught:
        up(new_dir, seed="none")
    message = str(caught.value)
    assert "missing Debian packages: wordpress mariadb-server-core (not running as root)" in message
    assert "apt-get install -y --no-install-recommends wordpress php php8.2-fpm" in message
    assert not new_dir.exists()
