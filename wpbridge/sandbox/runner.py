"""`up()` and `down()`: a throw-away WordPress subdirectory multisite on 127.0.0.1 with plugin-stub network-active.

Everything lives under one directory (database, WordPress copy, configs, logs, pid records) and `DIR/sandbox.json`
describes it (mode 0600: it holds the credentials), so that other commands find a running sandbox by its dir.
The processes it starts are recorded by pid the moment they start; a start that fails, is interrupted (Ctrl-C,
SIGTERM) or times out stops exactly those processes before the error is raised, so nothing is left running.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from . import mariadb, names, packages, procs, um, wordpress
from .errors import SandboxError, SandboxUsageError
from .state import claim_dir, read_info, write_info

PINNED_KEYS = ("url", "api_key", "api_secret", "user", "app_password", "dir")
SEEDS = ("example", "none")
MAX_SITES = 100
ADMIN_USER = "admin"
ADMIN_EMAIL = "admin@example.com"
STOP_ORDER = ("front", "web", "mariadbd")  # the front and web server first (no request sees a dead database)

Log = Callable[[str], None]


@dataclass(frozen=True)
class SandboxInfo:
    """A running sandbox. The pinned attributes are what `wpbridge sandbox up` prints; `info` is all of
    DIR/sandbox.json (port, sites, seeded ids, timings...). Secrets stay out of the repr."""

    url: str
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    user: str
    app_password: str = field(repr=False)
    dir: Path
    info: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def public(self) -> dict[str, Any]:
        """What `up` prints: the pinned keys, then a few facts useful at a glance."""
        out: dict[str, Any] = {k: getattr(self, k) for k in PINNED_KEYS}
        out["dir"] = str(self.dir)
        for key in ("port", "seed", "test_mode", "flavor", "um_version", "docroot", "ready_seconds"):
            if key in self.info:
                out[key] = self.info[key]
        return out

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> SandboxInfo:
        return cls(url=info["url"], api_key=info["api_key"], api_secret=info["api_secret"], user=info["user"],
                   app_password=info["app_password"], dir=Path(info["dir"]), info=info)

    @classmethod
    def load(cls, dir: str | Path) -> SandboxInfo:
        """The sandbox described by DIR/sandbox.json (a SandboxUsageError when DIR holds no running sandbox)."""
        info = read_info(Path(dir).resolve())
        if info.get("state") != "running":
            raise SandboxUsageError(f"the sandbox in {dir} is {info.get('state', 'unknown')}, not running")
        return cls.from_info(info)


def up(dir: str | Path | None = None, port: int | str = "auto", sites: int = 3, seed: str = "example", *,
       flavor: str = "stub", um_plugin: str | Path | None = None, test_mode: bool = True,
       plugin: bool = True, subdomains: bool = False, log: Log | None = None) -> SandboxInfo:
    """Start a sandbox in DIR (new or empty; default a fresh /tmp/wpbridge-sandbox-*), return its description.

    `sites` counts the main site (/, /site2/ ... /siteN/); `seed="example"` then creates the example network
    (products, customers, memberships, their sites and quotas). `test_mode` defines WPBRIDGE_TEST_MODE in
    wp-config.php (plugin-stub's test-only switches; a sandbox is a test network).

    `flavor="stub"`: plugin-stub serves `wu/v2` itself (stub mode) and the example is seeded through REST.
    `flavor="ultimate-multisite"`: the real UM from `um_plugin` (a directory, .zip or .tar.xz; default
    $WPBRIDGE_UM_PLUGIN) is network-active with plugin-stub in UM mode, and the example is seeded through UM's
    own PHP functions (um_seed.py).

    `plugin=False`: WordPress (and UM) without plugin-stub, for a test that installs the release zip the way a
    network owner does (seed "none" only; `api_key`/`api_secret` are then UM's pair in the UM flavor, and in the
    stub flavor a pair nothing accepts until it is set on the network).

    `subdomains=True`: a subdomain multisite: the main site is `http://wpbridge.localhost:PORT`, site N is
    `http://siteN.wpbridge.localhost:PORT/`; `*.localhost` is made to resolve here first (names.py).
    """
    say: Log = log or (lambda _msg: None)
    started = time.monotonic()
    want_port = _check_args(port, sites, seed)
    if not plugin and seed != "none":
        raise SandboxUsageError("a sandbox without plugin-stub can only be seeded 'none'")
    um_source = um.resolve_plugin(flavor, um_plugin)
    apt_seconds = packages.ensure_packages(say)
    if subdomains:
        names.ensure_localhost_names(say)
    if want_port is not None and wordpress.port_in_use(want_port):
        raise SandboxUsageError(f"--port {want_port}: 127.0.0.1:{want_port} is already in use")
    root = claim_dir(dir)
    timings: dict[str, float] = {}
    try:
        with _sigterm_as_exception():
            info = _start(root, want_port, sites, seed, test_mode, say, timings, um_source, plugin, subdomains)
    except BaseException as exc:
        say("start failed: stopping what was started")
        _stop_all(root)
        write_info(root, {**read_info(root), "state": "failed", "error": _one_line(exc)})
        if isinstance(exc, SandboxError | SandboxUsageError | KeyboardInterrupt):
            raise
        raise SandboxError(f"sandbox start failed: {_one_line(exc)} (logs in {root / 'logs'})") from exc
    info.update(state="running", apt_seconds=round(apt_seconds, 2), timings=timings,
                ready_seconds=round(time.monotonic() - started, 2))
    write_info(root, info)
    say(f"ready in {info['ready_seconds']}s: {info['url']}")
    return SandboxInfo.from_info(info)


def down(dir: str | Path, *, purge: bool = False) -> dict[str, Any]:
    """Stop exactly the processes the sandbox in DIR started (by recorded pid); `purge` then deletes DIR."""
    root = Path(dir).resolve()
    info = read_info(root)
    stopped = _stop_all(root)
    if purge:
        shutil.rmtree(root)
    else:
        write_info(root, {**info, "state": "stopped"})
    return {"dir": str(root), "stopped": stopped, "purged": purge}


# --------------------------------------------------------------------------- the start, step by step


def _start(root: Path, want_port: int | None, sites: int, seed: str, test_mode: bool, say: Log,
           timings: dict[str, float], um_source: Path | None = None, plugin: bool = True,
           subdomains: bool = False) -> dict[str, Any]:
    def step(name: str, t0: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - t0, 3)
        return now

    t = time.monotonic()
    for sub in ("run", "conf", "logs", "tmp", "wordpress"):
        (root / sub).mkdir()
    plugin_src, plugin_file, plugin_slug = _plugin_files(plugin)
    port = _start_web(root, want_port)
    domain = f"{names.BASE_HOST if subdomains else '127.0.0.1'}:{port}"
    url = f"http://{domain}"
    write_info(root, {**read_info(root), "port": port, "url": url})
    t = step("web_server", t)
    say(f"php -S on {url}; copying WordPress and starting MariaDB")
    sock = mariadb.socket_path(root)
    with ThreadPoolExecutor(max_workers=1) as pool:  # linking WordPress overlaps preparing the database
        copying = pool.submit(_copy_files, root, plugin_src, plugin_slug, um_source)
        mariadb.start(root, sock)
        copying.result()
    t = step("files_and_mariadb", t)
    wordpress.write_config(root, sock, test_mode)
    admin_password = wordpress.random_token(20)
    api_key, api_secret = wordpress.random_token(32), wordpress.random_token(40)
    base_env = {"WP_DOCROOT": str(root / "wordpress"), "WP_DOMAIN": domain, "WP_ADMIN_USER": ADMIN_USER,
                "WP_SUBDOMAINS": "1" if subdomains else ""}
    wordpress.run_php(root, "wp-install.php", {
        **base_env, "WP_TITLE": "wpbridge sandbox", "WP_ADMIN_PASSWORD": admin_password,
        "WP_ADMIN_EMAIL": ADMIN_EMAIL,
    })
    wordpress.write_multisite_config(root, domain, subdomains=subdomains)
    t = step("wp_install", t)
    give_up = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the first request (cold opcache) overlaps phase 2
        served = pool.submit(_wait_served, root, url, give_up)
        try:
            net = wordpress.run_php(root, "wp-network.php", {
                **base_env, "WP_SITES": str(sites),
                **_plugin_env(plugin_src is not None, f"{plugin_slug}/{plugin_file}", api_key, api_secret),
            })
        except BaseException:
            give_up.set()
            raise
        t = step("wp_network", t)
        served.result()
    um_facts: dict[str, Any] = {}
    if um_source is not None:
        say(f"activating Ultimate Multisite from {um_source}")
        um_facts = _activate_um(root, base_env, api_key, api_secret)
        t = step("um_activate", t)
    _check_credentials(root, url, (ADMIN_USER, str(net["app_password"])),
                       (api_key, api_secret) if plugin_src is not None else None)
    t = step("ready", t)
    info: dict[str, Any] = {
        **read_info(root),
        "url": url, "api_key": api_key, "api_secret": api_secret, "user": ADMIN_USER,
        "app_password": net["app_password"], "dir": str(root),
        "port": port, "admin_password": admin_password, "admin_email": ADMIN_EMAIL, "test_mode": test_mode,
        "sites": net["sites"], "plugin": net["plugin"], "wp_version": net["wp_version"],
        "php_version": net["php_version"], "db_socket": str(sock), "seed": seed,
        "flavor": "ultimate-multisite" if um_source is not None else "stub", "docroot": str(root / "wordpress"),
        "subdomains": subdomains, **um_facts,
    }
    if seed == "example" and um_source is not None:
        say("seeding the example network through Ultimate Multisite's own functions")
        from .um_seed import seed_example_um

        info["seeded"] = seed_example_um(root, base_env)
        if subdomains:  # UM's domain mapping: one site on a host of its own (um_seed.map_domain)
            from .um_seed import map_domain

            info["mapped_domain"] = map_domain(root, base_env)
        step("seed", t)
    elif seed == "example":
        say("seeding the example network through the REST API")
        from .seeder import seed_example

        info["seeded"] = seed_example(url, (api_key, api_secret), (ADMIN_USER, str(net["app_password"])))
        step("seed", t)
    return info


def _plugin_files(plugin: bool) -> tuple[Path | None, str, str]:
    """(source, main file, slug) of plugin-stub: wpbridge-stub/wpbridge-stub.php, as plugin-stub's tools expect;
    (None, "", "") without it."""
    if not plugin:
        return None, "", ""
    source = wordpress.plugin_source()
    main = wordpress.plugin_main_file(source)
    return source, main, main.removesuffix(".php")


def _plugin_env(plugin: bool, basename: str, api_key: str, api_secret: str) -> dict[str, str]:
    """What wp-network.php activates and stores: nothing without plugin-stub (its pair is then set by hand)."""
    if not plugin:
        return {"WPBRIDGE_PLUGIN": "", "WPBRIDGE_API_KEY": "", "WPBRIDGE_API_SECRET": ""}
    return {"WPBRIDGE_PLUGIN": basename, "WPBRIDGE_API_KEY": api_key, "WPBRIDGE_API_SECRET": api_secret}


def _copy_files(root: Path, plugin_src: Path | None, plugin_slug: str, um_source: Path | None) -> None:
    wordpress.copy_files(root, plugin_src, plugin_slug)
    if um_source is not None:
        um.install(um_source, root / "wordpress", mariadb.cache_dir())


def _activate_um(root: Path, base_env: dict[str, str], api_key: str, api_secret: str) -> dict[str, Any]:
    """UM's two install boots (recipe/um-activate.php); returns um_version and the plugin's basename."""
    env = {**base_env, "UM_PLUGIN": um.PLUGIN_BASENAME, "UM_API_KEY": api_key, "UM_API_SECRET": api_secret}
    wordpress.run_php(root, "um-activate.php", {**env, "UM_PHASE": "activate"})
    installed = wordpress.run_php(root, "um-activate.php", {**env, "UM_PHASE": "install"})
    return {"um_version": str(installed["um_version"]), "um_plugin": um.PLUGIN_BASENAME}


def _start_web(root: Path, want_port: int | None) -> int:
    """The public port: the front (request deadlines, `front.py`) before `php -S` on a port of its own; with
    WPBRIDGE_SANDBOX_FRONT=0, `php -S` itself (no read timeout: a trickled request holds its connection)."""
    if os.environ.get("WPBRIDGE_SANDBOX_FRONT", "1") == "0":
        return _start_php(root, want_port)
    backend = _start_php(root, None)
    write_info(root, {**read_info(root), "backend_port": backend})
    if want_port is not None:
        if wordpress.start_front(root, want_port, backend) is None:
            raise SandboxUsageError(f"--port {want_port}: 127.0.0.1:{want_port} is already in use")
        return want_port
    for _attempt in range(5):
        candidate = wordpress.free_port()
        if wordpress.start_front(root, candidate, backend) is not None:
            return candidate
    raise SandboxError("could not find a free port on 127.0.0.1 after 5 tries")


def _start_php(root: Path, want_port: int | None) -> int:
    if want_port is not None:
        if wordpress.start_web_server(root, want_port) is None:
            raise SandboxUsageError(f"--port {want_port}: 127.0.0.1:{want_port} is already in use")
        return want_port
    for _attempt in range(5):
        candidate = wordpress.free_port()
        if wordpress.start_web_server(root, candidate) is not None:
            return candidate
    raise SandboxError("could not find a free port on 127.0.0.1 after 5 tries")


def _wait_served(root: Path, url: str, give_up: threading.Event, timeout: float = 60.0) -> None:
    """`GET /wp-json/` answers 200 (the first request also fills opcache, which every worker shares)."""
    http = _http()
    web = next(r for r in procs.records(root / "run") if r.name == "web")
    deadline, status = time.monotonic() + timeout, None
    while time.monotonic() < deadline and not give_up.is_set():
        try:
            status = http.get(f"{url}/wp-json/", timeout=10).status_code
        except requests.RequestException:
            status = None
        if status == 200:
            return
        if not procs.is_running(web):
            raise SandboxError(f"php -S exited, see {root / 'logs'}")
        time.sleep(0.05)
    raise SandboxError(f"{url}/wp-json/ did not answer 200 within {timeout:.0f}s (last: {status})")


def _check_credentials(root: Path, url: str, app_auth: tuple[str, str], api_auth: tuple[str, str] | None) -> None:
    """The Application Password works, and plugin-stub (network-active) accepts the API credentials (None: no
    plugin-stub to ask)."""
    http = _http()
    checks = [("application password", "/wp-json/wp/v2/users/me", app_auth)]
    if api_auth is not None:
        checks.append(("plugin-stub API credentials", "/wp-json/wu/v2/auth", api_auth))
    for what, path, auth in checks:
        resp = http.get(f"{url}{path}", auth=auth, timeout=30)
        if resp.status_code != 200:
            raise SandboxError(f"the {what} did not work: GET {path} -> {resp.status_code} {_wp_code(resp)}"
                               f" (see {root / 'logs'})")


def _http() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # never through a proxy: the sandbox is on 127.0.0.1
    return http


# --------------------------------------------------------------------------- arguments, stopping


def _check_args(port: int | str, sites: int, seed: str) -> int | None:
    if seed not in SEEDS:
        raise SandboxUsageError(f"--seed {seed!r}: expected one of {', '.join(SEEDS)}")
    if isinstance(sites, bool) or not isinstance(sites, int) or not 1 <= sites <= MAX_SITES:
        raise SandboxUsageError(f"--sites {sites!r}: expected a whole number from 1 to {MAX_SITES}")
    if port in ("auto", 0, "0"):
        return None
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise SandboxUsageError(f"--port {port!r}: expected 'auto' or a port number") from None
    if not 1024 <= number <= 65535:
        raise SandboxUsageError(f"--port {port!r}: expected 'auto' or a port from 1024 to 65535")
    return number


def _stop_all(root: Path) -> dict[str, list[int]]:
    recs = procs.records(root / "run")
    order = {name: i for i, name in enumerate(STOP_ORDER)}
    stopped: dict[str, list[int]] = {}
    for rec in sorted(recs, key=lambda r: order.get(r.name, len(order))):
        pids = procs.stop(rec)
        if pids:
            stopped[rec.name] = pids
        (root / "run" / f"{rec.name}.json").unlink(missing_ok=True)
    mariadb.remove_socket_dir(root)
    return stopped


class _Terminated(Exception):
    """SIGTERM arrived while starting: unwinds like an error so the started processes are stopped."""


@contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated("interrupted by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wp_code(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
