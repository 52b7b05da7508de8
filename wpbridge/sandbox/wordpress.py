"""The WordPress side of a sandbox: files, config, the two PHP install phases and the `php -S` web server.

Why a copy of /usr/share/wordpress and our own wp-config.php: Debian's wp-config.php loads
/etc/wordpress/config-<host>.php, and core files reached through a symlinked docroot resolve `__DIR__` back to
/usr/share/wordpress (so wp-admin would load Debian's config). The package also holds relative symlinks (getid3,
underscore, crop) that would dangle in a plain copy, so symlinks are followed. Everything else is in
recipe/README.md (the traps met and the fix used for each).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from . import procs
from .errors import SandboxError
from .mariadb import DB_NAME, DB_PASSWORD, DB_USER
from .shipped import recipe_file
from .um import install_test_gateway

WORDPRESS_SOURCE = Path("/usr/share/wordpress")
WORKERS = 4  # PHP_CLI_SERVER_WORKERS: without workers a request that calls the site back stalls for 10 s
PHP_CLI = ("php", "-d", "display_errors=stderr", "-d", "log_errors=0",
           "-d", "error_reporting=E_ALL & ~E_DEPRECATED & ~E_STRICT")


def plugin_source() -> Path:
    """plugin-stub: $WPBRIDGE_SANDBOX_PLUGIN, else the copy shipped in the package, else the checkout's."""
    override = os.environ.get("WPBRIDGE_SANDBOX_PLUGIN")
    if override:
        return Path(override)
    shipped = Path(str(resources.files("wpbridge.sandbox") / "plugin-stub"))
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "plugin-stub"


def plugin_main_file(source: Path) -> str:
    """The plugin's main file name: the top-level PHP file with a 'Plugin Name:' header."""
    if not source.is_dir():
        raise SandboxError(f"plugin-stub not found at {source}")
    for php in sorted(source.glob("*.php")):
        with open(php, encoding="utf-8", errors="replace") as fh:
            if "Plugin Name:" in fh.read(8192):
                return php.name
    raise SandboxError(f"plugin-stub at {source} has no top-level PHP file with a 'Plugin Name:' header")


def random_token(length: int) -> str:
    """Letters and digits only (like UM's wp_generate_password(24, false)): safe in Basic auth and configs."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_web_server(root: Path, port: int) -> procs.ProcRecord | None:
    """Start `php -S 127.0.0.1:PORT` with workers; None when the port was taken meanwhile (the caller retries).

    It starts before WordPress is installed (nothing is served until then) so that the port is held from the
    first second: the port is baked into the database, and an `auto` port must not be lost to a race.
    """
    shutil.copyfile(recipe_file("router.php"), root / "conf" / "router.php")
    log = root / "logs" / "php-server.log"
    record = procs.spawn(
        "web",
        ["php", "-d", "opcache.enable=1", "-d", "display_errors=0", "-d", "log_errors=1",
         "-d", f"error_log={root / 'logs' / 'php-error.log'}", "-d", "memory_limit=256M",
         "-S", f"127.0.0.1:{port}", "-t", str(root / "wordpress"), str(root / "conf" / "router.php")],
        root / "run", log, marker=f"{root}/",
        env={**os.environ, "PHP_CLI_SERVER_WORKERS": str(WORKERS)},
    )
    return _listening(record, root / "run" / "web.json", log, port, "php -S")


def start_front(root: Path, port: int, backend: int) -> procs.ProcRecord | None:
    """Start the front (`front.py`: request deadlines, 408) on 127.0.0.1:PORT before `php -S` on BACKEND; None when
    the port was taken meanwhile (the caller retries)."""
    log = root / "logs" / "front.log"
    record = procs.spawn("front", [sys.executable, "-m", "wpbridge.sandbox.front", "--listen", str(port),
                                   "--backend", str(backend), "--dir", f"{root}/"],
                         root / "run", log, marker=f"{root}/")
    return _listening(record, root / "run" / "front.json", log, port, "the sandbox's front")


def _listening(record: procs.ProcRecord, run_file: Path, log: Path, port: int,
               what: str) -> procs.ProcRecord | None:
    """`record` once it listens on 127.0.0.1:PORT (10 s at most); None when it exited because the port was taken
    meanwhile (its run file removed: the caller retries on another port)."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if not procs.is_running(record):
            procs.stop(record)
            run_file.unlink(missing_ok=True)
            if "Address already in use" in log.read_text(errors="replace"):
                return None
            raise SandboxError(f"{what} exited at start, see {log}")
        if port_in_use(port):
            return record
        time.sleep(0.02)
    raise SandboxError(f"{what} did not listen on 127.0.0.1:{port} within 10s, see {log}")


def copy_files(root: Path, plugin_src: Path | None, plugin_slug: str) -> None:
    """WordPress, the must-use plugin test-env.php and plugin-stub (as wp-content/plugins/<slug>; None: none)."""
    docroot = root / "wordpress"
    if os.environ.get("WPBRIDGE_SANDBOX_COPY") == "1" or not _link_core(docroot):
        shutil.rmtree(docroot)
        shutil.copytree(WORDPRESS_SOURCE, docroot, symlinks=False, ignore_dangling_symlinks=True)
    for name in ("wp-config.php", ".htaccess"):  # Debian's config loader and its /etc/wordpress/htaccess link
        (docroot / name).unlink(missing_ok=True)
    content = docroot / "wp-content"
    for sub in ("mu-plugins", "uploads", "plugins"):
        (content / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recipe_file("test-env.php"), content / "mu-plugins" / "test-env.php")
    if plugin_src is not None:
        shutil.copytree(plugin_src, content / "plugins" / plugin_slug, symlinks=False,
                        ignore=shutil.ignore_patterns(".git", "__pycache__", "node_modules"))


def _link_core(docroot: Path) -> bool:
    """Core files as hard links to the package's files, wp-content as a real copy; False when linking is refused.

    Why links: copying the 58 MB / 2,800-file tree took 0.7-3.4 s here (the page cache is often cold), `cp -al`
    takes 0.1 s. Core files are never written (updates are off; FS_METHOD only writes wp-content), and a hard
    link, unlike a symlink, keeps `__DIR__` inside the sandbox. The package's relative symlinks (getid3,
    underscore, crop) would dangle in DIR: they are replaced by links to their targets. Linking is refused across
    filesystems, and for a non-root user by fs.protected_hardlinks: the caller then copies (also when
    WPBRIDGE_SANDBOX_COPY=1).
    """
    res = subprocess.run(["cp", "-al", f"{WORDPRESS_SOURCE}/.", f"{docroot}/"], capture_output=True, check=False)
    if res.returncode != 0:
        return False
    content = docroot / "wp-content"
    shutil.rmtree(content)  # removes links only; the package's files are untouched
    shutil.copytree(WORDPRESS_SOURCE / "wp-content", content, symlinks=False, ignore_dangling_symlinks=True)
    for path in _symlinks(docroot):
        target = Path(os.path.realpath(WORDPRESS_SOURCE / path.relative_to(docroot)))
        path.unlink()
        if target.is_file():
            try:
                os.link(target, path)
            except OSError:
                shutil.copy2(target, path)
        elif target.is_dir():
            shutil.copytree(target, path)
    return True


def _symlinks(top: Path) -> list[Path]:
    """Every symlink under `top` (not followed), from directory entries alone (no stat per file)."""
    found, stack = [], [top]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    found.append(Path(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
    return found


def _private(path: Path) -> Path:
    """The path as an owner-only file (0600) before anything is written to it: wp-config*.php hold the salts and
    the database credentials, and other local users must not read them."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    return path


TEST_FAULTS_FILE = "test-faults.php"


def install_test_faults(docroot: Path) -> None:
    """The fault switch of plugin-stub's quota writes (recipe/test-faults.php, route `/wpbridge/v1/test/faults`) as a
    must-use plugin, for a sandbox in test mode only; plugin-stub itself ships no test route. The file also checks
    WPBRIDGE_TEST_MODE itself."""
    mu = docroot / "wp-content" / "mu-plugins"
    mu.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recipe_file(TEST_FAULTS_FILE), mu / TEST_FAULTS_FILE)


def write_config(root: Path, sock: Path, test_mode: bool) -> None:
    salts = "\n".join(
        f"define( '{name}', '{random_token(64)}' );"
        for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
                     "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
    )
    test_line = "define( 'WPBRIDGE_TEST_MODE', true ); // test-only switches of plugin-stub\n" if test_mode else ""
    if test_mode:  # the test-only must-use plugins go with test mode only (the files are in place by now)
        install_test_faults(root / "wordpress")
        install_test_gateway(root / "wordpress")
    _private(root / "wordpress" / "wp-config.php").write_text(f"""<?php
// Generated by wpbridge's sandbox for a throw-away test network (see wpbridge/sandbox/recipe/README.md).
define( 'DB_NAME', '{DB_NAME}' );
define( 'DB_USER', '{DB_USER}' );
define( 'DB_PASSWORD', '{DB_PASSWORD}' );
define( 'DB_HOST', 'localhost:{sock}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{salts}
$table_prefix = 'wp_';

// Application Passwords need HTTPS unless the environment type is 'local'.
define( 'WP_ENVIRONMENT_TYPE', 'local' );
// Never talk to wordpress.org (or anything but this host): no cron, no updates.
define( 'DISABLE_WP_CRON', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'FS_METHOD', 'direct' );
// Notices and deprecations of plugin-stub go to a log, never into responses.
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '{root / "logs" / "wp-debug.log"}' );
@ini_set( 'display_errors', '0' );
{test_line}
if ( file_exists( __DIR__ . '/wp-config-multisite.php' ) ) {{
	require __DIR__ . '/wp-config-multisite.php';
}}
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
""")


def write_multisite_config(root: Path, domain: str, *, subdomains: bool = False) -> None:
    _private(root / "wordpress" / "wp-config-multisite.php").write_text(f"""<?php
define( 'WP_ALLOW_MULTISITE', true );
define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', {'true' if subdomains else 'false'} );
define( 'DOMAIN_CURRENT_SITE', '{domain}' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
""" + (_cookie_domain(domain) if subdomains else ""))


def _cookie_domain(domain: str) -> str:
    """A subdomain network's cookie domain without the port: WordPress makes it from the network's domain, port
    included (`.wpbridge.localhost:PORT`), and no browser (nor `requests`) keeps a cookie for such a domain, so the
    sandbox's logins and visit counts would not stick; a network served on 80/443 has no port. Only for the hosts
    under the network's own: a mapped domain keeps UM's own (`Domain_Manager::set_cookie_domain`)."""
    host = domain.rsplit(":", 1)[0]
    pattern = "/(^|\\.)" + host.replace(".", "\\.") + "(:[0-9]+)?$/"
    return (f"if ( preg_match( '{pattern}', (string) ( $_SERVER['HTTP_HOST'] ?? '' ) ) ) {{\n"
            f"\tdefine( 'COOKIE_DOMAIN', '.{host}' );\n}}\n")


def run_php(root: Path, script: str, env: dict[str, str], timeout: float = 300.0) -> dict[str, Any]:
    """Run a recipe PHP script with the CLI; its stdout is one JSON object. Output kept in DIR/logs/."""
    name = script.removesuffix(".php")
    out, err = root / "logs" / f"{name}.out", root / "logs" / f"{name}.err"
    try:
        res = subprocess.run(
            [*PHP_CLI, str(recipe_file(script))], stdin=subprocess.DEVNULL, capture_output=True,
            env={**os.environ, **env}, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{script} did not finish within {timeout:.0f}s") from None
    out.write_bytes(b"" if "app_password" in res.stdout.decode(errors="replace") else res.stdout)
    err.write_bytes(res.stderr)
    if res.returncode != 0:
        lines = res.stderr.decode(errors="replace").strip().splitlines()
        raise SandboxError(f"{script} failed: {lines[-1] if lines else f'exit {res.returncode}'} (see {err})")
    try:
        data = json.loads(res.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SandboxError(f"{script} printed no JSON (see {err})") from None
    if not isinstance(data, dict):
        raise SandboxError(f"{script} printed {type(data).__name__}, expected a JSON object")
    return data
