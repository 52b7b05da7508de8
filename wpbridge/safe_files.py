"""The one way wpbridge writes a file it is asked for (`import --report`, `sync --report`, `export --out`).

- The content goes to a temporary file next to the target, created exclusively (`O_CREAT | O_EXCL`, `O_NOFOLLOW`)
  under a random name, mode 0600: a symlink or file planted there (at any name) is never followed nor reused.
- It is renamed into place only when complete (a failed write leaves no half file); the rename replaces a symlink
  at the target itself, never the file it points to.
- An output path that is one of the run's inputs (the import file, the config file) is refused before the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import InputError

FILE_MODE = 0o600
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def config_file(config_path: str | os.PathLike[str] | None) -> Path:
    """The config file a command reads (`--config`, `$WPBRIDGE_CONFIG`, else the default), as config.py finds it."""
    from .config import _config_path

    return _config_path(config_path, os.environ)[0]


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.expanduser().resolve() == b.expanduser().resolve()


def refuse_inputs(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None], *,
                  option: str) -> None:
    """InputError when `path` (an output) is, or points to, one of `inputs` (or its temporary sibling would)."""
    target = Path(path).expanduser()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).expanduser()
        if _same(target, source):
            raise InputError(f"{option} {path}: is an input of this run ({source}); choose another file")


@contextmanager
def open_private(path: str | os.PathLike[str], *, mode: int = FILE_MODE) -> Iterator[IO[str]]:
    """A text file to write `path` through: created exclusively next to it (0600, no symlink followed), renamed
    onto `path` when the block ends without an error, removed otherwise. `mode` (less the umask) for a file that
    other users must read (`sync --metrics`, read by node_exporter; it holds no secret)."""
    target = Path(path).expanduser()
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.partial")
    fd = os.open(tmp, _FLAGS, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private(path: str | os.PathLike[str], text: str | Callable[[IO[str]], object], *,
                  mode: int = FILE_MODE) -> None:
    """`text` (or what the callable writes) into `path`, complete or not at all, 0600 (or `mode`)."""
    with open_private(path, mode=mode) as fh:
        if isinstance(text, str):
            fh.write(text)
        else:
            text(fh)


def remove_stale(path: str | os.PathLike[str], *, option: str = "--report") -> None:
    """A report left by an earlier (killed) run must never pass for this run's: it goes before the run starts."""
    try:
        Path(path).expanduser().unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot remove the earlier report: {exc.strerror}") from None
