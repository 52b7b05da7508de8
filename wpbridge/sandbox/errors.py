"""The sandbox's two ways of failing, mapped onto the project's hierarchy so the CLI's exit codes apply."""

from __future__ import annotations

from ..errors import InputError, WPBridgeError


class SandboxError(WPBridgeError):
    """The sandbox could not start or stop (missing packages, a process that died, a step that failed): exit 1."""


class SandboxUsageError(InputError):
    """The request itself is wrong (a used dir, a busy or bad port, a bad option value): exit 2."""
