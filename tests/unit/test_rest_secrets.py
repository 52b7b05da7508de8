"""No credential ever appears in an error's str/repr, a log line, or a settings/network repr."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from wpbridge.config import NetworkSettings
from wpbridge.errors import WPBridgeError
from wpbridge.models import Limitations
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
KEY = "KEY-sentinel-c0ffee"
SECRET = "S3CRET-sentinel-7d1f0a9b"
TOKEN = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


def net() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key=KEY, api_secret=SECRET, source="test config")
    return Network(settings, retry=RetryPolicy(deadline=0.2, max_retries=2, backoff_initial=0.001, backoff_max=0.001))


def echo(status: int) -> dict[str, Any]:
    # a server that (wrongly) echoes the credentials back in its error message
    return {"code": "rest_error", "message": f"bad credentials {KEY}:{SECRET} / Basic {TOKEN}",
            "data": {"status": status, "field": "x"}}


def _scenarios() -> list[tuple[str, Callable[[], None], Callable[[Network], Any]]]:
    def add(method: str, path: str, **kw: Any) -> Callable[[], None]:
        return lambda: responses.add(method, ROOT + path, **kw)

    return [
        ("401", add("GET", "/wu/v2/auth", status=401, json=echo(401)), lambda n: n.check_auth()),
        ("403", add("GET", "/wu/v2/auth", status=403, json=echo(403)), lambda n: n.check_auth()),
        ("404", add("GET", "/wu/v2/membership/1", status=404, json=echo(404)), lambda n: n.memberships.get(1)),
        ("400", add("PUT", "/wu/v2/membership/1", status=400, json=echo(400)),
         lambda n: n.memberships.update(1, {"plan_id": 1})),
        ("409", add("POST", "/wpbridge/v1/locks/a", status=409, json=echo(409)),
         lambda n: n.locks.acquire("a", "o", 1)),
        ("429", add("GET", "/wu/v2/site/1", status=429, json=echo(429), headers={"Retry-After": "0"}),
         lambda n: n.sites.get(1)),
        ("500", add("GET", "/wu/v2/site/1", status=500, json=echo(500)), lambda n: n.sites.get(1)),
        ("503", add("GET", "/wu/v2/site/1", status=503, body=f"<h1>{SECRET}</h1>"), lambda n: n.sites.get(1)),
        ("bad json", add("GET", "/wu/v2/site/1", body=f"oops {SECRET}"), lambda n: n.sites.get(1)),
        ("bad model", add("GET", "/wu/v2/site/1", json={"blog_id": "x"}), lambda n: n.sites.get(1)),
        ("timeout", add("POST", "/wu/v2/membership", body=requests.exceptions.ReadTimeout(f"t {SECRET}")),
         lambda n: n.memberships.create({"customer_id": 1})),
        ("refused", add("GET", "/wu/v2/site/1", body=requests.exceptions.ConnectionError(f"c {SECRET}")),
         lambda n: n.sites.get(1)),
        ("301", add("PUT", "/wpbridge/v1/sites/1/quota", status=301,
                    headers={"Location": f"https://other.example.com/wp-json/x?api_secret={SECRET}"}),
         lambda n: n.quotas.put(1, Limitations())),
        ("batch item", add("POST", "/batch/v1", status=207, json={"responses": [
            {"status": 400, "body": echo(400), "headers": {}}]}),
         lambda n: n.quotas.put_many({1: Limitations()}).items[0].error),
    ]


@pytest.mark.parametrize(("name", "setup", "call"), _scenarios(), ids=[s[0] for s in _scenarios()])
@responses.activate
def test_no_secret_in_errors_or_logs(name: str, setup: Callable[[], None], call: Callable[[Network], Any],
                                     caplog: pytest.LogCaptureFixture) -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json={"plugin_version": "1", "mode": "stub",
                                                    "server_time": "2026-11-26T06:38:31Z", "batch_limit": 25})
    setup()
    n = net()
    with caplog.at_level(logging.DEBUG):
        try:
            result = call(n)
        except WPBridgeError as exc:
            err: BaseException | None = exc
        else:
            err = result if isinstance(result, BaseException) else None
    assert err is not None, f"{name}: expected an error"
    texts = [str(err), repr(err), str(getattr(err, "wp_message", "")), str(getattr(err, "data", "")),
             str(getattr(err, "location", "")), caplog.text, repr(n), repr(n.transport), repr(n.settings)]
    for text in texts:
        for secret in (SECRET, TOKEN, KEY):
            assert secret not in text, f"{name}: {secret!r} leaked into {text!r}"


# --------------------------------------------------------------------------- config errors (issue 11, item 10)

CONFIG_SCENARIOS: list[tuple[str, str, dict[str, str]]] = [
    # (name, config file text or "", environment)
    ("env plain http", "", {"WPBRIDGE_URL": "http://network.example.com", "WPBRIDGE_API_KEY": KEY,
                            "WPBRIDGE_API_SECRET": SECRET}),
    ("env bad url", "", {"WPBRIDGE_URL": "ftp://x", "WPBRIDGE_API_KEY": KEY, "WPBRIDGE_API_SECRET": SECRET}),
    ("env empty key", "", {"WPBRIDGE_URL": "http://network.example.com", "WPBRIDGE_API_KEY": " ",
                           "WPBRIDGE_API_SECRET": SECRET}),
    ("file plain http", f'[networks.a]\nurl = "http://network.example.com"\napi_key = "{KEY}"\n'
                        f'api_secret = "{SECRET}"\n', {}),
    ("file bad per_page", f'[networks.a]\nurl = "https://n.example.com"\napi_key = "{KEY}"\n'
                          f'api_secret = "{SECRET}"\nper_page = "{SECRET}"\n', {}),
    ("file secret not a string", f'[networks.a]\nurl = "https://n.example.com"\napi_key = "{KEY}"\n'
                                 f'api_secret = ["{SECRET}"]\n', {}),
    ("file secret in unknown key", f'[networks.a]\nurl = "https://n.example.com"\napi_key = "{KEY}"\n'
                                   f'api_secert = "{SECRET}"\n', {}),
    ("api_secret_env plain http", f'[networks.a]\nurl = "http://network.example.com"\napi_key = "{KEY}"\n'
                                  'api_secret_env = "MY_SECRET"\n', {"MY_SECRET": SECRET}),
    ("api_secret_command plain http", f'[networks.a]\nurl = "http://network.example.com"\napi_key = "{KEY}"\n'
                                      f'api_secret_command = ["echo", "{SECRET}"]\n', {}),
    ("bad toml", f'[networks.a]\nurl = "https://n.example.com"\napi_secret = "{SECRET}\n', {}),
]


@pytest.mark.parametrize(("name", "text", "env"), CONFIG_SCENARIOS, ids=[s[0] for s in CONFIG_SCENARIOS])
def test_no_secret_in_config_errors(name: str, text: str, env: dict[str, str], tmp_path: Any,
                                    caplog: pytest.LogCaptureFixture) -> None:
    from wpbridge.config import load_settings
    from wpbridge.errors import ConfigError

    path = tmp_path / "config.toml"
    if text:
        path.write_text(text)
        path.chmod(0o600)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as info:
        load_settings(config_path=str(path) if text else None, env={"HOME": str(tmp_path), **env})
    err = info.value
    for text_seen in (str(err), repr(err), caplog.text):
        assert SECRET not in text_seen, f"{name}: the secret leaked into {text_seen!r}"
        assert SECRET[:12] not in text_seen, f"{name}: part of the secret leaked into {text_seen!r}"


def test_cli_config_error_does_not_print_the_secret(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from wpbridge.cli import main

    env = {"HOME": str(tmp_path), "WPBRIDGE_URL": "http://network.example.com", "WPBRIDGE_API_KEY": KEY,
           "WPBRIDGE_API_SECRET": SECRET, "WPBRIDGE_CONFIG": "", "WPBRIDGE_NETWORK": ""}
    result = CliRunner().invoke(main, ["products", "list"], env=env)
    assert result.exit_code == 2
    assert "http:// sends the API secret in clear" in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
