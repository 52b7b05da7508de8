"""Issue 20, item 14: a deeply nested input (import file, snapshot, server reply, config) is one clear error line
naming where it came from, exit 2 for a file, never a RecursionError traceback."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from wpbridge.cli import main
from wpbridge.config import load_settings
from wpbridge.errors import ConfigError, InputError

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"format": "wpbridge-export", "a": ' + '{"b": ' * 50_000 + "1" + "}" * 50_000 + "}"
JUST_TOO_DEEP = "[" * 900 + "]" * 900  # under Python's recursion limit: parses, then breaks whoever walks it


def cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    base: dict[str, str | None] = {"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None, "WPBRIDGE_API_KEY": None,
                                   "WPBRIDGE_API_SECRET": None}
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})})


def one_clean_line(res: Result, code: int, *needles: str) -> None:
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.output and "RecursionError" not in res.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_the_safe_loader_refuses_deep_nesting_as_a_value_error() -> None:
    from wpbridge.jsonsafe import MAX_DEPTH, loads

    for text in (DEEP, DEEP_OBJECT, JUST_TOO_DEEP):
        with pytest.raises(json.JSONDecodeError, match=f"nested deeper than {MAX_DEPTH} levels"):
            loads(text)
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads(ok) is not None
    assert loads(json.dumps({"a": "[" * 500})) == {"a": "[" * 500}  # brackets in strings do not count
    assert loads(b'{"x": [1, {"y": "\\"[{"}]}') == {"x": [1, {"y": '"[{'}]}


def test_the_safe_loader_is_fast_on_a_big_flat_file() -> None:
    from wpbridge.jsonsafe import loads

    big = json.dumps([{"id": i, "name": f"n{i}", "tags": [1, 2, {"k": "v"}]} for i in range(200_000)])
    start = time.perf_counter()
    assert len(loads(big)) == 200_000
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJECT, JUST_TOO_DEEP])
def test_snapshot_too_deep_is_one_line_naming_the_file_exit_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text)
    one_clean_line(cli("products", "list", "--snapshot", str(path)), 2, str(path), "nested deeper")


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJECT])
def test_import_file_too_deep_names_the_file(tmp_path: Path, text: str) -> None:
    from wpbridge.workflows.importer_input import read_source

    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(str(path)) + ".*nested deeper"):
        read_source(path, "json")


def test_config_too_deep_is_one_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[networks.p]\nurl = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_settings(config_path=str(path), env={"HOME": str(tmp_path)})
    res = cli("check", "--config", str(path), env={"HOME": str(tmp_path)})
    one_clean_line(res, 2, str(path))


def test_a_deep_server_reply_is_one_error_line() -> None:
    url = "http://127.0.0.1:8999"
    env = {"WPBRIDGE_URL": url, "WPBRIDGE_API_KEY": "k", "WPBRIDGE_API_SECRET": "s"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for path in ("/wp-json/", "/wp-json/wu/v2/auth"):
            mock.add("GET", url + path, body=DEEP, content_type="application/json")
        mock.add("GET", re.compile(re.escape(url) + "/.*"), body=DEEP, content_type="application/json")
        res = cli("products", "list", env=env)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
