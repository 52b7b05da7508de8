"""The Debian packages a sandbox runs on, installed with apt when missing (as root) or named in a clear error.

Why this exact list: `wordpress` depends on `apache2 | httpd` and `libapache2-mod-php | php`; apt picks the first
alternative (apache2, which would start a system daemon) unless `nginx`, `php` and `php8.2-fpm` are named in the
same command. `mariadb-server-core` has `mariadbd` and `mariadb-install-db` without a system service. nginx and
php-fpm are never started by the sandbox (it serves with `php -S`); they are here only to satisfy those
dependencies. `php8.2-bcmath` and `php8.2-mbstring` are what the real Ultimate Multisite needs beyond WordPress
(its hashids library needs bcmath or gmp); they are small, so both flavors install them and one list serves both.
The Makefile's `debian-packages` target installs the same list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import SandboxError

PACKAGES: tuple[str, ...] = (
    "wordpress", "php", "php8.2-fpm", "php-cli", "php-mysql", "nginx", "mariadb-server-core", "mariadb-client-core",
    "php8.2-bcmath", "php8.2-mbstring",
)
# What the runner really executes or reads; checked after the package step (also on non-Debian machines).
REQUIRED_PATHS: tuple[str, ...] = ("php", "mariadbd", "mariadb-install-db", "mariadb", "/usr/share/wordpress")
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
APT_TIMEOUT = 900


def missing_packages() -> list[str]:
    """The packages of PACKAGES not installed (empty when dpkg is not available: checked by REQUIRED_PATHS)."""
    if shutil.which("dpkg-query") is None:
        return []
    res = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", *PACKAGES],
        capture_output=True, text=True, check=False,
    )
    installed = {
        line.split(" ", 1)[0].split(":", 1)[0]
        for line in res.stdout.splitlines()
        if line.endswith("install ok installed")
    }
    return [p for p in PACKAGES if p not in installed]


def install_command(packages: list[str] | tuple[str, ...] = PACKAGES) -> str:
    return "apt-get install -y --no-install-recommends " + " ".join(packages)


def ensure_packages(log: Callable[[str], None]) -> float:
    """Install missing packages when root; returns the seconds spent in apt (0.0 when nothing was missing).

    Not root, or WPBRIDGE_SANDBOX_NO_APT=1: a SandboxError naming the packages and the command to run.
    """
    import time

    missing = missing_packages()
    if missing:
        if os.environ.get("WPBRIDGE_SANDBOX_NO_APT") == "1" or os.geteuid() != 0:
            why = "WPBRIDGE_SANDBOX_NO_APT=1" if os.geteuid() == 0 else "not running as root"
            raise SandboxError(
                f"missing Debian packages: {' '.join(missing)} ({why}); install them as root with: "
                f"{install_command()}"
            )
        log(f"installing Debian packages (missing: {' '.join(missing)})")
        started = time.monotonic()
        _apt_install()
        spent = time.monotonic() - started
        still = missing_packages()
        if still:
            raise SandboxError(f"apt-get did not install: {' '.join(still)}")
        log(f"Debian packages installed in {spent:.1f}s")
    else:
        spent = 0.0
    absent = [p for p in REQUIRED_PATHS if not (Path(p).exists() if p.startswith("/") else shutil.which(p))]
    if absent:
        raise SandboxError(f"not found: {', '.join(absent)}; on Debian 12 install them with: {install_command()}")
    return spent


def _apt_install() -> None:
    """apt-get install, with `apt-get update` and one retry on failure; no system service may start meanwhile."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", *PACKAGES]
    made_policy = False
    if not POLICY_RC_D.exists():
        # nginx's and php-fpm's postinst would start system daemons (nginx on 0.0.0.0:80): forbid it meanwhile.
        POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
        made_policy = True
    with tempfile.NamedTemporaryFile("w", prefix="wpbridge-apt-", suffix=".log", delete=False) as aptlog:
        try:
            ok = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=aptlog, stderr=subprocess.STDOUT, env=env,
                                timeout=APT_TIMEOUT, check=False).returncode == 0
            if not ok:
                subprocess.run(["apt-get", "update", "-q"], stdin=subprocess.DEVNULL, stdout=aptlog,
                               stderr=subprocess.STDOUT, env=env, timeout=APT_TIMEOUT, check=False)
                ok = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=aptlog, stderr=subprocess.STDOUT,
                                    env=env, timeout=APT_TIMEOUT, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        finally:
            if made_policy:
                POLICY_RC_D.unlink(missing_ok=True)
    if not ok:
        raise SandboxError(f"apt-get install failed, see {aptlog.name}")
