"""DIR/sandbox.json: how a sandbox dir is claimed, and the file that describes the sandbox to other commands.

The file is created exclusively (O_EXCL) when `up` claims the dir, so two `up`s cannot share one; it is rewritten
atomically with mode 0600 from the first byte because it holds the credentials. `state` is starting, running,
stopped or failed.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import SandboxError, SandboxUsageError

INFO_FILE = "sandbox.json"


def claim_dir(dir: str | Path | None) -> Path:
    """A new or empty dir, claimed by creating DIR/sandbox.json exclusively (two `up`s cannot share a dir)."""
    if dir is None:
        root = Path(tempfile.mkdtemp(prefix="wpbridge-sandbox-", dir="/tmp"))
    else:
        root = Path(dir).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise SandboxUsageError(f"--dir {root}: exists and is not a directory")
        if (root / INFO_FILE).exists():
            state = read_info(root).get("state", "unknown")
            raise SandboxUsageError(
                f"--dir {root}: already holds a sandbox ({state}); use a new dir, or stop it with "
                f"`wpbridge sandbox down --dir {root} --purge` first"
            )
        if root.exists() and any(root.iterdir()):
            raise SandboxUsageError(f"--dir {root}: not empty; give a new or empty directory")
        root.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(root / INFO_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SandboxUsageError(f"--dir {root}: another sandbox is starting there") from None
    with os.fdopen(fd, "w") as fh:
        json.dump({"state": "starting", "dir": str(root), "started_at": now_iso()}, fh)
    return root


def read_info(root: Path) -> dict[str, Any]:
    path = root / INFO_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SandboxUsageError(f"--dir {root}: not a sandbox dir (no {INFO_FILE})") from None
    except (OSError, ValueError) as exc:
        raise SandboxError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise SandboxError(f"{path}: not a JSON object")
    return data


def write_info(root: Path, info: dict[str, Any]) -> None:
    """Atomic replace, mode 0600 from the first byte (the file holds the credentials)."""
    tmp = root / f".{INFO_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, root / INFO_FILE)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
