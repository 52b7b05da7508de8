"""A private MariaDB for one sandbox: data dir under DIR/db, unix socket only, small buffers, no durability.

Why these flags (see recipe/README.md): `--no-defaults` must come first so /etc/mysql is never read; as root
`--user=root` is needed by both mariadb-install-db and mariadbd; `--skip-networking` keeps it off TCP; the buffer
sizes bring its RSS from ~95 to ~60 MiB; the data is throw-away, so no fsync per commit and no doublewrite.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from . import procs
from .errors import SandboxError

DB_NAME = "wordpress"
DB_USER = "wp"
DB_PASSWORD = "wp"  # only reachable through a unix socket under DIR (or a 0700 /tmp dir): not a secret
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes including the NUL

_OPTS = (
    "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--innodb-log-buffer-size=2M",
    "--aria-pagecache-buffer-size=8M", "--key-buffer-size=1M",
    "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
    "--innodb-flush-method=nosync", "--innodb-file-per-table=0",  # one data file: fast CREATE TABLE (each new site)
    "--innodb-autoextend-increment=8", "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",  # ~50 MB, not ~100
    "--skip-sync-frm",  # no fsync per table definition either (every new site creates ~10 tables)
    "--skip-log-bin", "--skip-name-resolve", "--max-connections=100",
    "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
)


def socket_path(root: Path) -> Path:
    """DIR/run/mysql.sock, or a fresh 0700 dir under /tmp when DIR is too deep for a unix socket path."""
    sock = root / "run" / "mysql.sock"
    if len(str(sock)) <= SOCKET_PATH_MAX:
        return sock
    sockdir = Path(tempfile.mkdtemp(prefix="wpbsock."))
    (root / "run" / "sockdir").write_text(f"{sockdir}\n")
    return sockdir / "mysql.sock"


def remove_socket_dir(root: Path) -> None:
    """Remove the /tmp socket dir made by socket_path(), if any (only a dir that looks like ours)."""
    marker = root / "run" / "sockdir"
    if not marker.exists():
        return
    sockdir = Path(marker.read_text().strip())
    if sockdir.parent == Path(tempfile.gettempdir()) and sockdir.name.startswith("wpbsock."):
        shutil.rmtree(sockdir, ignore_errors=True)
    marker.unlink(missing_ok=True)


def start(root: Path, sock: Path) -> procs.ProcRecord:
    """Initialise DIR/db, start mariadbd, wait until it accepts connections, create the database and its user."""
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    logs = root / "logs"
    template = _template(root, as_root)
    if template is not None:
        res = subprocess.run(["cp", "-a", "--sparse=always", str(template), str(root / "db")],
                             capture_output=True, text=True, timeout=120, check=False)
        if res.returncode != 0:
            raise SandboxError(f"copying the database template {template} failed: {res.stderr.strip()}")
    else:
        _install_db(root / "db", root / "tmp", as_root, logs / "mariadb-install-db.log")
    sock.parent.chmod(0o700)  # root has no password over the socket: other local users must not reach it
    record = procs.spawn(
        "mariadbd",
        ["mariadbd", "--no-defaults", *as_root, f"--datadir={root / 'db'}", f"--socket={sock}",
         f"--pid-file={root / 'run' / 'mariadbd.self.pid'}", f"--log-error={logs / 'mariadb.err'}",
         "--skip-networking", *_OPTS, f"--tmpdir={root / 'tmp'}"],
        root / "run", logs / "mariadbd.out", marker=f"{root}/",
    )
    _wait_ready(record, sock, logs / "mariadb.err")
    sock.chmod(0o600)  # mariadbd creates it 0777
    sql(sock, f"""
        CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';
        GRANT ALL PRIVILEGES ON {DB_NAME}.* TO '{DB_USER}'@'localhost';
    """)
    return record


def _install_db(datadir: Path, tmpdir: Path, as_root: list[str], log_path: Path) -> None:
    with open(log_path, "wb") as log:
        res = subprocess.run(
            # --force: skip its check that the hostname or 'localhost' resolves, which fails on a bare machine
            # without /etc/hosts (a fresh chroot); every grant here uses 'localhost' over the socket anyway.
            ["mariadb-install-db", "--no-defaults", *as_root, f"--datadir={datadir}", "--force",
             "--auth-root-authentication-method=normal", "--skip-test-db", *_OPTS, f"--tmpdir={tmpdir}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=120, check=False,
        )
    if res.returncode != 0:
        raise SandboxError(f"mariadb-install-db failed (exit {res.returncode}), see {log_path}")


def cache_dir() -> Path:
    """The sandbox cache (MariaDB template, unpacked plugin builds): $WPBRIDGE_SANDBOX_CACHE, else
    $XDG_CACHE_HOME/wpbridge, else ~/.cache/wpbridge."""
    return Path(os.environ.get("WPBRIDGE_SANDBOX_CACHE")
                or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wpbridge")


def _template(root: Path, as_root: list[str]) -> Path | None:
    """A pristine data dir made by mariadb-install-db once per MariaDB binary and option set, copied per sandbox.

    Why: mariadb-install-db takes 0.6-2.5 s here, a copy of its 25 MB result 0.15 s. Kept in
    $WPBRIDGE_SANDBOX_CACHE, else $XDG_CACHE_HOME/wpbridge, else ~/.cache/wpbridge; built in a private dir and
    renamed into place, so concurrent sandboxes never see half a template. WPBRIDGE_SANDBOX_NO_CACHE=1, or a cache
    dir that cannot be written, means no template (mariadb-install-db into DIR/db every time).
    """
    if os.environ.get("WPBRIDGE_SANDBOX_NO_CACHE") == "1":
        return None
    binary = shutil.which("mariadbd")
    if binary is None:
        return None
    info = os.stat(binary)
    key = hashlib.sha256(
        json.dumps([binary, info.st_size, info.st_mtime_ns, os.geteuid(), _OPTS]).encode()
    ).hexdigest()[:16]
    base = cache_dir()
    template = base / f"mariadb-datadir-{key}"
    if (template / "mysql").is_dir():
        return template
    try:
        base.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
    except OSError:
        return None
    try:
        (build / "tmp").mkdir()
        _install_db(build / "db", build / "tmp", as_root, root / "logs" / "mariadb-install-db.log")
        try:
            os.rename(build / "db", template)
        except OSError:
            if not (template / "mysql").is_dir():  # not a concurrent build that won the rename
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return template


def sql(sock: Path, statements: str) -> str:
    """Run SQL as root through the socket; returns the client's output."""
    res = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "--batch", "--skip-column-names"],
        input=statements, capture_output=True, text=True, timeout=60, check=False,
    )
    if res.returncode != 0:
        lines = res.stderr.strip().splitlines()
        raise SandboxError(f"SQL failed: {lines[-1] if lines else f'exit {res.returncode}'}")
    return res.stdout


def _wait_ready(record: procs.ProcRecord, sock: Path, errlog: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(str(sock))
                    return
                except OSError:
                    pass
        if not procs.is_running(record):
            raise SandboxError(f"mariadbd exited during start-up, see {errlog}")
        time.sleep(0.05)
    raise SandboxError(f"mariadbd did not accept connections within {timeout:.0f}s, see {errlog}")
