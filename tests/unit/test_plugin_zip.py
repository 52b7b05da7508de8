"""`make plugin-zip` (wpbridge.plugin_zip): dist/wpbridge.zip holds one top directory `wpbridge/` whose main file
says `Plugin Name: wpbridge`, the files a network runs and nothing of the sandbox's tests (issue 21 item 1)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from wpbridge.plugin_zip import PluginZipError, build, plugin_source

ROOT = Path(__file__).resolve().parents[2]


def test_one_top_directory_named_wpbridge_with_the_main_file(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "wpbridge.zip"
    names = build(out)
    with zipfile.ZipFile(out) as zf:
        listed = zf.namelist()
        main = zf.read("wpbridge/wpbridge.php").decode()
        assert zf.testzip() is None
    assert {n.split("/", 1)[0] for n in listed} == {"wpbridge"} and set(names) <= set(listed)
    assert re.search(r"^ \* Plugin Name: wpbridge$", main, re.M) and "Network: true" in main
    assert {"wpbridge/uninstall.php", "wpbridge/readme.txt", "wpbridge/includes/keys.php",
            "wpbridge/tools/activate.php", "wpbridge/tools/key.php"} <= set(listed)
    php = sorted(p.name for p in (plugin_source() / "includes").glob("*.php"))
    includes = [n.rsplit("/", 1)[1] for n in listed if n.startswith("wpbridge/includes/") and n.endswith(".php")]
    assert sorted(includes) == php


def test_nothing_of_the_sandbox_tests_nor_development_files(tmp_path: Path) -> None:
    out = tmp_path / "wpbridge.zip"
    build(out)
    recipe = {p.name for p in (ROOT / "wpbridge" / "sandbox" / "recipe").glob("*.php")}
    with zipfile.ZipFile(out) as zf:
        base = {n.rsplit("/", 1)[-1] for n in zf.namelist() if not n.endswith("/")}
    assert not base & recipe  # test-faults.php, um-test-gateway.php, the install recipe
    assert not any(n.endswith(".py") or n.startswith("test") for n in base), base
    assert "wpbridge-stub.php" not in base


def test_the_same_sources_give_the_same_bytes(tmp_path: Path) -> None:
    build(tmp_path / "a.zip")
    build(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_source_whose_header_is_not_wpbridge_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "plugin-stub"
    shutil.copytree(plugin_source(), source)
    main = source / "wpbridge-stub.php"
    main.write_text(main.read_text().replace("Plugin Name: wpbridge\n", "Plugin Name: wpbridge stub\n"))
    with pytest.raises(PluginZipError, match="Plugin Name: wpbridge"):
        build(tmp_path / "x.zip", source)
    assert not (tmp_path / "x.zip").exists()


def test_make_plugin_zip_writes_dist_wpbridge_zip_and_dist_is_ignored(tmp_path: Path) -> None:
    dry = subprocess.run(["make", "-n", "plugin-zip"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "wpbridge.plugin_zip dist/wpbridge.zip" in dry.stdout
    assert re.search(r"^dist/$", (ROOT / ".gitignore").read_text(), re.M)
