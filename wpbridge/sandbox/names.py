"""Host names of a subdomain sandbox (`up(subdomains=True)`, `wpbridge sandbox up --subdomains`), resolved on this
machine with no outside DNS.

A subdomain multisite gives every site a host of its own (`site2.wpbridge.localhost:PORT`), so both sides must
resolve any name under the network's: the clients (wpbridge, the tests) and WordPress itself (PHP's loopback
requests, populate_network's wildcard check). RFC 6761 reserves `.localhost` for the loopback, and glibc's
`myhostname` NSS module (Debian's libnss-myhostname, part of systemd) answers every `*.localhost` name with
127.0.0.1 and ::1, for any slug a test creates later: no /etc/hosts line per site, no DNS server. When the names do
not resolve yet, a root sandbox installs the package and puts `myhostname` in the `hosts:` line of
/etc/nsswitch.conf (after `files`, so /etc/hosts still wins); otherwise the error names both steps.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from .errors import SandboxError

BASE_HOST = "wpbridge.localhost"
"""The main site's host of a subdomain sandbox (with its port: `wpbridge.localhost:PORT`)."""
PROBE = f"wpbridge-probe.{BASE_HOST}"
PACKAGE = "libnss-myhostname"
NSSWITCH = Path("/etc/nsswitch.conf")
APT_TIMEOUT = 600


def resolves_to_loopback(host: str) -> bool:
    """`host` resolves (through the system's resolver, as PHP and requests do) to loopback addresses only."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False
    addresses = {str(info[4][0]) for info in found}
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def with_myhostname(nsswitch: str) -> str:
    """nsswitch.conf's text with `myhostname` in its `hosts:` line, right after `files` (else first); unchanged
    when it is there already. A file without a `hosts:` line gets one."""
    lines = nsswitch.splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*hosts:\s*)(.*?)(\s*)$", line)
        if not match:
            continue
        sources = match.group(2).split()
        if "myhostname" in sources:
            return nsswitch
        at = sources.index("files") + 1 if "files" in sources else 0
        sources.insert(at, "myhostname")
        lines[i] = f"{match.group(1)}{' '.join(sources)}{match.group(3) or chr(10)}"
        return "".join(lines)
    tail = "" if not nsswitch or nsswitch.endswith("\n") else "\n"
    return f"{nsswitch}{tail}hosts:          files myhostname dns\n"


def ensure_localhost_names(log: Callable[[str], None], *, nsswitch: Path = NSSWITCH) -> None:
    """Make `*.localhost` resolve to the loopback here, or raise a SandboxError saying how."""
    if resolves_to_loopback(PROBE):
        return
    how = (f"install {PACKAGE} (apt-get install {PACKAGE}) and add 'myhostname' after 'files' in the hosts: line"
           f" of {nsswitch}")
    if os.geteuid() != 0 or os.environ.get("WPBRIDGE_SANDBOX_NO_APT") == "1":
        raise SandboxError(f"--subdomains: {PROBE} does not resolve on this machine; as root, {how}")
    log(f"--subdomains: making *.localhost resolve here ({PACKAGE}, myhostname in {nsswitch})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                           "-o", "DPkg::Lock::Timeout=300", PACKAGE], stdin=subprocess.DEVNULL,
                          capture_output=True, env=env, timeout=APT_TIMEOUT, check=False)
    if done.returncode != 0:
        raise SandboxError(f"--subdomains: apt-get install {PACKAGE} failed; {how}")
    text = nsswitch.read_text(encoding="utf-8") if nsswitch.exists() else ""
    changed = with_myhostname(text)
    if changed != text:
        nsswitch.write_text(changed, encoding="utf-8")
    if not resolves_to_loopback(PROBE):
        raise SandboxError(f"--subdomains: {PROBE} still does not resolve after installing {PACKAGE}; {how}")


def site_host(slug: str, domain: str) -> str:
    """The host (with the port) of a site `slug` under the network's `domain` (`wpbridge.localhost:PORT`)."""
    return f"{slug}.{domain}"
