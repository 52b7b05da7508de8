"""Putting a UM build in place: a directory, a .zip or a .tar.xz as released, cached once per archive."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest

from wpbridge.sandbox import SandboxUsageError, um


def fake_build(root: Path) -> Path:
    plugin = root / "ultimate-multisite"
    (plugin / "inc").mkdir(parents=True)
    (plugin / "ultimate-multisite.php").write_text("<?php /* Plugin Name: Ultimate Multisite */\n")
    (plugin / "inc" / "class-cart.php").write_text("<?php\n")
    return plugin


def docroot(tmp: Path) -> Path:
    root = tmp / "wordpress"
    (root / "wp-content" / "plugins").mkdir(parents=True)
    return root


def installed(root: Path) -> set[str]:
    base = root / "wp-content" / "plugins" / "ultimate-multisite"
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}


@pytest.mark.parametrize("form", ["dir", "parent-dir", "zip", "tar.xz"])
def test_every_release_form_installs_the_same_tree(form: str, tmp_path: Path) -> None:
    plugin = fake_build(tmp_path / "src")
    if form == "dir":
        given = plugin
    elif form == "parent-dir":
        given = plugin.parent
    elif form == "zip":
        given = tmp_path / "ultimate-multisite-9.9.9.zip"
        with zipfile.ZipFile(given, "w") as zf:
            for f in plugin.rglob("*"):
                zf.write(f, f.relative_to(plugin.parent))
    else:
        given = tmp_path / "ultimate-multisite-9.9.9.tar.xz"
        with tarfile.open(given, "w:xz") as tf:
            tf.add(plugin, arcname="ultimate-multisite")
    assert um.resolve_plugin("ultimate-multisite", given) == given.resolve()
    root = docroot(tmp_path)
    um.install(given.resolve(), root, tmp_path / "cache")
    assert installed(root) == {"ultimate-multisite.php", "inc/class-cart.php"}
    assert (root / "wp-content" / "mu-plugins" / "um-compat.php").is_file()


def test_an_archive_is_unpacked_once_into_the_cache(tmp_path: Path) -> None:
    plugin = fake_build(tmp_path / "src")
    archive = tmp_path / "ultimate-multisite-1.0.tar.xz"
    with tarfile.open(archive, "w:xz") as tf:
        tf.add(plugin, arcname="ultimate-multisite")
    cache = tmp_path / "cache"
    um.install(archive, docroot(tmp_path / "a"), cache)
    um.install(archive, docroot(tmp_path / "b"), cache)
    assert len([p for p in cache.iterdir() if p.name.startswith("um-")]) == 1


def test_an_archive_that_escapes_its_folder_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.php", "<?php\n")
    with pytest.raises(um.SandboxError, match="unsafe member"):
        um.install(archive, docroot(tmp_path), tmp_path / "cache")
    assert not (tmp_path / "outside.php").exists()


def test_a_directory_without_the_plugin_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxUsageError, match=r"no ultimate-multisite\.php"):
        um.resolve_plugin("ultimate-multisite", tmp_path)


def test_flavor_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SandboxUsageError, match="--flavor 'um'"):
        um.resolve_plugin("um", None)
    with pytest.raises(SandboxUsageError, match="only for --flavor ultimate-multisite"):
        um.resolve_plugin("stub", tmp_path)
    assert um.resolve_plugin("stub", None) is None
    monkeypatch.setenv("WPBRIDGE_UM_PLUGIN", str(fake_build(tmp_path).parent))
    assert um.resolve_plugin("ultimate-multisite", None) == tmp_path.resolve()


def test_um_plugin_path_finds_builds_by_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WPBRIDGE_UM_PLUGIN", raising=False)
    monkeypatch.setenv("WPBRIDGE_UM_DIR", str(tmp_path))
    (tmp_path / "ultimate-multisite-2.4.12.tar.xz").write_bytes(b"")
    assert um.um_plugin_path("2.4.12") == tmp_path / "ultimate-multisite-2.4.12.tar.xz"
    monkeypatch.setenv("WPBRIDGE_UM_PLUGIN", str(tmp_path / "ultimate-multisite-2.4.12.tar.xz"))
    other = um.um_plugin_path("0.0.1-none")
    assert other is None or "0.0.1-none" in other.name  # the env build is for 2.4.12, not this version
