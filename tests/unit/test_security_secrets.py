"""Issue 20, item 11: no secret, in any spelling, on any output channel of any failing path reachable offline.

The secrets hold quotes, a backslash, `%`, a newline and non-Latin-1 unicode, so that each escaping (repr, JSON,
URL encoding, whitespace collapsed on one line) gives a different spelling; every one of them is looked for in
stdout, stderr, report files and the log records. The server is `responses` (no traffic leaves the process).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import responses
from click.testing import CliRunner, Result

from wpbridge.cli import main
from wpbridge.cli.common import error_line
from wpbridge.config import load_settings, load_sync_settings
from wpbridge.errors import ConfigError

SECRET = "Zq\"x'7\\k%41-\u00fc\u20ac\nTAIL9f3-sentinel"
KEY = "KEY-sentinel-c0ffee42"
URL = "http://127.0.0.1:8999"


def spellings(secret: str) -> set[str]:
    """Every way the secret could be written out: the forms a scrubber must catch."""
    forms = {secret, repr(secret)[1:-1], ascii(secret)[1:-1], json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe=""), quote_plus(secret),
             " ".join(secret.split())}
    forms |= {line for line in secret.splitlines() if len(line) >= 6}
    return {f for f in forms if f}


def assert_clean(*texts: str, secret: str = SECRET) -> None:
    for text in texts:
        for form in spellings(secret):
            assert form not in text, f"secret spelled {form!r} leaked in: {text!r}"
        assert "TAIL9f3" not in text and "k%41" not in text, text


def cli(args: list[str], env: dict[str, str | None]) -> Result:
    base: dict[str, str | None] = {"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None, "WPBRIDGE_API_KEY": None,
                                   "WPBRIDGE_API_SECRET": None, "WPBRIDGE_NETWORK": None}
    return CliRunner().invoke(main, args, env={**base, **env})


def no_traceback(res: Result) -> None:
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- the scrubber itself


def test_one_scrubber_catches_every_spelling() -> None:
    from wpbridge.errors import Scrubber

    s = Scrubber()
    s.add(SECRET)
    for form in spellings(SECRET):
        assert s(f"before {form} after") == "before *** after", form
    assert s(f"x {SECRET!r} y") == "x '***' y"
    assert s("nothing secret here") == "nothing secret here"


def test_short_values_are_not_scrubbed_so_ordinary_words_survive() -> None:
    from wpbridge.errors import Scrubber

    s = Scrubber()
    s.add("s")
    s.add("abc")
    assert s("api_secret abc") == "api_secret abc"


# --------------------------------------------------------------------------- config errors


def test_secret_pasted_into_another_key_is_not_shown_escaped(tmp_path: Path, home: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = config(tmp_path, f"[networks.p]\nurl = {toml_str(SECRET)}\napi_key = \"{KEY}\"\n"
                            f"api_secret = {toml_str(SECRET)}\n")
    caplog.set_level(logging.DEBUG)
    res = cli(["check", "--config", str(path)], {"HOME": str(home)})
    no_traceback(res)
    assert res.exit_code == 2 and "key 'url'" in res.stderr
    assert_clean(res.stdout, res.stderr, caplog.text)


def test_url_userinfo_password_is_never_shown(tmp_path: Path, home: Path) -> None:
    path = config(tmp_path, '[networks.p]\nurl = "https://admin:Pw-sentinel-93%21x@example.com/"\n'
                            f'api_key = "{KEY}"\napi_secret = "other-secret-value"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=str(path), env={"HOME": str(home)})
    msg = error_line(err.value)
    assert "must not hold credentials" in msg and "Pw-sentinel" not in msg and "93%21x" not in msg


@pytest.mark.parametrize("key", ["lock_ttl", "inactive_policy", "payment_grace_days"])
def test_sync_values_are_not_quoted_in_errors(tmp_path: Path, home: Path, key: str) -> None:
    path = config(tmp_path, f"[sync]\n{key} = {toml_str(SECRET)}\n")
    with pytest.raises(ConfigError) as err:
        load_sync_settings("p", config_path=str(path), env={"HOME": str(home)})
    msg = error_line(err.value)
    assert f"key '{key}'" in msg
    assert_clean(msg)
    path = config(tmp_path, f"[sync.networks.p]\n{key} = {{ nested = {toml_str(SECRET)} }}\n")
    with pytest.raises(ConfigError) as err:
        load_sync_settings("p", config_path=str(path), env={"HOME": str(home)})
    assert_clean(error_line(err.value))


def test_secret_pasted_as_api_secret_env_is_not_echoed(tmp_path: Path, home: Path) -> None:
    path = config(tmp_path, f'[networks.p]\nurl = "https://a.example.com"\napi_key = "{KEY}"\n'
                            f"api_secret_env = {toml_str(SECRET)}\n")
    res = cli(["check", "--config", str(path)], {"HOME": str(home)})
    no_traceback(res)
    assert res.exit_code == 2 and "api_secret_env" in res.stderr
    assert_clean(res.stdout, res.stderr)


def test_secret_pasted_as_api_secret_command_is_not_echoed(tmp_path: Path, home: Path) -> None:
    pasted = "tok3nVALUE-sentinel-TAIL9f3"
    path = config(tmp_path, f'[networks.p]\nurl = "https://a.example.com"\napi_key = "{KEY}"\n'
                            f"api_secret_command = {toml_str(pasted)}\n")
    res = cli(["check", "--config", str(path)], {"HOME": str(home)})
    no_traceback(res)
    assert res.exit_code == 2 and "api_secret_command" in res.stderr
    assert "tok3nVALUE" not in res.output and "TAIL9f3" not in res.output


def test_failing_helper_stderr_is_not_shown(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HELPER_LEAK", SECRET)
    script = tmp_path / "helper.py"
    script.write_text("import os, sys\nsys.stderr.write('sealed: ' + os.environ['HELPER_LEAK'] + '\\n')\n"
                      "print(os.environ['HELPER_LEAK'])\nsys.exit(3)\n")
    path = config(tmp_path, f'[networks.p]\nurl = "https://a.example.com"\napi_key = "{KEY}"\n'
                            f"api_secret_command = [{toml_str(sys.executable)}, {toml_str(str(script))}]\n")
    caplog.set_level(logging.DEBUG)
    res = cli(["check", "--config", str(path)], {"HOME": str(home)})
    no_traceback(res)
    assert res.exit_code == 2 and "failed with exit status 3" in res.stderr
    assert_clean(res.stdout, res.stderr, caplog.text)


def test_help_never_shows_a_secret(home: Path) -> None:
    env = {"HOME": str(home), "WPBRIDGE_URL": URL, "WPBRIDGE_API_KEY": KEY, "WPBRIDGE_API_SECRET": SECRET}
    for args in (["--help"], ["check", "--help"], ["sync", "--help"], ["import", "--help"], ["export", "--help"]):
        res = cli(args, env)
        assert res.exit_code == 0, res.output
        assert_clean(res.output)


# --------------------------------------------------------------------------- a server that echoes the secret


def echo_body(status: int) -> dict[str, Any]:
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    message = f"bad credentials {SECRET!r} / {json.dumps(SECRET)} / {quote(SECRET)} / Basic {token}"
    return {"code": "rest_forbidden", "message": message, "data": {"status": status}}


@pytest.fixture
def echoing_server() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add(method, re.compile(re.escape(URL) + r"/.*"), status=401, json=echo_body(401))
        yield mock


ENV = {"WPBRIDGE_URL": URL, "WPBRIDGE_API_KEY": KEY, "WPBRIDGE_API_SECRET": SECRET}


@pytest.mark.parametrize("args", [["check"], ["check", "-o", "json"], ["products", "list"],
                                  ["memberships", "show", "1"]])
def test_auth_failure_with_an_echoing_server(echoing_server: responses.RequestsMock, home: Path, args: list[str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    res = cli(args, {**ENV, "HOME": str(home)})
    no_traceback(res)
    assert res.exit_code in (1, 2), res.output
    assert_clean(res.stdout, res.stderr, caplog.text)


def test_sync_report_file_holds_no_secret(echoing_server: responses.RequestsMock, home: Path, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    report = tmp_path / "report.json"
    res = cli(["sync", "--report", str(report)], {**ENV, "HOME": str(home)})
    no_traceback(res)
    assert res.exit_code != 0
    texts = [res.stdout, res.stderr, caplog.text]
    if report.exists():
        texts.append(report.read_text(encoding="utf-8"))
    assert_clean(*texts)


def test_scrub_of_a_registered_secret_everywhere_an_error_becomes_text() -> None:
    from wpbridge.errors import SECRETS, ServerError, scrub

    SECRETS.add("Err-sentinel\"'\\-TAIL9f3")
    err = ServerError(f"boom {'Err-sentinel' + chr(34) + chr(39) + chr(92) + '-TAIL9f3'!r}", method="GET", path="/x")
    assert "TAIL9f3" not in str(err) and "TAIL9f3" not in repr(err) and "TAIL9f3" not in err.message
    assert scrub("a Err-sentinel\"'\\-TAIL9f3 b") == "a *** b"
