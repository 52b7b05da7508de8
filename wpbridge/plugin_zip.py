"""`make plugin-zip`: `dist/wpbridge.zip`, the WordPress side as a network owner installs it (Network Admin →
Plugins → Add New → Upload, or unzipped into `wp-content/plugins/`).

One top directory `wpbridge/` whose main file is `wpbridge.php` (plugin-stub's `wpbridge-stub.php`, whose header
says `Plugin Name: wpbridge`); the source directory stays `plugin-stub/`. Only the files a network runs go in,
listed here: the main file, `includes/*.php`, `uninstall.php`, `readme.txt`, `README.md` (the route contract) and
the command-line tools for servers without WP-CLI (`tools/activate.php`, `tools/key.php`, `tools/boot.php`).
Development files (`tools/bench.py`) and the sandbox's test-only must-use plugins (`wpbridge/sandbox/recipe/`:
`test-faults.php`, `um-test-gateway.php`, which live outside plugin-stub) never do. The zip is reproducible: the
same sources give the same bytes (fixed timestamps and modes, sorted entries).

    python -m wpbridge.plugin_zip [OUT]     (default dist/wpbridge.zip; prints OUT and the number of files)
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

TOP = "wpbridge"
MAIN_SOURCE = "wpbridge-stub.php"
MAIN_IN_ZIP = "wpbridge.php"
PLUGIN_NAME = "wpbridge"
FILES = ("readme.txt", "README.md", "uninstall.php", "tools/activate.php", "tools/boot.php", "tools/key.php")
"""What goes in beside the main file and `includes/*.php` (paths inside plugin-stub/)."""
DATE = (2026, 1, 1, 0, 0, 0)
"""Every entry's timestamp, so that a rebuild from the same sources gives the same bytes."""


class PluginZipError(Exception):
    """The plugin's sources are missing or not what the zip promises."""


def plugin_source() -> Path:
    """plugin-stub/ of the checkout, else the copy shipped inside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "plugin-stub", here / "sandbox" / "plugin-stub"):
        if (candidate / MAIN_SOURCE).is_file():
            return candidate
    raise PluginZipError(f"plugin-stub not found (looked for {MAIN_SOURCE} beside {here})")


def members(source: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file) of every entry, sorted by name."""
    found = [(f"{TOP}/{MAIN_IN_ZIP}", source / MAIN_SOURCE)]
    found += [(f"{TOP}/{name}", source / name) for name in FILES]
    found += [(f"{TOP}/includes/{php.name}", php) for php in sorted((source / "includes").glob("*.php"))]
    missing = [str(path) for _, path in found if not path.is_file()]
    if missing:
        raise PluginZipError(f"missing from {source}: {', '.join(missing)}")
    header = (source / MAIN_SOURCE).read_text(encoding="utf-8")[:8192]
    if f"Plugin Name: {PLUGIN_NAME}\n" not in header:
        raise PluginZipError(f"{source / MAIN_SOURCE}: the header must say 'Plugin Name: {PLUGIN_NAME}'")
    return sorted(found)


def build(out: Path, source: Path | None = None) -> list[str]:
    """Write the zip to `out` (through a temporary file renamed into place); returns the names it holds."""
    entries = members(source or plugin_source())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for directory in sorted({f"{TOP}/"} | {name.rsplit("/", 1)[0] + "/" for name, _ in entries}):
            info = zipfile.ZipInfo(directory, DATE)
            info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(info, b"")
        for name, path in entries:
            info = zipfile.ZipInfo(name, DATE)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    partial.replace(out)
    return [name for name, _ in entries]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python -m wpbridge.plugin_zip [OUT]", file=sys.stderr)
        return 2
    out = Path(args[0] if args else "dist/wpbridge.zip")
    try:
        names = build(out)
    except (PluginZipError, OSError) as err:
        print(f"error: plugin zip: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({len(names)} files in {TOP}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
