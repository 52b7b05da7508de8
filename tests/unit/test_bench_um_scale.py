"""bench/um_scale.py's pure parts: the RESULTS.md section it rewrites keeps the subsections other benchmarks wrote
in it, the export it imports gives each bulk customer its own user, and a size measured only in part renders."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "um_scale.py"


@pytest.fixture(scope="module")
def um_scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_um_scale", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RESULTS = """# Benchmark results

## Sync

stub figures

## Sync on the real Ultimate Multisite

old table

### UM's limits computed in bulk (issue 22)

kept text

## Import

import figures
"""


def test_the_section_is_replaced_and_its_subsections_kept(um_scale: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(RESULTS)
    um_scale.write_results(path, "## Sync on the real Ultimate Multisite\n\nnew table\n")
    text = path.read_text()
    assert "old table" not in text
    assert "new table" in text
    assert text.index("new table") < text.index("### UM's limits computed in bulk") < text.index("kept text")
    assert text.index("kept text") < text.index("## Import") and "import figures" in text
    assert "stub figures" in text


def test_a_missing_section_is_appended(um_scale: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## Sync\n\nstub figures\n")
    um_scale.write_results(path, "## Sync on the real Ultimate Multisite\n\nnew table\n")
    assert path.read_text().endswith("## Sync\n\nstub figures\n\n## Sync on the real Ultimate Multisite\n\nnew table\n")


def test_bulk_customers_get_their_own_user(um_scale: ModuleType, tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"customers": [
        {"id": 1, "user_id": 2, "user_email": "alice@example.org", "user_login": "alice"},
        {"id": 13, "user_id": 1, "user_email": "admin@example.com", "user_login": "admin"},
        {"id": 14, "user_id": 1, "user_email": "admin@example.com", "user_login": "admin"},
    ]}))
    out = tmp_path / "import.json"
    assert um_scale.own_users(export, out) == 2
    customers = json.loads(out.read_text())["customers"]
    assert [c["user_email"] for c in customers] == ["alice@example.org", "bulk13@example.org", "bulk14@example.org"]
    assert [c["user_login"] for c in customers] == ["alice", "bulk13", "bulk14"]


def test_a_size_measured_in_part_renders(um_scale: ModuleType) -> None:
    run = {"wall_s": 10.9, "cpu_s": 0.74, "requests": 24, "peak_rss_kb": 65148, "load1": 8.47}
    text = um_scale.render([{"n": 1000, "list": {**run, "records": 1012}}], ["- a note"], "2026-12-03")
    assert "| 1,000 | memberships list | 10.9 | 0.74 | 24 | - | 0 | 63.6 | 8.47 |" in text
    assert "| 1,000 | - | 1,012 | - | - | - | - | - | - |" in text
    assert text.rstrip().endswith("- a note")


def test_a_failed_import_run_is_shown_as_failed(um_scale: ModuleType) -> None:
    first = {"wall_s": 693.1, "cpu_s": 2.1, "requests": 559, "writes": 9045, "peak_rss_kb": 70000, "load1": 8.0}
    second = {"wall_s": 95.0, "cpu_s": 1.0, "rc": 1, "peak_rss_kb": 60000, "load1": 9.0,
              "error": "error: 127.0.0.1:1 did not answer within 30 s"}
    text = um_scale.render([{"n": 3000, "import": {"first": first, "second": second}}], [], "2026-12-03")
    assert "| 3,000 | import into a fresh network | 693.1 | 2.1 | 559 | - | 9,045 |" in text
    assert "| 3,000 | import again (nothing to do): **failed** (exit 1) | 95.0 | 1.0 | - |" in text


def test_a_read_timeout_goes_to_a_config_file(um_scale: ModuleType, tmp_path: Path) -> None:
    class Target:
        url, api_key, api_secret = "http://127.0.0.1:1", "key", "secret"

    env = um_scale.target_env(Target(), tmp_path, 300.0)
    assert "WPBRIDGE_URL" not in env and env["WPBRIDGE_NETWORK"] == "target"
    config = Path(env["WPBRIDGE_CONFIG"])
    assert "timeout = [10, 300]" in config.read_text() and config.stat().st_mode & 0o077 == 0
    assert um_scale.target_env(Target(), tmp_path, None)["WPBRIDGE_URL"] == "http://127.0.0.1:1"
