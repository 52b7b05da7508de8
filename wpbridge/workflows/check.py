"""`check`: is a network usable by wpbridge? Reachable, authenticated, plugin mode and version, clock skew, and
whether its customer sites' membership links can be read (without them no site may be written: DESIGN §3.3). A
network with no customer site yet is usable."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import AuthError, NetworkConnectionError, NotFound, RedirectError, WPBridgeError
from ..managers.flavor import flavor_of
from ..network import Network

SKEW_WARNING_SECONDS = 60.0
"""Beyond this the local clock (which prices quotes by default) and the server's disagree enough to mention."""


def secret_fingerprint(secret: str) -> str:
    """`sha256:` and the first 16 hex digits of the secret's SHA-256: what plugin-stub's Network Admin screen and
    `wp wpbridge key show-fingerprint` show of the network's secret, so the two can be compared (never the secret)."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def check_network(net: Network) -> dict[str, Any]:
    """Reachable, authenticated, plugin mode and version, clock skew, site links; `usable` only when all hold."""
    out: dict[str, Any] = {
        "network": net.settings.name, "url": net.settings.url, "reachable": False, "authenticated": False,
        "mode": None, "plugin_version": None, "wp_version": None, "um_version": None, "batch_limit": None,
        "server_time": None, "clock_skew_seconds": None, "site_links": None, "usable": False, "problems": [],
        "warnings": [], "secret_fingerprint": secret_fingerprint(net.settings.api_secret.get_secret_value()),
    }
    try:
        net.check_auth()
        out["reachable"] = out["authenticated"] = True
    except AuthError as err:
        out["reachable"] = True
        out["problems"].append(
            f"authentication failed: {err} (this machine's secret is {out['secret_fingerprint']}: compare it with "
            "Network Admin -> Settings -> wpbridge or `wp wpbridge key show-fingerprint`; with Ultimate Multisite, "
            "its own pair in UM -> Settings -> API)")
    except NetworkConnectionError as err:
        out["problems"].append(f"not reachable: {err}")
    except NotFound as err:
        out["reachable"] = True
        out["problems"].append(f"no Ultimate Multisite API (wu/v2) and no plugin-stub: {err}")
    except RedirectError:
        raise  # the configured url is not the API's address: a config error (exit 2) naming the url to set
    except WPBridgeError as err:
        out["reachable"] = True
        out["problems"].append(str(err))
    if out["authenticated"]:
        try:
            before = time.monotonic()
            wall = datetime.now(UTC)
            info = net.info()
            local_mid = wall + timedelta(seconds=(time.monotonic() - before) / 2)
        except RedirectError:
            raise
        except WPBridgeError as err:
            out["problems"].append(f"companion routes (wpbridge/v1) unavailable; is plugin-stub active? {err}")
        else:
            skew = round((info.server_time - local_mid).total_seconds(), 1)
            out.update(mode=info.mode, plugin_version=info.plugin_version, wp_version=info.wp_version,
                       um_version=flavor_of(info).pick(stub=None, um=info.um_version),  # stub: pricing release only
                       batch_limit=info.batch_limit, server_time=info.server_time, clock_skew_seconds=skew)
            if abs(skew) > SKEW_WARNING_SECONDS:
                out["warnings"].append(
                    f"server clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} this machine: "
                    "quotes use this machine's clock unless --at is given"
                )
            problem = net.sites.links_problem()
            out["site_links"] = problem is None
            if problem is not None:
                out["problems"].append(f"{problem}; wpbridge writes to no site whose link it cannot read")
    out["usable"] = not out["problems"]
    return out
