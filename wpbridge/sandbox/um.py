"""The real Ultimate Multisite in a sandbox (`--flavor ultimate-multisite`): find a build, put it in place, activate.

UM is not ours to ship: the user (or CI) points at a build, as a directory, a `.zip` or a `.tar.xz` laid out as UM
releases it (`ultimate-multisite/ultimate-multisite.php`, `inc/`, `vendor/`). An archive is unpacked once into the
sandbox cache (keyed by its size and mtime) and hard-linked into each sandbox, like WordPress itself: unpacking the
3.4 MB `.tar.xz` into 22 MB takes about a second, linking a few milliseconds.

Activation follows UM's own setup (recipe/um-activate.php, two PHP CLI boots): network-activate UM, mark its setup
wizard finished, save the API settings (the sandbox's key and secret, so one pair opens both UM's `wu/v2` and
plugin-stub's `wpbridge/v1`), then create UM's tables as the wizard does. plugin-stub stays network-active and
detects UM (UM mode: only the companion routes; UM is the system of record).

In test mode (WPBRIDGE_TEST_MODE) the sandbox also gets recipe/um-test-gateway.php, a must-use plugin registering a
test payment gateway `wpbridge-test` with UM (records what UM asks of it, succeeds or fails on demand): see
`install_test_gateway`. It is never installed otherwise, and it is not part of plugin-stub.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

from .errors import SandboxError, SandboxUsageError
from .shipped import recipe_file

FLAVORS = ("stub", "ultimate-multisite")
PLUGIN_DIR = "ultimate-multisite"
MAIN_FILE = "ultimate-multisite.php"
PLUGIN_BASENAME = f"{PLUGIN_DIR}/{MAIN_FILE}"
ENV_PLUGIN = "WPBRIDGE_UM_PLUGIN"
LATEST_RELEASE = "2.4.12"
# Where builds are looked up by version: $WPBRIDGE_UM_DIR, then the team's shared folder beside the checkout.
ENV_DIR = "WPBRIDGE_UM_DIR"
TEST_GATEWAY_FILE = "um-test-gateway.php"


def um_plugin_path(version: str = LATEST_RELEASE) -> Path | None:
    """A UM build of `version`: $WPBRIDGE_UM_PLUGIN when it is that version (or no version is in its name), else
    `ultimate-multisite-<version>.tar.xz|.zip` in $WPBRIDGE_UM_DIR or in `../shared/ultimate-multisite/` beside the
    repository. None when there is none (tests then fail in CI and skip elsewhere)."""
    env = os.environ.get(ENV_PLUGIN)
    if env and Path(env).exists() and (version in Path(env).name or not _has_version(Path(env).name)):
        return Path(env)
    dirs = [Path(d) for d in (os.environ.get(ENV_DIR),) if d]
    repo = Path(__file__).resolve().parents[2]
    dirs += [repo.parent / "shared" / "ultimate-multisite", Path("/work/shared/ultimate-multisite")]
    for folder in dirs:
        for suffix in (".tar.xz", ".zip", ""):
            candidate = folder / f"ultimate-multisite-{version}{suffix}"
            if candidate.exists():
                return candidate
    return None


def _has_version(name: str) -> bool:
    return any(ch.isdigit() for ch in name)


def resolve_plugin(flavor: str, um_plugin: str | Path | None) -> Path | None:
    """Check the flavor and the build before anything starts; None for the stub flavor."""
    if flavor not in FLAVORS:
        raise SandboxUsageError(f"--flavor {flavor!r}: expected one of {', '.join(FLAVORS)}")
    if flavor == "stub":
        if um_plugin:
            raise SandboxUsageError("--um-plugin is only for --flavor ultimate-multisite")
        return None
    given = um_plugin or os.environ.get(ENV_PLUGIN)
    if not given:
        raise SandboxUsageError(
            f"--flavor ultimate-multisite needs the Ultimate Multisite plugin: pass --um-plugin PATH or set "
            f"${ENV_PLUGIN} (a directory, a .zip or a .tar.xz of the plugin as released)"
        )
    path = Path(given).expanduser().resolve()
    source = "--um-plugin" if um_plugin else f"${ENV_PLUGIN}"
    if not path.exists():
        raise SandboxUsageError(f"{source} {given}: no such file or directory")
    if path.is_dir():
        if _plugin_root(path) is None:
            raise SandboxUsageError(f"{source} {given}: no {MAIN_FILE} in this directory or its {PLUGIN_DIR}/")
    elif not (path.name.endswith(".tar.xz") or path.name.endswith(".zip")):
        raise SandboxUsageError(f"{source} {given}: expected a directory, a .zip or a .tar.xz")
    return path


def _plugin_root(folder: Path) -> Path | None:
    """The directory holding ultimate-multisite.php: `folder` itself or its `ultimate-multisite/`."""
    for candidate in (folder, folder / PLUGIN_DIR):
        if (candidate / MAIN_FILE).is_file():
            return candidate
    return None


def install(plugin: Path, docroot: Path, cache: Path | None) -> None:
    """UM as wp-content/plugins/ultimate-multisite, and the compat must-use plugin (recipe/um-compat.php)."""
    source = plugin if plugin.is_dir() else _unpacked(plugin, cache)
    root = _plugin_root(source)
    if root is None:
        raise SandboxError(f"{plugin}: no {MAIN_FILE} inside (expected {PLUGIN_DIR}/{MAIN_FILE})")
    target = docroot / "wp-content" / "plugins" / PLUGIN_DIR
    target.mkdir(parents=True)
    if subprocess.run(["cp", "-al", f"{root}/.", f"{target}/"], capture_output=True, check=False).returncode != 0:
        shutil.rmtree(target)  # linking refused (another filesystem, protected_hardlinks): copy
        shutil.copytree(root, target, symlinks=False, ignore_dangling_symlinks=True)
    mu = docroot / "wp-content" / "mu-plugins"
    mu.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recipe_file("um-compat.php"), mu / "um-compat.php")


def install_test_gateway(docroot: Path) -> bool:
    """The test gateway (recipe/um-test-gateway.php) as a must-use plugin, for a sandbox in test mode that runs UM;
    False (nothing copied) when UM is not installed in `docroot`. The file also checks WPBRIDGE_TEST_MODE itself."""
    if not (docroot / "wp-content" / "plugins" / PLUGIN_DIR / MAIN_FILE).is_file():
        return False
    mu = docroot / "wp-content" / "mu-plugins"
    mu.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recipe_file(TEST_GATEWAY_FILE), mu / TEST_GATEWAY_FILE)
    return True


def _unpacked(archive: Path, cache: Path | None) -> Path:
    """The archive unpacked once per (name, size, mtime) into the cache; a private temp dir without a cache."""
    stat = archive.stat()
    key = hashlib.sha256(f"{archive.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    if cache is not None:
        final = cache / f"um-{key}"
        if _plugin_root(final) is not None:
            return final
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="um-unpack-", dir=cache))
    else:
        final = None
        work = Path(tempfile.mkdtemp(prefix="wpbridge-um-"))
    try:
        _extract(archive, work)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise SandboxError(f"{archive}: could not unpack: {exc}") from None
    if final is None:
        return work
    try:
        work.rename(final)  # atomic: concurrent sandboxes never see half a plugin
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another sandbox won the race; its copy is complete
    return final


def _extract(archive: Path, into: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise SandboxError(f"{archive}: unsafe member {name!r}")
            zf.extractall(into)
        return
    with tarfile.open(archive, "r:xz") as tf:
        tf.extractall(into, filter="data")  # refuses absolute paths, links out of the tree, devices
